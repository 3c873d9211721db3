package docdoc_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/egovkit/egovkit/docdoc"
	"github.com/egovkit/egovkit/internal/strictjson"
)

func addConformanceSeeds(f *testing.F) {
	files, _ := filepath.Glob("testdata/conformance/*/*.json")
	for _, name := range files {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
}

// FuzzParse: Parse never panics; it accepts a document or reports
// violations that each have a rule and a message; an accepted document
// survives Marshal and Parse unchanged.
func FuzzParse(f *testing.F) {
	addConformanceSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := docdoc.ParseBytes(data)
		if err != nil {
			var ve *docdoc.ValidationError
			if !errors.As(err, &ve) || len(ve.Violations) == 0 {
				t.Fatalf("error is not a ValidationError with violations: %v", err)
			}
			for _, v := range ve.Violations {
				if v.Rule == "" || v.Message == "" {
					t.Fatalf("violation without rule or message: %+v", v)
				}
			}
			return
		}
		out, err := docdoc.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		again, err := docdoc.ParseBytes(out)
		if err != nil {
			t.Fatalf("a marshalled valid document is invalid: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(doc, again) {
			t.Fatalf("round trip changed the document:\n%#v\n%#v", doc, again)
		}
		a, _ := strictjson.Parse(data, strictjson.Limits{MaxDepth: docdoc.MaxDepth})
		b, _ := strictjson.Parse(out, strictjson.Limits{MaxDepth: docdoc.MaxDepth})
		if m := a.(map[string]any); len(doc.Signatures) == 0 {
			delete(m, "signatures") // an empty list is no list: seals do not cover it
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("the typed model lost part of a valid document:\n%s\n%s", data, out)
		}
	})
}

// FuzzUnpack: OpenPackage and reading every file never panic, and every
// rejection is a PackageError with a rule.
func FuzzUnpack(f *testing.F) {
	var buf bytes.Buffer
	d := packableDoc()
	if err := docdoc.Pack(&buf, d, packFS()); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("PK\x05\x06" + string(make([]byte, 18))))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := docdoc.OpenPackage(bytes.NewReader(data), int64(len(data)), docdoc.PackageLimits{MaxEntrySize: 1 << 20, MaxTotalSize: 4 << 20})
		if err != nil {
			var pe *docdoc.PackageError
			if !errors.As(err, &pe) || pe.Rule == "" || pe.Message == "" {
				t.Fatalf("rejection is not a PackageError with a rule: %v", err)
			}
			return
		}
		for _, name := range p.Files() {
			rc, err := p.Open(name)
			if err != nil {
				t.Fatalf("listed file cannot be opened: %v", err)
			}
			_, err = io.Copy(io.Discard, rc)
			rc.Close()
			var pe *docdoc.PackageError
			if err != nil && !errors.As(err, &pe) {
				t.Fatalf("read error is not a PackageError: %v", err)
			}
		}
	})
}
