package docdoc_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/egovkit/egovkit/docdoc"
	"github.com/egovkit/egovkit/internal/strictjson"
)

// The conformance suite in testdata/conformance is language-neutral: a
// manifest of cases, each a document file that is valid or that must raise
// exactly the listed rule ids. This file both runs it and, with -update,
// regenerates it from the cases below.
var update = flag.Bool("update", false, "rewrite testdata/conformance from the case table")

const conformanceDir = "testdata/conformance"

type manifest struct {
	Suite       string  `json:"suite"`
	SpecVersion string  `json:"specVersion"`
	SchemaID    string  `json:"schema"`
	About       string  `json:"about"`
	Cases       []mcase `json:"cases"`
}

type mcase struct {
	ID          string   `json:"id"`
	File        string   `json:"file"`
	Description string   `json:"description"`
	Valid       bool     `json:"valid"`
	Rules       []string `json:"rules,omitempty"`
}

// Organs of the suite. Their unified social credit identifiers are made up
// for testing, with check characters computed by GB 32100-2015.
var (
	cqGov   = docdoc.Organ{Name: "重庆市人民政府", OrgID: "11500000MB1541240B"}
	cqNDRC  = docdoc.Organ{Name: "重庆市发展和改革委员会", OrgID: "11500000MB16089308"}
	cqFin   = docdoc.Organ{Name: "重庆市财政局", OrgID: "11500000MB1972360U"}
	cqEcon  = docdoc.Organ{Name: "重庆市经济和信息化委员会", OrgID: "11500000MB1802110J"}
	yuzhong = docdoc.Organ{Name: "重庆市渝中区人民政府", OrgID: "11500103MB1548100L"}
	allDist = docdoc.Organ{Name: "各区县（自治县）人民政府"}
)

var sampleDigest = &docdoc.Digest{Alg: docdoc.SHA256, Value: "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447"}

// base returns a minimal valid document of type t, with the fields that
// type needs.
func base(t docdoc.Type, n int) *docdoc.Document {
	d := &docdoc.Document{
		SpecVersion: docdoc.SpecVersion,
		ID:          fmt.Sprintf("01936f8e-7b2a-7c3d-9e4f-%012x", n),
		Type:        t,
		Issuers:     []docdoc.Organ{cqGov},
		DocNumber:   fmt.Sprintf("渝府发〔2025〕%d号", n),
		Title:       "重庆市人民政府关于" + t.Chinese() + "示例的" + t.Chinese(),
		Body:        docdoc.Body{MediaType: "text/plain", Text: "正文。"},
		Signatory:   []string{cqGov.Name},
		Date:        "2025-03-18",
	}
	switch t {
	case docdoc.TypeRequest, docdoc.TypeReport:
		d.Issuers = []docdoc.Organ{yuzhong}
		d.DocNumber = fmt.Sprintf("渝中府〔2025〕%d号", n)
		d.Signers = []string{"张三"}
		d.MainRecipients = []docdoc.Organ{cqGov}
		d.Signatory = []string{yuzhong.Name}
	case docdoc.TypeAnnouncement, docdoc.TypePublicNotice, docdoc.TypeCommunique:
		// Published to the public: no main recipient.
	case docdoc.TypeOrder:
		d.DocNumber = fmt.Sprintf("第%d号", n)
	default:
		d.MainRecipients = []docdoc.Organ{allDist}
	}
	d.Title = d.Issuers[0].Name + "关于" + t.Chinese() + "示例的" + t.Chinese()
	return d
}

type confCase struct {
	id, desc string
	doc      *docdoc.Document
	mutate   func(m map[string]any) // applied to the JSON tree, for shapes Go types can't hold
	raw      []byte                 // exact bytes, for strict-reading cases
	rules    []string               // nil: valid
}

func conformanceCases() []confCase {
	var cs []confCase
	for i, t := range docdoc.Types {
		cs = append(cs, confCase{id: "valid-type-" + string(t), desc: "a minimal valid " + string(t) + " (" + t.Chinese() + ")", doc: base(t, i+1)})
	}
	joint := base(docdoc.TypeNotice, 20)
	joint.Issuers = []docdoc.Organ{cqNDRC, cqFin}
	joint.DocNumber = "渝发改投〔2025〕128号"
	joint.Signatory = []string{cqNDRC.Name, cqFin.Name}
	joint.MainRecipients = []docdoc.Organ{allDist, cqEcon}
	joint.CC = []docdoc.Organ{{Name: "重庆市审计局"}}
	joint.Urgency = docdoc.UrgencyUrgent
	joint.AttachmentNotes = []string{"1．2025年政府投资项目资金安排表", "2.项目清单.pdf"}
	joint.Attachments = []docdoc.Attachment{
		{Name: "2025年政府投资项目资金安排表.xlsx", MediaType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Size: 11, Digest: sampleDigest},
		{Name: "项目清单.pdf", MediaType: "application/pdf", Size: 11, Digest: &docdoc.Digest{Alg: docdoc.SM3, Value: strings.Repeat("0a", 32)}},
	}
	joint.Notes = "（此件公开发布）"
	joint.PrintedBy = "重庆市发展和改革委员会办公室"
	joint.PrintDate = "2025-03-19"
	cs = append(cs, confCase{id: "valid-joint-notice", desc: "a joint notice (联合行文) of two organs with attachments, cc and printing data", doc: joint})

	secret := base(docdoc.TypeDecision, 21)
	secret.Classification = &docdoc.Classification{Level: docdoc.LevelSecret, Period: "10年"}
	secret.CopyNumber = "000021"
	secret.Urgency = docdoc.UrgencyExtraUrgent
	cs = append(cs, confCase{id: "valid-classified", desc: "a classified (机密★10年), extra-urgent decision with its copy number", doc: secret})

	fileBody := base(docdoc.TypeLetter, 22)
	size := int64(2048)
	fileBody.Body = docdoc.Body{MediaType: "application/ofd", File: "正文.ofd", Size: &size, Digest: sampleDigest}
	cs = append(cs, confCase{id: "valid-body-file", desc: "a letter whose body is an OFD file in the package", doc: fileBody})

	signed := base(docdoc.TypeReply, 23)
	signed.Signatures = []docdoc.Signature{{Protected: "eyJhbGciOiJFZERTQSJ9", Signature: "c2lnbmF0dXJl"}}
	cs = append(cs, confCase{id: "valid-with-signatures", desc: "a reply carrying a seal in signatures (its cryptography is checked by the signature package, not here)", doc: signed})

	cs = append(cs, confCase{id: "valid-empty-signatures", desc: "a notice with an empty signatures list, the same document as one without", doc: base(docdoc.TypeNotice, 24),
		mutate: func(m map[string]any) { m["signatures"] = []any{} }})

	inv := func(id, desc string, t docdoc.Type, change func(d *docdoc.Document), rules ...string) {
		d := base(t, 100+len(cs))
		change(d)
		cs = append(cs, confCase{id: id, desc: desc, doc: d, rules: rules})
	}
	tree := func(id, desc string, t docdoc.Type, mutate func(m map[string]any), rules ...string) {
		cs = append(cs, confCase{id: id, desc: desc, doc: base(t, 100+len(cs)), mutate: mutate, rules: rules})
	}
	raw := func(id, desc, text string, rules ...string) {
		cs = append(cs, confCase{id: id, desc: desc, raw: []byte(text), rules: rules})
	}

	// Classification (条例 第九条).
	inv("classified-without-copy-number", "a classified document without 份号", docdoc.TypeNotice, func(d *docdoc.Document) {
		d.Classification = &docdoc.Classification{Level: docdoc.LevelConfidential, Period: "5年"}
	}, "docdoc.classification.copy-number")
	inv("classified-without-period", "a classified document without 保密期限", docdoc.TypeOpinion, func(d *docdoc.Document) {
		d.Classification = &docdoc.Classification{Level: docdoc.LevelTopSecret}
		d.CopyNumber = "000001"
	}, "docdoc.classification.period-required")
	inv("period-without-level", "a 保密期限 without a 密级", docdoc.TypeCircular, func(d *docdoc.Document) {
		d.Classification = &docdoc.Classification{Period: "10年"}
		d.CopyNumber = "000001"
	}, "docdoc.classification.level-required")
	inv("classification-bad-period", "a 保密期限 in Chinese numerals", docdoc.TypeNotice, func(d *docdoc.Document) {
		d.Classification = &docdoc.Classification{Level: docdoc.LevelSecret, Period: "十年"}
		d.CopyNumber = "000001"
	}, "docdoc.classification.period-format")
	tree("classification-bad-level", "an unknown 密级", docdoc.TypeNotice, func(m map[string]any) {
		m["classification"] = map[string]any{"level": "internal", "period": "1年"}
		m["copyNumber"] = "000001"
	}, "docdoc.classification.level")
	inv("copy-number-five-digits", "a 份号 of five digits", docdoc.TypeNotice, func(d *docdoc.Document) { d.CopyNumber = "00001" }, "docdoc.copy-number.format")

	// Upward documents (条例 第九条, 第十五条).
	inv("request-without-signers", "a request without 签发人", docdoc.TypeRequest, func(d *docdoc.Document) { d.Signers = nil }, "docdoc.upward.signers")
	inv("report-without-signers", "a report without 签发人", docdoc.TypeReport, func(d *docdoc.Document) { d.Signers = nil }, "docdoc.upward.signers")
	inv("request-two-recipients", "a request to two main recipients", docdoc.TypeRequest, func(d *docdoc.Document) {
		d.MainRecipients = []docdoc.Organ{cqGov, cqNDRC}
	}, "docdoc.request.single-recipient")
	inv("request-no-recipient", "a request without a main recipient", docdoc.TypeRequest, func(d *docdoc.Document) { d.MainRecipients = nil }, "docdoc.request.single-recipient")

	// Document numbers (GB/T 9704-2012 7.2.4).
	inv("doc-number-square-brackets", "渝府发[2012]12号: square brackets", docdoc.TypeNotice, func(d *docdoc.Document) { d.DocNumber = "渝府发[2012]12号" }, "docdoc.doc-number.brackets")
	inv("doc-number-fullwidth-parens", "渝府发（2012）12号: full-width parentheses", docdoc.TypeNotice, func(d *docdoc.Document) { d.DocNumber = "渝府发（2012）12号" }, "docdoc.doc-number.brackets")
	inv("doc-number-leading-zero", "渝府发〔2012〕012号: a leading zero", docdoc.TypeNotice, func(d *docdoc.Document) { d.DocNumber = "渝府发〔2012〕012号" }, "docdoc.doc-number.leading-zero")
	inv("doc-number-di", "渝府发〔2012〕第12号: 第 before the number", docdoc.TypeNotice, func(d *docdoc.Document) { d.DocNumber = "渝府发〔2012〕第12号" }, "docdoc.doc-number.di")
	inv("doc-number-short-year", "渝府发〔12〕12号: a two-digit year", docdoc.TypeNotice, func(d *docdoc.Document) { d.DocNumber = "渝府发〔12〕12号" }, "docdoc.doc-number.year")
	inv("doc-number-no-hao", "渝府发〔2012〕12: no 号", docdoc.TypeNotice, func(d *docdoc.Document) { d.DocNumber = "渝府发〔2012〕12" }, "docdoc.doc-number.format")
	inv("doc-number-no-code", "〔2012〕12号: no 机关代字", docdoc.TypeNotice, func(d *docdoc.Document) { d.DocNumber = "〔2012〕12号" }, "docdoc.doc-number.format")
	inv("doc-number-all-wrong", "渝府发[2012]第012号: brackets, 第 and a leading zero at once", docdoc.TypeNotice, func(d *docdoc.Document) { d.DocNumber = "渝府发[2012]第012号" },
		"docdoc.doc-number.brackets", "docdoc.doc-number.di", "docdoc.doc-number.leading-zero")
	inv("order-number-on-notice", "第12号 (an order number) on a notice", docdoc.TypeNotice, func(d *docdoc.Document) { d.DocNumber = "第12号" }, "docdoc.doc-number.format")

	// Unified social credit identifiers (GB 32100-2015).
	inv("org-id-check-digit", "an issuer whose identifier has a wrong check character", docdoc.TypeNotice, func(d *docdoc.Document) {
		d.Issuers = []docdoc.Organ{{Name: cqGov.Name, OrgID: "11500000MB1541241B"}}
	}, "docdoc.org-id.check-digit")
	inv("org-id-recipient-check-digit", "a main recipient whose identifier has a wrong check character", docdoc.TypeNotice, func(d *docdoc.Document) {
		d.MainRecipients = []docdoc.Organ{{Name: cqFin.Name, OrgID: "11500000MB1972360W"}}
	}, "docdoc.org-id.check-digit")
	inv("org-id-letter-i", "an identifier with the letter I, outside the GB 32100 character set", docdoc.TypeNotice, func(d *docdoc.Document) {
		d.CC = []docdoc.Organ{{Name: "某单位", OrgID: "11500000MI1541240B"}}
	}, "docdoc.org-id.format")
	inv("org-id-short", "an identifier of 15 characters (the old registration number)", docdoc.TypeNotice, func(d *docdoc.Document) {
		d.Issuers = []docdoc.Organ{{Name: cqGov.Name, OrgID: "500000000012345"}}
	}, "docdoc.org-id.format")
	tree("issuer-without-org-id", "an issuer without orgId", docdoc.TypeNotice, func(m map[string]any) {
		m["issuers"] = []any{map[string]any{"name": "重庆市人民政府"}}
	}, "docdoc.schema.required")
	inv("joint-duplicate-issuer", "a joint document naming the same organ twice", docdoc.TypeNotice, func(d *docdoc.Document) {
		d.Issuers = []docdoc.Organ{cqNDRC, cqNDRC}
	}, "docdoc.issuers.unique")

	// Dates.
	inv("date-february-30", "成文日期 2025-02-30", docdoc.TypeNotice, func(d *docdoc.Document) { d.Date = "2025-02-30" }, "docdoc.date.invalid")
	inv("date-chinese", "成文日期 written 2025年3月18日", docdoc.TypeNotice, func(d *docdoc.Document) { d.Date = "2025年3月18日" }, "docdoc.date.format")
	inv("date-after-print-date", "成文日期 after 印发日期", docdoc.TypeNotice, func(d *docdoc.Document) {
		d.PrintedBy = "重庆市人民政府办公厅"
		d.PrintDate = "2025-03-17"
	}, "docdoc.date.after-print-date")
	inv("print-date-invalid", "印发日期 2025-13-01", docdoc.TypeNotice, func(d *docdoc.Document) {
		d.PrintedBy = "重庆市人民政府办公厅"
		d.PrintDate = "2025-13-01"
	}, "docdoc.date.invalid")

	// Attachments (GB/T 9704-2012 7.3.4).
	withAttachments := func(d *docdoc.Document, names ...string) {
		d.Attachments, d.AttachmentNotes = nil, nil
		for _, n := range names {
			d.Attachments = append(d.Attachments, docdoc.Attachment{Name: n, MediaType: "application/pdf", Size: 11, Digest: sampleDigest})
			d.AttachmentNotes = append(d.AttachmentNotes, strings.TrimSuffix(n, filepath.Ext(n)))
		}
	}
	inv("attachments-duplicate-name", "two attachments with the same name", docdoc.TypeNotice, func(d *docdoc.Document) {
		withAttachments(d, "清单.pdf", "清单.pdf")
	}, "docdoc.attachments.unique-name")
	inv("attachments-names-differ-in-case", "attachment names that differ only in case", docdoc.TypeNotice, func(d *docdoc.Document) {
		withAttachments(d, "List.pdf", "list.pdf")
	}, "docdoc.attachments.unique-name")
	inv("attachment-notes-missing", "an attachment without 附件说明", docdoc.TypeNotice, func(d *docdoc.Document) {
		withAttachments(d, "清单.pdf")
		d.AttachmentNotes = nil
	}, "docdoc.attachment-notes.count")
	inv("attachment-notes-without-attachments", "附件说明 without attachments", docdoc.TypeNotice, func(d *docdoc.Document) {
		d.AttachmentNotes = []string{"清单"}
	}, "docdoc.attachment-notes.count")
	inv("attachment-notes-out-of-order", "附件说明 in a different order from the attachments", docdoc.TypeNotice, func(d *docdoc.Document) {
		withAttachments(d, "甲.pdf", "乙.pdf")
		d.AttachmentNotes = []string{"乙", "甲"}
	}, "docdoc.attachment-notes.name", "docdoc.attachment-notes.name")
	inv("attachment-name-with-slash", "an attachment name with a directory", docdoc.TypeNotice, func(d *docdoc.Document) {
		withAttachments(d, "../清单.pdf")
		d.AttachmentNotes = []string{"../清单"}
	}, "docdoc.file-name.format")
	inv("attachment-name-dotdot", "an attachment named ..", docdoc.TypeNotice, func(d *docdoc.Document) {
		withAttachments(d, "..")
		d.AttachmentNotes = []string{".."}
	}, "docdoc.file-name.format")
	tree("attachment-without-digest", "an attachment without its digest", docdoc.TypeNotice, func(m map[string]any) {
		m["attachments"] = []any{map[string]any{"name": "a.pdf", "mediaType": "application/pdf", "size": json.Number("3")}}
		m["attachmentNotes"] = []any{"a"}
	}, "docdoc.schema.required")
	tree("digest-uppercase-hex", "a digest in uppercase hexadecimal", docdoc.TypeNotice, func(m map[string]any) {
		m["attachments"] = []any{map[string]any{"name": "a.pdf", "mediaType": "application/pdf", "size": json.Number("3"),
			"digest": map[string]any{"alg": "sha256", "value": strings.ToUpper(sampleDigest.Value)}}}
		m["attachmentNotes"] = []any{"a"}
	}, "docdoc.digest.format")
	tree("digest-md5", "a digest algorithm outside sha256 and sm3", docdoc.TypeNotice, func(m map[string]any) {
		m["attachments"] = []any{map[string]any{"name": "a.pdf", "mediaType": "application/pdf", "size": json.Number("3"),
			"digest": map[string]any{"alg": "md5", "value": sampleDigest.Value}}}
		m["attachmentNotes"] = []any{"a"}
	}, "docdoc.digest.alg")

	tree("media-type-bare", "an attachment media type without a subtype", docdoc.TypeNotice, func(m map[string]any) {
		m["attachments"] = []any{map[string]any{"name": "a.pdf", "mediaType": "pdf", "size": json.Number("3"), "digest": map[string]any{"alg": "sha256", "value": sampleDigest.Value}}}
		m["attachmentNotes"] = []any{"a"}
	}, "docdoc.media-type.format")

	// Schema shapes.
	tree("unknown-member", "an unknown top-level member", docdoc.TypeNotice, func(m map[string]any) { m["author"] = "x" }, "docdoc.schema.unknown-member")
	tree("unknown-type", "a type outside the 15 of 条例 第八条", docdoc.TypeNotice, func(m map[string]any) { m["type"] = "memo" }, "docdoc.type")
	tree("missing-title", "no title", docdoc.TypeNotice, func(m map[string]any) { delete(m, "title") }, "docdoc.schema.required")
	tree("title-wrong-type", "a title that is a number", docdoc.TypeNotice, func(m map[string]any) { m["title"] = json.Number("12") }, "docdoc.schema.type")
	tree("wrong-spec-version", "specVersion docdoc/2", docdoc.TypeNotice, func(m map[string]any) { m["specVersion"] = "docdoc/2" }, "docdoc.spec-version")
	tree("id-uuid-v4", "an id that is a UUIDv4", docdoc.TypeNotice, func(m map[string]any) { m["id"] = "3b241101-e2bb-4255-8caf-4136c566a962" }, "docdoc.id.uuid7")
	tree("urgency-unknown", "urgency 平急 (only telegrams have it)", docdoc.TypeNotice, func(m map[string]any) { m["urgency"] = "normal" }, "docdoc.urgency")
	tree("inline-body-not-text", "an inline body with an image media type", docdoc.TypeNotice, func(m map[string]any) {
		m["body"] = map[string]any{"mediaType": "image/png", "text": "x"}
	}, "docdoc.body.inline-media-type")
	tree("empty-issuers", "no issuers", docdoc.TypeNotice, func(m map[string]any) { m["issuers"] = []any{} }, "docdoc.schema.min-items")
	tree("signature-not-base64url", "a seal whose signature is not base64url", docdoc.TypeNotice, func(m map[string]any) {
		m["signatures"] = []any{map[string]any{"protected": "eyJhbGciOiJFZERTQSJ9", "signature": "c2ln+bmF0/dXJl"}}
	}, "docdoc.signature.base64url")

	// Strict reading.
	valid := mustJSON(base(docdoc.TypeNotice, 99))
	raw("json-duplicate-key", "a member name twice", strings.Replace(string(valid), `"title":`, `"title": "重复", "title":`, 1), "docdoc.json.duplicate-key")
	raw("json-invalid-utf8", "a byte sequence that is not UTF-8 in the title", strings.Replace(string(valid), "示例", "\xe7\xa4", 1), "docdoc.json.utf8")
	raw("json-lone-surrogate", "a \\ud800 escape with no low surrogate", strings.Replace(string(valid), "示例", `\ud800`, 1), "docdoc.json.lone-surrogate")
	raw("json-bom", "a UTF-8 byte order mark", "\xEF\xBB\xBF"+string(valid), "docdoc.json.syntax")
	raw("json-trailing-comma", "a trailing comma", strings.Replace(string(valid), "\n}", ",\n}", 1), "docdoc.json.syntax")
	raw("json-truncated", "a document cut short", string(valid[:len(valid)/2]), "docdoc.json.syntax")
	raw("json-number-overflow", "a number beyond an IEEE-754 double", strings.Replace(string(valid), `"body":`, `"size": 1e999, "body":`, 1), "docdoc.json.number-range")
	raw("json-too-deep", "nesting deeper than the limit", strings.Replace(string(valid), `"body":`, `"notes": `+strings.Repeat("[", 40)+strings.Repeat("]", 40)+`, "body":`, 1), "docdoc.json.too-deep")
	raw("json-not-object", "an array instead of a document", `[]`, "docdoc.schema.type")
	return cs
}

func mustJSON(d *docdoc.Document) []byte {
	b, err := docdoc.Marshal(d)
	if err != nil {
		panic(err)
	}
	return b
}

func (c confCase) bytes(t *testing.T) []byte {
	switch {
	case c.raw != nil:
		return c.raw
	case c.mutate != nil:
		tree, err := strictjson.Parse(mustJSON(c.doc), strictjson.Limits{})
		require.NoError(t, err)
		c.mutate(tree.(map[string]any))
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		require.NoError(t, enc.Encode(tree))
		return buf.Bytes()
	}
	return mustJSON(c.doc)
}

func TestConformanceSuite(t *testing.T) {
	cases := conformanceCases()
	if *update {
		writeSuite(t, cases)
	}
	data, err := os.ReadFile(filepath.Join(conformanceDir, "manifest.json"))
	require.NoError(t, err)
	var m manifest
	require.NoError(t, json.Unmarshal(data, &m))
	require.GreaterOrEqual(t, len(m.Cases), 40)

	// The committed suite is what the case table generates.
	require.Len(t, m.Cases, len(cases), "run go test ./docdoc -run TestConformanceSuite -update")
	for i, c := range cases {
		got, err := os.ReadFile(filepath.Join(conformanceDir, m.Cases[i].File))
		require.NoError(t, err)
		assert.Equal(t, string(c.bytes(t)), string(got), "%s is stale; run with -update", m.Cases[i].File)
	}

	typesSeen := map[docdoc.Type]bool{}
	rulesSeen := map[string]bool{}
	for _, c := range m.Cases {
		t.Run(c.ID, func(t *testing.T) {
			f, err := os.Open(filepath.Join(conformanceDir, c.File))
			require.NoError(t, err)
			defer f.Close()
			doc, err := docdoc.Parse(f)
			if c.Valid {
				require.NoError(t, err)
				typesSeen[doc.Type] = true
				return
			}
			var ve *docdoc.ValidationError
			require.ErrorAs(t, err, &ve)
			var got []string
			for _, v := range ve.Violations {
				got = append(got, v.Rule)
				assert.NotEmpty(t, v.Message)
			}
			sort.Strings(got)
			want := append([]string(nil), c.Rules...)
			sort.Strings(want)
			assert.Equal(t, want, got, "violations: %v", ve.Violations)
			for _, r := range c.Rules {
				rulesSeen[r] = true
			}
		})
	}
	assert.Len(t, typesSeen, len(docdoc.Types), "every document type has a valid case")
	for _, r := range documentedRules(t) {
		if r == "docdoc.schema.*" {
			continue
		}
		assert.True(t, rulesSeen[r], "rule %s of RULES.md has no conformance case", r)
	}
}

func writeSuite(t *testing.T, cases []confCase) {
	require.NoError(t, os.RemoveAll(conformanceDir))
	m := manifest{
		Suite:       "docdoc/1 conformance suite",
		SpecVersion: docdoc.SpecVersion,
		SchemaID:    docdoc.SchemaID,
		About: "Each case is a document file. A valid case must pass strict reading, the schema and the rules of RULES.md. " +
			"An invalid case must fail and raise exactly the listed rule ids (a rule listed twice is raised twice). Files are generated by docdoc/conformance_test.go.",
	}
	for _, c := range cases {
		dir := "valid"
		if c.rules != nil {
			dir = "invalid"
		}
		file := dir + "/" + strings.TrimPrefix(c.id, "valid-") + ".json"
		require.NoError(t, os.MkdirAll(filepath.Join(conformanceDir, dir), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(conformanceDir, file), c.bytes(t), 0o644))
		m.Cases = append(m.Cases, mcase{ID: c.id, File: file, Description: c.desc, Valid: c.rules == nil, Rules: c.rules})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	require.NoError(t, enc.Encode(m))
	require.NoError(t, os.WriteFile(filepath.Join(conformanceDir, "manifest.json"), buf.Bytes(), 0o644))
}

// documentedRules reads the rule ids from the table in RULES.md.
func documentedRules(t *testing.T) []string {
	data, err := os.ReadFile("RULES.md")
	require.NoError(t, err)
	var rules []string
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "| `docdoc.") {
			cell := strings.SplitN(line, "|", 3)[1]
			if strings.Contains(cell, "†") {
				continue // not covered by the document suite, as RULES.md says
			}
			rules = append(rules, strings.Trim(cell, " `"))
		}
	}
	require.NotEmpty(t, rules)
	return rules
}
