package docdoc_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing/fstest"

	"github.com/egovkit/egovkit/docdoc"
)

// Build a notice in Go, validate it, and print its JSON form's title.
func ExampleValidate() {
	doc := docdoc.New(docdoc.TypeNotice)
	doc.Issuers = []docdoc.Organ{{Name: "重庆市人民政府", OrgID: "11500000MB1541240B"}}
	doc.DocNumber = docdoc.DocNumber{Code: "渝府发", Year: 2025, Seq: 3}.String()
	doc.Title = "重庆市人民政府关于做好春节期间安全生产工作的通知"
	doc.MainRecipients = []docdoc.Organ{{Name: "各区县（自治县）人民政府"}}
	doc.Body = docdoc.Body{MediaType: "text/plain", Text: "各区县（自治县）人民政府：……"}
	doc.Date = "2025-01-20"
	fmt.Println(docdoc.Validate(doc))
	fmt.Println(doc.DocNumber)
	// Output:
	// <nil>
	// 渝府发〔2025〕3号
}

// Parse a document and branch on the rule ids of its violations.
func ExampleParse() {
	_, err := docdoc.Parse(strings.NewReader(`{
	  "specVersion": "docdoc/1",
	  "id": "01936f8e-7b2a-7c3d-9e4f-5a6b7c8d9e0f",
	  "type": "request",
	  "issuers": [{"name": "重庆市渝中区人民政府", "orgId": "11500103MB1548100L"}],
	  "docNumber": "渝中府[2025]7号",
	  "signers": ["张三"],
	  "title": "重庆市渝中区人民政府关于增设便民服务中心的请示",
	  "mainRecipients": [{"name": "重庆市人民政府", "orgId": "11500000MB1541240B"}],
	  "body": {"mediaType": "text/plain", "text": "市政府：……"},
	  "date": "2025-04-01"
	}`))
	var ve *docdoc.ValidationError
	if errors.As(err, &ve) {
		for _, v := range ve.Violations {
			fmt.Println(v.Pointer, v.Rule)
		}
		fmt.Println(ve.Violations[0].Message)
	}
	// Output:
	// /docNumber docdoc.doc-number.brackets
	// "渝中府[2025]7号" encloses the year in []; expected the hexagonal brackets 〔〕, as in 渝中府〔2025〕7号
}

// Pack a document with an attachment and unpack it again.
func ExamplePack() {
	doc := docdoc.New(docdoc.TypeNotice)
	doc.Issuers = []docdoc.Organ{{Name: "重庆市财政局", OrgID: "11500000MB1972360U"}}
	doc.Title = "重庆市财政局关于下达2025年专项资金的通知"
	doc.MainRecipients = []docdoc.Organ{{Name: "各区县（自治县）财政局"}}
	doc.Body = docdoc.Body{MediaType: "text/plain", Text: "现将资金下达如下……"}
	doc.AttachmentNotes = []string{"资金分配表"}
	doc.Attachments = []docdoc.Attachment{{Name: "资金分配表.csv", MediaType: "text/csv"}}
	doc.Date = "2025-05-06"
	files := fstest.MapFS{"attachments/资金分配表.csv": {Data: []byte("区县,金额\n渝中,100\n")}}

	var pkg bytes.Buffer
	if err := docdoc.Pack(&pkg, doc, files); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("digest filled in:", doc.Attachments[0].Digest.Alg, doc.Attachments[0].Size, "bytes")

	dir, _ := os.MkdirTemp("", "docdoc-example")
	defer os.RemoveAll(dir)
	got, err := docdoc.Unpack(bytes.NewReader(pkg.Bytes()), int64(pkg.Len()), dir, docdoc.PackageLimits{})
	if err != nil {
		fmt.Println(err)
		return
	}
	data, _ := os.ReadFile(filepath.Join(dir, "attachments", "资金分配表.csv"))
	fmt.Println(got.Title)
	fmt.Printf("%q\n", data)
	// Output:
	// digest filled in: sha256 25 bytes
	// 重庆市财政局关于下达2025年专项资金的通知
	// "区县,金额\n渝中,100\n"
}

// Check a unified social credit identifier.
func ExampleCheckOrgID() {
	fmt.Println(docdoc.CheckOrgID("11500000MB1541240B"))
	fmt.Println(docdoc.CheckOrgID("11500000MB1541241B"))
	// Output:
	// <nil>
	// docdoc: "11500000MB1541241B" has check character B; GB 32100-2015 gives E for 11500000MB1541241
}
