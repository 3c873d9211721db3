package docdoc

import (
	"bytes"
	"encoding/json"

	"github.com/google/uuid"
)

// SpecVersion is the value of specVersion in every docdoc/1 document.
const SpecVersion = "docdoc/1"

// MediaType is the media type of a document package, and the content of
// its mimetype entry.
const MediaType = "application/vnd.egovkit.docdoc+zip"

// DocumentMediaType is the media type of a document's JSON form.
const DocumentMediaType = "application/vnd.egovkit.docdoc+json"

// Type is the document type (文种), one of the 15 types of
// 党政机关公文处理工作条例 第八条.
type Type string

// The 15 document types (条例 第八条).
const (
	TypeResolution   Type = "resolution"   // 决议
	TypeDecision     Type = "decision"     // 决定
	TypeOrder        Type = "order"        // 命令(令)
	TypeCommunique   Type = "communique"   // 公报
	TypeAnnouncement Type = "announcement" // 公告
	TypePublicNotice Type = "publicNotice" // 通告
	TypeOpinion      Type = "opinion"      // 意见
	TypeNotice       Type = "notice"       // 通知
	TypeCircular     Type = "circular"     // 通报
	TypeReport       Type = "report"       // 报告
	TypeRequest      Type = "request"      // 请示
	TypeReply        Type = "reply"        // 批复
	TypeMotion       Type = "motion"       // 议案
	TypeLetter       Type = "letter"       // 函
	TypeMinutes      Type = "minutes"      // 纪要
)

// Types lists the 15 document types in the order of 条例 第八条.
var Types = []Type{
	TypeResolution, TypeDecision, TypeOrder, TypeCommunique, TypeAnnouncement,
	TypePublicNotice, TypeOpinion, TypeNotice, TypeCircular, TypeReport,
	TypeRequest, TypeReply, TypeMotion, TypeLetter, TypeMinutes,
}

var typeNames = map[Type]string{
	TypeResolution: "决议", TypeDecision: "决定", TypeOrder: "命令(令)", TypeCommunique: "公报",
	TypeAnnouncement: "公告", TypePublicNotice: "通告", TypeOpinion: "意见", TypeNotice: "通知",
	TypeCircular: "通报", TypeReport: "报告", TypeRequest: "请示", TypeReply: "批复",
	TypeMotion: "议案", TypeLetter: "函", TypeMinutes: "纪要",
}

// Chinese returns the type's Chinese name, such as 通知, or "" for an
// unknown type.
func (t Type) Chinese() string { return typeNames[t] }

// Upward reports whether documents of this type go to a higher organ
// (上行文: 请示 and 报告), which must name their signers (条例 第九条).
func (t Type) Upward() bool { return t == TypeRequest || t == TypeReport }

// Level is a classification level (密级).
type Level string

// Classification levels (密级), lowest first.
const (
	LevelConfidential Level = "confidential" // 秘密
	LevelSecret       Level = "secret"       // 机密
	LevelTopSecret    Level = "topSecret"    // 绝密
)

// Urgency is the urgency (紧急程度) of a document; "" is normal.
type Urgency string

// Urgencies (条例 第九条).
const (
	UrgencyUrgent      Urgency = "urgent"      // 加急
	UrgencyExtraUrgent Urgency = "extraUrgent" // 特急
)

// DigestAlgorithm names a content digest algorithm.
type DigestAlgorithm string

// Digest algorithms.
const (
	SHA256 DigestAlgorithm = "sha256" // FIPS 180-4
	SM3    DigestAlgorithm = "sm3"    // GB/T 32905-2016
)

// Document is an official document (公文) in the docdoc/1 format. Its
// JSON form is fixed by the schema that [Schema] returns; see the package
// documentation for the elements and RULES.md for the rules.
type Document struct {
	SpecVersion     string          `json:"specVersion"`               // always [SpecVersion]
	ID              string          `json:"id"`                        // UUIDv7 (公文标识)
	Type            Type            `json:"type"`                      // 文种
	CopyNumber      string          `json:"copyNumber,omitempty"`      // 份号, six digits
	Classification  *Classification `json:"classification,omitempty"`  // 密级和保密期限
	Urgency         Urgency         `json:"urgency,omitempty"`         // 紧急程度
	Issuers         []Organ         `json:"issuers"`                   // 发文机关; the first is the lead organ
	DocNumber       string          `json:"docNumber,omitempty"`       // 发文字号, see [ParseDocNumber]
	Signers         []string        `json:"signers,omitempty"`         // 签发人
	Title           string          `json:"title"`                     // 标题
	MainRecipients  []Organ         `json:"mainRecipients,omitempty"`  // 主送机关
	Body            Body            `json:"body"`                      // 正文
	AttachmentNotes []string        `json:"attachmentNotes,omitempty"` // 附件说明, one per attachment
	Signatory       []string        `json:"signatory,omitempty"`       // 发文机关署名
	Date            string          `json:"date"`                      // 成文日期, YYYY-MM-DD
	Signatures      []Signature     `json:"signatures,omitempty"`      // 印章
	Notes           string          `json:"notes,omitempty"`           // 附注
	Attachments     []Attachment    `json:"attachments,omitempty"`     // 附件
	CC              []Organ         `json:"cc,omitempty"`              // 抄送机关
	PrintedBy       string          `json:"printedBy,omitempty"`       // 印发机关
	PrintDate       string          `json:"printDate,omitempty"`       // 印发日期, YYYY-MM-DD
}

// Classification is the security classification and its period
// (密级和保密期限). A classified document also carries a copy number.
type Classification struct {
	Level  Level  `json:"level,omitempty"`  // 密级
	Period string `json:"period,omitempty"` // 保密期限, such as "10年"
}

// Organ is a state organ (机关) or other organisation, identified by its
// unified social credit identifier (统一社会信用代码, see [CheckOrgID]).
// OrgID may be empty only for a collective recipient (such as
// 各区县人民政府); issuers always carry one.
type Organ struct {
	Name  string `json:"name"`
	OrgID string `json:"orgId,omitempty"`
}

// Body is the body (正文): inline text (MediaType and Text), or a file in
// the document package at body/File (MediaType, File, Size and Digest).
type Body struct {
	MediaType string  `json:"mediaType"`
	Text      string  `json:"text,omitempty"`
	File      string  `json:"file,omitempty"`
	Size      *int64  `json:"size,omitempty"`
	Digest    *Digest `json:"digest,omitempty"`
}

// IsFile reports whether the body is a package file rather than inline text.
func (b *Body) IsFile() bool { return b.File != "" }

// Attachment is an attachment (附件), carried in the document package as
// attachments/Name. [Pack] fills in Size and Digest when Digest is nil.
type Attachment struct {
	Name      string  `json:"name"`
	MediaType string  `json:"mediaType"`
	Size      int64   `json:"size"`
	Digest    *Digest `json:"digest,omitempty"`
}

// Digest is a content digest as lowercase hexadecimal.
type Digest struct {
	Alg   DigestAlgorithm `json:"alg"`
	Value string          `json:"value"`
}

// Signature is one seal (印章): a detached JWS in the flattened JSON
// serialisation (RFC 7515 §7.2.2). The signature package creates and
// checks them; docdoc only carries them.
type Signature struct {
	Protected string         `json:"protected"`
	Signature string         `json:"signature"`
	Header    map[string]any `json:"header,omitempty"`
}

// New returns a document of type t with its format version and a fresh
// UUIDv7 identifier; the caller fills in the rest.
func New(t Type) *Document {
	return &Document{SpecVersion: SpecVersion, ID: uuid.Must(uuid.NewV7()).String(), Type: t}
}

// Marshal returns the document's JSON form, indented, with no HTML
// escaping. It does not validate; call [Validate] for that.
func Marshal(doc *Document) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
