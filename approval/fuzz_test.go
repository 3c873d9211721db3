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

// FuzzDecodeCommand: DecodeCommand never panics; every rejection is a
// CommandError with a rule; every accepted line is a start or a command.
func FuzzDecodeCommand(f *testing.F) {
	for _, s := range []string{
		`{"cmd":"start","actor":"alice","application":{"enterprise":"甲","registeredCapital":1e7}}`,
		`{"cmd":"accept","actor":"clerk1","version":1,"key":"k1","at":"2026-03-02T09:00:00+08:00"}`,
		`{"cmd":"addSigner","actor":"u1","users":["a","b"],"position":"after","task":"t2"}`,
		`{"cmd":"return","actor":"u","to":"review","toApplicant":false,"reason":"x"}`,
		`{"cmd":"extend","actor":"u","approver":"head","extension":"10wd","reason":"r"}`,
		`{"cmd":"decide","actor":"h","decision":"denied","reason":"r"}`,
		`[1,2]`, `{"cmd":1}`, `{"cmd":"accept","actor":"u","version":1e99}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		line, err := DecodeCommand(data)
		if err != nil {
			if RuleOf(err) == "" {
				t.Fatalf("rejection without a rule: %v", err)
			}
			return
		}
		if (line.Start == nil) == (line.Command == nil) {
			t.Fatalf("exactly one of Start and Command must be set: %+v", line)
		}
	})
}
