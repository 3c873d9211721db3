package docdoc_test

import (
	"os"
	"testing"

	"github.com/egovkit/egovkit/docdoc"
)

// BenchmarkParse measures strict reading, schema and rules of the sample
// joint notice; bench/ compares it with jsonschema/v6 and gojsonschema.
func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile("testdata/joint-notice.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := docdoc.ParseBytes(data); err != nil {
			b.Fatal(err)
		}
	}
}
