// Package schemacheck validates a JSON tree against a JSON Schema (draft
// 2020-12, through santhosh-tekuri/jsonschema/v6) and reports the result
// as violations in egovkit's form: a JSON Pointer, a stable rule id and a
// message that says what was expected. Every package that publishes a
// schema (docdoc, approval, deadline calendars, exchange envelopes) uses it,
// so their errors read alike.
//
// Rule ids: a subschema may name its own with the annotation keyword
// "x-rule"; otherwise a failure is PREFIX.schema.KEYWORD (such as
// docdoc.schema.required). Messages take the failing subschema's
// "description" and first "examples" entry as the expected form.
//
// Schemas are compiled with no loader: a $ref outside the schema itself is
// an error, so an untrusted schema cannot make the process read files or
// fetch URLs.
package schemacheck

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/egovkit/egovkit/internal/strictjson"
)

// Violation is one broken rule.
type Violation struct {
	Pointer string
	Rule    string
	Message string
}

// Schema is a compiled schema with its source tree, which supplies the
// x-rule, description and examples of failing subschemas.
type Schema struct {
	schema *jsonschema.Schema
	tree   map[string]any
	prefix string
}

// noLoader refuses every external reference.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("external schema references are not allowed (%s); expected a self-contained schema", url)
}

// Compile compiles the schema tree under id. rulePrefix names the generic
// rules ("docdoc" gives docdoc.schema.required).
func Compile(id string, tree any, rulePrefix string) (*Schema, error) {
	m, ok := tree.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("schema %s is not a JSON object", id)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(noLoader{})
	c.UseRegexpEngine(compileRegexp)
	if err := c.AddResource(id, m); err != nil {
		return nil, err
	}
	sch, err := c.Compile(id)
	if err != nil {
		return nil, err
	}
	return &Schema{schema: sch, tree: m, prefix: rulePrefix}, nil
}

// CompileJSON reads schema bytes with the strict reader and compiles them.
func CompileJSON(id string, data []byte, rulePrefix string) (*Schema, error) {
	tree, err := strictjson.Parse(data, strictjson.Limits{})
	if err != nil {
		return nil, err
	}
	return Compile(id, tree, rulePrefix)
}

var printer = message.NewPrinter(language.English)

// Validate validates instance (a tree from strictjson.Parse) and returns
// its violations, unsorted; nil when it is valid.
func (s *Schema) Validate(instance any) []Violation {
	err := s.schema.Validate(instance)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []Violation{{Rule: s.prefix + ".schema", Message: err.Error()}}
	}
	var out []Violation
	s.collect(ve, &out)
	return out
}

func (s *Schema) collect(ve *jsonschema.ValidationError, out *[]Violation) {
	if len(ve.Causes) > 0 {
		for _, c := range ve.Causes {
			s.collect(c, out)
		}
		return
	}
	add := func(ptr, rule, format string, args ...any) {
		*out = append(*out, Violation{Pointer: ptr, Rule: rule, Message: fmt.Sprintf(format, args...)})
	}
	ptr := pointerOf(ve.InstanceLocation)
	node := s.node(ve.SchemaURL)
	rule, _ := node["x-rule"].(string)
	switch k := ve.ErrorKind.(type) {
	case *kind.Required:
		for _, m := range k.Missing {
			add(ptr+"/"+strictjson.EscapePointerToken(m), s.prefix+".schema.required", "required member %q is missing%s", m, describe(s.property(node, m)))
		}
		return
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			add(ptr+"/"+strictjson.EscapePointerToken(p), s.prefix+".schema.unknown-member", "unknown member %q; expected only the members the schema defines for this object (%s)", p, strings.Join(memberNames(node), ", "))
		}
		return
	case *kind.Type:
		if rule == "" {
			rule = s.prefix + ".schema.type"
		}
		add(ptr, rule, "value is %s; expected %s%s", k.Got, strings.Join(k.Want, " or "), describe(node))
		return
	case *kind.Pattern:
		if rule == "" {
			rule = s.prefix + ".schema.pattern"
		}
		add(ptr, rule, "%q is not in the expected form%s", k.Got, describe(node))
		return
	}
	if rule == "" {
		rule = s.prefix + ".schema"
		if kw := ve.ErrorKind.KeywordPath(); len(kw) > 0 {
			rule += "." + kebab(kw[0])
		}
	}
	add(ptr, rule, "%s%s", ve.ErrorKind.LocalizedString(printer), describe(node))
}

// describe renders a subschema's description and first example as the
// "expected" half of a message.
func describe(node map[string]any) string {
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

// node returns the subschema at a schema location as the validator reports
// it (the subschema holding the failed keyword).
func (s *Schema) node(url string) map[string]any {
	_, frag, ok := strings.Cut(url, "#")
	if !ok {
		return nil
	}
	return s.lookup(strings.Split(strings.TrimPrefix(frag, "/"), "/"))
}

var unescape = strings.NewReplacer("~1", "/", "~0", "~")

func (s *Schema) lookup(toks []string) map[string]any {
	var cur any = s.tree
	for _, t := range toks {
		if t == "" {
			continue
		}
		t = unescape.Replace(t)
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

// property returns the subschema of an object schema's property, following
// one local $ref when the property has no description of its own.
func (s *Schema) property(node map[string]any, name string) map[string]any {
	props, _ := node["properties"].(map[string]any)
	p, _ := props[name].(map[string]any)
	if p == nil {
		return nil
	}
	if _, ok := p["description"]; ok {
		return p
	}
	if ref, ok := p["$ref"].(string); ok && strings.HasPrefix(ref, "#/") {
		return s.lookup(strings.Split(ref[2:], "/"))
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

// kebab turns a keyword such as minItems into min-items.
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

// Sort orders violations into document order (by pointer, numeric tokens
// numerically, then by rule) and drops exact duplicates.
func Sort(vs []Violation) []Violation {
	if len(vs) == 0 {
		return nil
	}
	out := append([]Violation(nil), vs...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Pointer != out[j].Pointer {
			return PointerLess(out[i].Pointer, out[j].Pointer)
		}
		return out[i].Rule < out[j].Rule
	})
	dedup := out[:1]
	for _, v := range out[1:] {
		if v != dedup[len(dedup)-1] {
			dedup = append(dedup, v)
		}
	}
	return dedup
}

// PointerLess orders JSON Pointers token by token, numeric tokens
// numerically, so that /steps/2 comes before /steps/10.
func PointerLess(a, b string) bool {
	ta, tb := strings.Split(a, "/"), strings.Split(b, "/")
	for i := 0; i < len(ta) && i < len(tb); i++ {
		if ta[i] == tb[i] {
			continue
		}
		na, oka := atoi(ta[i])
		nb, okb := atoi(tb[i])
		if oka && okb {
			return na < nb
		}
		return ta[i] < tb[i]
	}
	return len(ta) < len(tb)
}

func atoi(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// List collects violations while a document is checked.
type List []Violation

// Add appends a violation with a formatted message.
func (l *List) Add(pointer, rule, format string, args ...any) {
	*l = append(*l, Violation{Pointer: pointer, Rule: rule, Message: fmt.Sprintf(format, args...)})
}

// Sorted returns the violations in document order without duplicates (see
// [Sort]) as a package's own exported violation type, which has the same
// fields and JSON names.
func Sorted[T ~struct {
	Pointer string `json:"pointer"`
	Rule    string `json:"rule"`
	Message string `json:"message"`
}](vs []Violation) []T {
	sorted := Sort(vs)
	out := make([]T, len(sorted))
	for i, v := range sorted {
		out[i] = T(v)
	}
	return out
}
