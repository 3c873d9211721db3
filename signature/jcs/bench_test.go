package jcs

import (
	"os"
	"testing"
)

// BenchmarkCanonicalize canonicalises the realistic 10 KB 公文 of
// signature/testdata; bench/jcs_test.go runs it beside gowebpki/jcs.
func BenchmarkCanonicalize(b *testing.B) {
	doc, err := os.ReadFile("../testdata/gongwen-10k.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Canonicalize(doc); err != nil {
			b.Fatal(err)
		}
	}
}
