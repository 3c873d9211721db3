package docdoc

import (
	_ "embed"
	"fmt"
	"sync"

	"github.com/egovkit/egovkit/internal/schemacheck"
)

//go:embed schema/document.schema.json
var schemaJSON []byte

// SchemaID is the $id of the docdoc/1 document schema.
const SchemaID = "https://schemas.egovkit.org/docdoc/1/document.schema.json"

// Schema returns the JSON Schema (draft 2020-12) of the docdoc/1 document
// format: the published, language-neutral half of validation. The other
// half, the rules a schema cannot express, is listed in RULES.md.
// The returned slice is a copy.
func Schema() []byte { return append([]byte(nil), schemaJSON...) }

var loadSchema = sync.OnceValues(func() (*schemacheck.Schema, error) {
	s, err := schemacheck.CompileJSON(SchemaID, schemaJSON, "docdoc")
	if err != nil {
		return nil, fmt.Errorf("docdoc: embedded schema: %w", err)
	}
	return s, nil
})

// schemaViolations validates tree against the document schema.
func schemaViolations(tree any, vs *violations) {
	s, err := loadSchema()
	if err != nil {
		panic(err) // the embedded schema is tested; this is a build defect
	}
	*vs = append(*vs, s.Validate(tree)...)
}
