package approval

import (
	"bytes"
	"errors"
	"os"
	"testing"
)

// FuzzParseDefinition: ParseDefinition never panics, and every rejection
// is a DefinitionError whose violations have a rule and a message.
func FuzzParseDefinition(f *testing.F) {
	data, err := os.ReadFile("testdata/annual-inspection.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"specVersion":"approval/1","id":"x","version":1,"name":"n","limits":{"legal":"1d"},"start":"a","steps":[{"id":"a","name":"a","mode":"single","kind":"decision","assignees":[{"user":"u"}]}]}`))
	f.Add([]byte(`{"steps":[{"id":"a","next":[{"to":"a","when":"application.x > 1"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := ParseDefinition(bytes.NewReader(data))
		if err == nil {
			return
		}
		var de *DefinitionError
		if !errors.As(err, &de) || len(de.Violations) == 0 {
			t.Fatalf("rejection is not a DefinitionError with violations: %v", err)
		}
		for _, v := range de.Violations {
			if v.Rule == "" || v.Message == "" {
				t.Fatalf("violation without rule or message: %+v", v)
			}
		}
	})
}
