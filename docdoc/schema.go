package docdoc

import (
	_ "embed"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/egovkit/egovkit/internal/strictjson"
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

type compiledSchema struct {
	schema *jsonschema.Schema
	tree   map[string]any // the schema document, for x-rule, description and examples
}

var loadSchema = sync.OnceValues(func() (*compiledSchema, error) {
	tree, err := strictjson.Parse(schemaJSON, strictjson.Limits{})
	if err != nil {
		return nil, fmt.Errorf("docdoc: embedded schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(SchemaID, tree); err != nil {
		return nil, fmt.Errorf("docdoc: embedded schema: %w", err)
	}
	sch, err := c.Compile(SchemaID)
	if err != nil {
		return nil, fmt.Errorf("docdoc: embedded schema: %w", err)
	}
	return &compiledSchema{schema: sch, tree: tree.(map[string]any)}, nil
})

func mustSchema() *compiledSchema {
	s, err := loadSchema()
	if err != nil {
		panic(err) // the embedded schema is tested; this is a build defect
	}
	return s
}

var printer = message.NewPrinter(language.English)

// schemaViolations validates tree against the schema and turns the error
// tree's leaves into violations.
func (cs *compiledSchema) violations(tree any, vs *violations) {
	err := cs.schema.Validate(tree)
	if err == nil {
		return
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		vs.add("", "docdoc.schema", "%v", err)
		return
	}
	cs.collect(ve, tree, vs)
}

func (cs *compiledSchema) collect(ve *jsonschema.ValidationError, tree any, vs *violations) {
	if len(ve.Causes) > 0 {
		for _, c := range ve.Causes {
			cs.collect(c, tree, vs)
		}
		return
	}
	ptr := pointerOf(ve.InstanceLocation)
	node := cs.schemaNode(ve.SchemaURL)
	rule, _ := node["x-rule"].(string)
	switch k := ve.ErrorKind.(type) {
	case *kind.Required:
		for _, m := range k.Missing {
			vs.add(ptr+"/"+strictjson.EscapePointerToken(m), "docdoc.schema.required", "required member %q is missing%s", m, describe(cs.propertyNode(node, m)))
		}
		return
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			vs.add(ptr+"/"+strictjson.EscapePointerToken(p), "docdoc.schema.unknown-member", "unknown member %q; expected only the members the docdoc/1 schema defines for this object (%s)", p, strings.Join(memberNames(node), ", "))
		}
		return
	case *kind.Type:
		if rule == "" {
			rule = "docdoc.schema.type"
		}
		vs.add(ptr, rule, "value is %s; expected %s%s", k.Got, strings.Join(k.Want, " or "), describe(node))
		return
	case *kind.Pattern:
		if rule == "" {
			rule = "docdoc.schema.pattern"
		}
		vs.add(ptr, rule, "%q is not in the expected form%s", k.Got, describe(node))
		return
	}
	if rule == "" {
		kw := ve.ErrorKind.KeywordPath()
		rule = "docdoc.schema"
		if len(kw) > 0 {
			rule += "." + kebab(kw[0])
		}
	}
	vs.add(ptr, rule, "%s%s", ve.ErrorKind.LocalizedString(printer), describe(node))
}

// describe renders a schema node's description and first example as the
// "expected" half of a message.
func describe(node map[string]any) string {
	if node == nil {
		return ""
	}
	var b strings.Builder
	if d, ok := node["description"].(string); ok {
		b.WriteString("; expected: ")
		b.WriteString(strings.TrimSuffix(d, "."))
	}
	if ex, ok := node["examples"].([]any); ok && len(ex) > 0 {
		fmt.Fprintf(&b, ", for example %q", ex[0])
	}
	return b.String()
}

// schemaNode returns the schema object at url, a schema location as the
// validator reports it (the subschema holding the failed keyword).
func (cs *compiledSchema) schemaNode(url string) map[string]any {
	_, frag, ok := strings.Cut(url, "#")
	if !ok {
		return nil
	}
	return cs.lookup(strings.Split(strings.TrimPrefix(frag, "/"), "/"))
}

func (cs *compiledSchema) lookup(toks []string) map[string]any {
	var cur any = cs.tree
	for _, t := range toks {
		if t == "" {
			continue
		}
		t = strings.NewReplacer("~1", "/", "~0", "~").Replace(t)
		switch c := cur.(type) {
		case map[string]any:
			cur = c[t]
		case []any:
			n, ok := atoi(t)
			if !ok || n >= len(c) {
				return nil
			}
			cur = c[n]
		default:
			return nil
		}
	}
	m, _ := cur.(map[string]any)
	return m
}

// propertyNode returns the schema of property name of the object schema
// node, following one local $ref.
func (cs *compiledSchema) propertyNode(node map[string]any, name string) map[string]any {
	props, _ := node["properties"].(map[string]any)
	p, _ := props[name].(map[string]any)
	if p == nil {
		return nil
	}
	if _, ok := p["description"]; ok {
		return p
	}
	if ref, ok := p["$ref"].(string); ok && strings.HasPrefix(ref, "#/") {
		return cs.lookup(strings.Split(ref[2:], "/"))
	}
	return p
}

func memberNames(node map[string]any) []string {
	props, _ := node["properties"].(map[string]any)
	names := make([]string, 0, len(props))
	for n := range props {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func pointerOf(loc []string) string {
	var b strings.Builder
	for _, t := range loc {
		b.WriteByte('/')
		b.WriteString(strictjson.EscapePointerToken(t))
	}
	return b.String()
}

// kebab turns a keyword such as additionalProperties into additional-properties.
func kebab(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'A' && r <= 'Z' {
			b.WriteByte('-')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
