package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/xeipuuv/gojsonschema"

	"github.com/egovkit/egovkit/docdoc"
)

// Validating a realistic 10 KB 公文: docdoc.ParseBytes (strict reading,
// schema, rules) against jsonschema/v6 decoding and validating the same
// bytes with the same schema (target: at most 1.2×), and against
// xeipuuv/gojsonschema on a draft-07 copy of the schema.
//
//	go test -run '^$' -bench 'Validate10KB' -benchmem -benchtime 2s -count 8 | tee docdoc.txt
//	go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da -col /impl docdoc.txt

// document10KB returns a joint notice of about 10 KB: two issuers, a list
// of recipients, a body of Chinese text, attachments and printing data.
var document10KB = sync.OnceValue(func() []byte {
	d := &docdoc.Document{
		SpecVersion: docdoc.SpecVersion,
		ID:          "01936f8e-7b2a-7c3d-9e4f-5a6b7c8d9e0f",
		Type:        docdoc.TypeNotice,
		Urgency:     docdoc.UrgencyUrgent,
		Issuers: []docdoc.Organ{
			{Name: "重庆市发展和改革委员会", OrgID: "11500000MB16089308"},
			{Name: "重庆市财政局", OrgID: "11500000MB1972360U"},
		},
		DocNumber: "渝发改投〔2025〕128号",
		Title:     "重庆市发展和改革委员会 重庆市财政局关于做好2025年政府投资项目资金保障工作的通知",
		Signatory: []string{"重庆市发展和改革委员会", "重庆市财政局"},
		Date:      "2025-03-18",
		Notes:     "（此件公开发布）",
		PrintedBy: "重庆市发展和改革委员会办公室",
		PrintDate: "2025-03-19",
	}
	for _, n := range []string{"万州区", "黔江区", "涪陵区", "渝中区", "大渡口区", "江北区", "沙坪坝区", "九龙坡区", "南岸区", "北碚区", "綦江区", "大足区"} {
		d.MainRecipients = append(d.MainRecipients, docdoc.Organ{Name: n + "发展改革委"}, docdoc.Organ{Name: n + "财政局"})
	}
	d.MainRecipients = append(d.MainRecipients, docdoc.Organ{Name: "重庆市经济和信息化委员会", OrgID: "11500000MB1802110J"})
	var body strings.Builder
	body.WriteString("各区县（自治县）发展改革委、财政局，市级有关部门：\n")
	for i := 1; body.Len() < 7000; i++ {
		fmt.Fprintf(&body, "%d. 为加强政府投资项目资金保障，确保项目按期建成发挥效益，各单位应当按照“资金跟着项目走”的原则，统筹安排预算内投资、专项债券和其他财政资金，严格执行项目资金拨付程序，不得截留、挤占、挪用项目资金。\n", i)
	}
	d.Body = docdoc.Body{MediaType: "text/plain", Text: body.String()}
	for i := 1; i <= 5; i++ {
		name := fmt.Sprintf("附件%d 项目资金安排明细表.xlsx", i)
		d.AttachmentNotes = append(d.AttachmentNotes, fmt.Sprintf("%d.附件%d 项目资金安排明细表", i, i))
		d.Attachments = append(d.Attachments, docdoc.Attachment{Name: name, MediaType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
			Size: int64(10240 * i), Digest: &docdoc.Digest{Alg: docdoc.SHA256, Value: strings.Repeat(fmt.Sprintf("%02x", i), 32)}})
	}
	d.CC = []docdoc.Organ{{Name: "重庆市审计局"}, {Name: "国家发展改革委"}, {Name: "财政部重庆监管局"}}
	data, err := docdoc.Marshal(d)
	if err != nil {
		panic(err)
	}
	if _, err := docdoc.ParseBytes(data); err != nil {
		panic(err)
	}
	return data
})

func compileV6(tb testing.TB) *jsonschema.Schema {
	tb.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(docdoc.Schema()))
	if err != nil {
		tb.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(docdoc.SchemaID, doc); err != nil {
		tb.Fatal(err)
	}
	sch, err := c.Compile(docdoc.SchemaID)
	if err != nil {
		tb.Fatal(err)
	}
	return sch
}

// draft07Schema rewrites the docdoc schema as draft-07: definitions for
// $defs, and the draft-07 meta-schema.
func draft07Schema(tb testing.TB) string {
	tb.Helper()
	s := string(docdoc.Schema())
	s = strings.ReplaceAll(s, `"$defs"`, `"definitions"`)
	s = strings.ReplaceAll(s, `"#/$defs/`, `"#/definitions/`)
	s = strings.Replace(s, "https://json-schema.org/draft/2020-12/schema", "http://json-schema.org/draft-07/schema#", 1)
	s = strings.Replace(s, docdoc.SchemaID, "https://schemas.egovkit.org/docdoc/1/document.draft-07.schema.json", 1)
	var check map[string]any
	if err := json.Unmarshal([]byte(s), &check); err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestValidatorsAgree(t *testing.T) {
	data := document10KB()
	if n := len(data); n < 9*1024 || n > 12*1024 {
		t.Fatalf("the sample document has %d bytes; expected about 10 KB", n)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := compileV6(t).Validate(v); err != nil {
		t.Fatal(err)
	}
	gs, err := gojsonschema.NewSchema(gojsonschema.NewStringLoader(draft07Schema(t)))
	if err != nil {
		t.Fatal(err)
	}
	res, err := gs.Validate(gojsonschema.NewBytesLoader(data))
	if err != nil || !res.Valid() {
		t.Fatalf("gojsonschema: %v %v", err, res.Errors())
	}
	// And all three refuse the same schema violation.
	bad := bytes.Replace(data, []byte(`"type": "notice"`), []byte(`"type": "memo"`), 1)
	if _, err := docdoc.ParseBytes(bad); err == nil {
		t.Fatal("docdoc accepted an unknown type")
	}
	v, _ = jsonschema.UnmarshalJSON(bytes.NewReader(bad))
	if compileV6(t).Validate(v) == nil {
		t.Fatal("jsonschema/v6 accepted an unknown type")
	}
	if res, _ := gs.Validate(gojsonschema.NewBytesLoader(bad)); res.Valid() {
		t.Fatal("gojsonschema accepted an unknown type")
	}
}

func BenchmarkValidate10KB(b *testing.B) {
	data := document10KB()
	b.Run("impl=docdoc", func(b *testing.B) {
		defer reportCPU(b, processCPU())
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := docdoc.ParseBytes(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=jsonschema-v6", func(b *testing.B) {
		sch := compileV6(b)
		b.ResetTimer()
		defer reportCPU(b, processCPU())
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
			if err != nil {
				b.Fatal(err)
			}
			if err := sch.Validate(v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=gojsonschema-draft07", func(b *testing.B) {
		gs, err := gojsonschema.NewSchema(gojsonschema.NewStringLoader(draft07Schema(b)))
		if err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		defer reportCPU(b, processCPU())
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			res, err := gs.Validate(gojsonschema.NewBytesLoader(data))
			if err != nil || !res.Valid() {
				b.Fatal(err, res.Errors())
			}
		}
	})
}
