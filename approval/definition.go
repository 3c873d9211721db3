package approval

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/egovkit/egovkit/internal/schemacheck"
	"github.com/egovkit/egovkit/internal/strictjson"
)

//go:embed schema/definition.schema.json
var definitionSchemaJSON []byte

// DefinitionSchemaID is the $id of the approval/1 definition schema.
const DefinitionSchemaID = "https://schemas.egovkit.org/approval/1/definition.schema.json"

// SpecVersion is the specVersion of every approval/1 definition.
const SpecVersion = "approval/1"

// Limits on a definition's JSON form.
const (
	// MaxDefinitionSize is the largest definition accepted, in bytes.
	MaxDefinitionSize = 1 << 20
	// MaxDefinitionDepth is the deepest nesting accepted (an application
	// schema inside a definition may nest).
	MaxDefinitionDepth = 64
)

// DefinitionSchema returns the JSON Schema (draft 2020-12) of process
// definitions. The returned slice is a copy.
func DefinitionSchema() []byte { return append([]byte(nil), definitionSchemaJSON...) }

var definitionSchema = sync.OnceValues(func() (*schemacheck.Schema, error) {
	return schemacheck.CompileJSON(DefinitionSchemaID, definitionSchemaJSON, "approval")
})

// Mode is how the assignees of a step act.
type Mode string

// Step modes.
const (
	ModeSingle     Mode = "single"     // 一人办理: one assignee
	ModeAll        Mode = "all"        // 会签: every assignee must approve
	ModeAny        Mode = "any"        // 或签: the first approval decides
	ModeSequential Mode = "sequential" // 依次: one after another, in order
	ModeQuorum     Mode = "quorum"     // k of n
)

// StepKind distinguishes reviewing steps from the final decision.
type StepKind string

// Step kinds.
const (
	KindReview   StepKind = "review"   // 审查: approve, reject or return
	KindDecision StepKind = "decision" // 决定: granted or denied; ends the case
)

// Definition is a process definition (审批流程定义): the steps of a matter,
// who acts at each, the branches between them and the time limits. It is
// immutable once parsed; a running case keeps the version it started on.
type Definition struct {
	SpecVersion       string          `json:"specVersion"`
	ID                string          `json:"id"`      // 事项编码
	Version           int             `json:"version"` // 版本
	Name              string          `json:"name"`    // 事项名称
	Department        *Organ          `json:"department,omitempty"`
	ApplicationSchema json.RawMessage `json:"applicationSchema,omitempty"`
	Limits            CaseLimits      `json:"limits"`
	AllowWithdraw     bool            `json:"allowWithdraw,omitempty"` // 撤回 allowed
	CopyTo            *CopyTo         `json:"copyTo,omitempty"`        // 抄送
	UrgeInterval      string          `json:"urgeInterval,omitempty"`  // shortest time between 催办
	Start             string          `json:"start"`
	Steps             []Step          `json:"steps"`

	steps     map[string]*Step
	appSchema *schemacheck.Schema
	hash      string
}

// Organ is an organisation named by its 统一社会信用代码.
type Organ struct {
	Name  string `json:"name"`
	OrgID string `json:"orgId"`
}

// CaseLimits are the time limits of the whole case, as limit strings:
// "20wd" (working days), "30d" (natural days), "48h" (hours).
type CaseLimits struct {
	Legal     string `json:"legal"`               // 法定时限 (行政许可法 第四十二条)
	Extension string `json:"extension,omitempty"` // 延长期限, with the head's approval
	Promised  string `json:"promised,omitempty"`  // 承诺时限
}

// CopyTo lists who is copied for information (抄送).
type CopyTo struct {
	AtSubmission []Assignee `json:"atSubmission,omitempty"`
	AtEnd        []Assignee `json:"atEnd,omitempty"`
}

// Assignee names who acts at a step: exactly one of a user, a role or an
// organisation (by 统一社会信用代码). The embedding system resolves roles
// and organisations to users through a Directory.
type Assignee struct {
	User string `json:"user,omitempty"`
	Role string `json:"role,omitempty"`
	Org  string `json:"org,omitempty"`
}

// String renders the assignee as user:ID, role:NAME or org:CODE.
func (a Assignee) String() string {
	switch {
	case a.User != "":
		return "user:" + a.User
	case a.Role != "":
		return "role:" + a.Role
	}
	return "org:" + a.Org
}

// Step is one step (环节) of a definition.
type Step struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Kind      StepKind   `json:"kind,omitempty"` // review when empty
	Mode      Mode       `json:"mode"`
	Quorum    int        `json:"quorum,omitempty"` // k, for ModeQuorum
	Assignees []Assignee `json:"assignees"`
	Limit     string     `json:"limit,omitempty"` // 环节时限
	Next      []Branch   `json:"next,omitempty"`
}

// IsDecision reports whether the step is the final decision (决定).
func (s *Step) IsDecision() bool { return s != nil && s.Kind == KindDecision }

// Branch is one way out of a step: to a step, when a condition on the
// application holds, or always when When is empty.
type Branch struct {
	When string `json:"when,omitempty"`
	To   string `json:"to"`

	cond *Condition
}

// Condition returns the compiled condition, nil for an unconditional branch.
func (b *Branch) Condition() *Condition { return b.cond }

// Step returns the step with the given id, or nil.
func (d *Definition) Step(id string) *Step { return d.steps[id] }

// Violation is one problem in a definition: where (a JSON Pointer), which
// rule (a stable id) and what was expected.
type Violation struct {
	Pointer string `json:"pointer"`
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

// ErrInvalidDefinition matches every [*DefinitionError] with errors.Is.
var ErrInvalidDefinition = errors.New("approval: invalid process definition")

// DefinitionError holds every problem found in a definition, in document
// order.
type DefinitionError struct {
	Violations []Violation
}

// Error implements error.
func (e *DefinitionError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "approval: invalid process definition: %d problem(s)", len(e.Violations))
	for _, v := range e.Violations {
		fmt.Fprintf(&b, "\n  %s: %s: %s", v.Pointer, v.Rule, v.Message)
	}
	return b.String()
}

// Is reports whether target is [ErrInvalidDefinition].
func (e *DefinitionError) Is(target error) bool { return target == ErrInvalidDefinition }

// Rules returns the rule ids of the violations, in order.
func (e *DefinitionError) Rules() []string {
	out := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		out[i] = v.Rule
	}
	return out
}

// problems collects a definition's violations.
type problems = schemacheck.List

// definitionError returns nil or the problems as a *DefinitionError.
func definitionError(ps problems) error {
	if len(ps) == 0 {
		return nil
	}
	return &DefinitionError{Violations: schemacheck.Sorted[Violation](ps)}
}

// ParseDefinition reads a process definition strictly, validates it against
// the schema, and checks what a schema cannot: unique step ids, a start
// step and branch targets that exist, every step reachable from the start,
// every step with an assignee, a quorum that fits its step, conditions
// that compile to booleans, branch lists that end unconditionally, no
// decision step with branches and no review step without, a decision step
// reachable from every step (no cycle without an exit), step and promised
// limits within the legal one, and an application schema that compiles.
// Every problem is reported, as a [*DefinitionError]; an error reading r
// is returned as it is.
func ParseDefinition(r io.Reader) (*Definition, error) {
	lim := strictjson.Limits{MaxBytes: MaxDefinitionSize, MaxDepth: MaxDefinitionDepth}
	data, err := strictjson.ReadAll(r, lim)
	if err != nil {
		return nil, readError(err)
	}
	tree, err := strictjson.Parse(data, lim)
	if err != nil {
		return nil, readError(err)
	}
	var ps problems
	sch, err := definitionSchema()
	if err != nil {
		return nil, fmt.Errorf("approval: embedded definition schema: %w", err)
	}
	ps = append(ps, sch.Validate(tree)...)
	var d Definition
	// After strict reading and the schema, decode leniently: encoding/json
	// skips values of the wrong type (already reported) and keeps the rest,
	// so that the checks below see as much as there is.
	var typeErr *json.UnmarshalTypeError
	if err := json.Unmarshal(data, &d); err != nil && !errors.As(err, &typeErr) {
		return nil, fmt.Errorf("approval: decoding definition: %w", err)
	}
	d.check(tree, &ps)
	if err := definitionError(ps); err != nil {
		return nil, err
	}
	out, err := d.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("approval: encoding definition: %w", err)
	}
	sum := sha256.Sum256(out)
	d.hash = hex.EncodeToString(sum[:])
	return &d, nil
}

// Hash returns the lowercase hex SHA-256 of the definition as
// MarshalJSON writes it. A case records it when it starts, so that it is
// never replayed on a different definition under the same id and version.
func (d *Definition) Hash() string { return d.hash }

func readError(err error) error {
	var je *strictjson.Error
	if !errors.As(err, &je) {
		return err
	}
	rule := "approval.json." + je.Code.String()
	msg := je.Error()[len("json: "):]
	return &DefinitionError{Violations: []Violation{{Pointer: je.Pointer, Rule: rule, Message: msg}}}
}

var limitRE = regexp.MustCompile(`^([1-9][0-9]{0,4})(wd|d|h)$`)

// parseLimit splits a limit string; ok is false for a malformed one (which
// the schema reports).
func parseLimit(s string) (n int, unit string, ok bool) {
	m := limitRE.FindStringSubmatch(s)
	if m == nil {
		return 0, "", false
	}
	n, _ = strconv.Atoi(m[1])
	return n, m[2], true
}

func stepPtr(i int) string { return "/steps/" + strconv.Itoa(i) }

func (d *Definition) check(tree any, ps *problems) {
	d.steps = make(map[string]*Step, len(d.Steps))
	for i := range d.Steps {
		s := &d.Steps[i]
		if s.ID == "" {
			continue
		}
		if _, dup := d.steps[s.ID]; dup {
			ps.Add(stepPtr(i)+"/id", "approval.step.duplicate-id", "step id %q is used by an earlier step; expected each step id once", s.ID)
			continue
		}
		d.steps[s.ID] = s
	}
	if d.Start != "" && d.steps[d.Start] == nil {
		ps.Add("/start", "approval.start.unknown-step", "start step %q is not defined; expected one of the ids in steps", d.Start)
	}
	legalN, legalUnit, legalOK := parseLimit(d.Limits.Legal)
	within := func(ptr, what, limit string) {
		n, unit, ok := parseLimit(limit)
		if ok && legalOK && unit == legalUnit && n > legalN {
			ps.Add(ptr, "approval.limit.exceeds-legal", "%s %s is longer than the legal limit %s; expected at most %s", what, limit, d.Limits.Legal, d.Limits.Legal)
		}
	}
	within("/limits/promised", "the promised limit (承诺时限)", d.Limits.Promised)
	// The clocks count an extension in the legal limit's unit, and do not
	// mix hours with days.
	if _, unit, ok := parseLimit(d.Limits.Extension); ok && legalOK && unit != legalUnit {
		ps.Add("/limits/extension", "approval.limit.extension-unit", "the extension %s is not in the legal limit's unit (%s); expected a number of %s", d.Limits.Extension, d.Limits.Legal, legalUnit)
	}
	if _, unit, ok := parseLimit(d.Limits.Promised); ok && legalOK && (unit == "h") != (legalUnit == "h") {
		ps.Add("/limits/promised", "approval.limit.unit-mix", "the promised limit %s and the legal limit %s mix hours and days; expected both in hours or both in days", d.Limits.Promised, d.Limits.Legal)
	}

	for i := range d.Steps {
		d.checkStep(i, ps, within)
	}
	d.checkFlow(ps)

	if m, ok := tree.(map[string]any); ok {
		if as, ok := m["applicationSchema"].(map[string]any); ok {
			s, err := schemacheck.Compile("urn:egovkit:approval:"+d.ID+":"+strconv.Itoa(d.Version)+":application", as, "approval.application")
			if err != nil {
				ps.Add("/applicationSchema", "approval.application-schema.invalid", "the application schema does not compile: %v; expected a self-contained JSON Schema (draft 2020-12)", err)
			}
			d.appSchema = s
		}
	}
}

func (d *Definition) checkStep(i int, ps *problems, within func(ptr, what, limit string)) {
	s := &d.Steps[i]
	p := stepPtr(i)
	if len(s.Assignees) == 0 {
		ps.Add(p+"/assignees", "approval.step.no-assignee", "step %q has no assignee; expected at least one user, role or org", s.ID)
	}
	switch s.Mode {
	case ModeSingle:
		if len(s.Assignees) > 1 {
			ps.Add(p+"/assignees", "approval.step.single-assignee", "step %q is single but names %d assignees; expected one, or mode all, any, sequential or quorum", s.ID, len(s.Assignees))
		}
	case ModeQuorum:
		// Each assignee is one task (a role or an organisation is one
		// task that any of its members completes), so k counts assignees.
		switch n := len(s.Assignees); {
		case s.Quorum == 0:
			ps.Add(p+"/quorum", "approval.step.quorum-missing", "step %q has mode quorum but no quorum; expected the number k of approvals that decide", s.ID)
		case n > 0 && s.Quorum > n:
			ps.Add(p+"/quorum", "approval.step.quorum-range", "step %q needs %d approvals from %d assignees; expected a quorum of at most %d", s.ID, s.Quorum, n, n)
		}
	}
	if s.Quorum != 0 && s.Mode != ModeQuorum {
		ps.Add(p+"/quorum", "approval.step.quorum-mode", "step %q has a quorum but mode %q; expected mode quorum, or no quorum", s.ID, s.Mode)
	}
	within(p+"/limit", "the step limit of "+strconv.Quote(s.ID), s.Limit)
	if s.IsDecision() {
		if len(s.Next) > 0 {
			ps.Add(p+"/next", "approval.step.decision-next", "decision step %q has branches; expected none: the decision (决定) ends the case", s.ID)
		}
		return
	}
	if len(s.Next) == 0 {
		ps.Add(p+"/next", "approval.step.no-next", "review step %q has no branches; expected next, or kind decision", s.ID)
		return
	}
	for j := range s.Next {
		b := &s.Next[j]
		bp := p + "/next/" + strconv.Itoa(j)
		if b.To != "" && d.steps[b.To] == nil {
			ps.Add(bp+"/to", "approval.branch.unknown-step", "branch to %q: no such step; expected one of the ids in steps", b.To)
		}
		if b.When == "" {
			if j != len(s.Next)-1 {
				ps.Add(bp, "approval.branch.unreachable", "branch %d of step %q has no condition, so the branches after it are never taken; expected the unconditional branch last", j, s.ID)
			}
			continue
		}
		c, err := CompileCondition(b.When)
		switch {
		case errors.Is(err, ErrNotBoolean):
			ps.Add(bp+"/when", "approval.condition.not-boolean", "condition %q: %v", b.When, err)
		case err != nil:
			ps.Add(bp+"/when", "approval.condition.compile", "condition %q does not compile: %s; expected a CEL expression over application", b.When, oneLine(err.Error()))
		default:
			b.cond = c
		}
		if j == len(s.Next)-1 {
			ps.Add(bp, "approval.branch.no-default", "the last branch of step %q has a condition, so a case can match none and stop; expected an unconditional last branch", s.ID)
		}
	}
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// checkFlow finds steps the start cannot reach and steps from which no
// decision can be reached (a cycle with no exit).
func (d *Definition) checkFlow(ps *problems) {
	if d.steps[d.Start] == nil {
		return // reported; reachability would only echo it
	}
	reached := map[string]bool{}
	var walk func(id string)
	walk = func(id string) {
		if reached[id] || d.steps[id] == nil {
			return
		}
		reached[id] = true
		for _, b := range d.steps[id].Next {
			walk(b.To)
		}
	}
	walk(d.Start)
	// Steps that can reach a decision: grow from the decisions backwards.
	exits := map[string]bool{}
	decisions := 0
	for _, s := range d.steps {
		if s.IsDecision() {
			exits[s.ID] = true
			decisions++
		}
	}
	for changed := true; changed; {
		changed = false
		for _, s := range d.steps {
			if exits[s.ID] {
				continue
			}
			for _, b := range s.Next {
				if exits[b.To] {
					exits[s.ID], changed = true, true
					break
				}
			}
		}
	}
	if decisions == 0 {
		ps.Add("/steps", "approval.flow.no-decision", "no step has kind decision; expected a final decision step (决定) that ends the case")
	}
	for i := range d.Steps {
		s := &d.Steps[i]
		if d.steps[s.ID] != s {
			continue // a duplicate, reported
		}
		switch {
		case !reached[s.ID]:
			ps.Add(stepPtr(i), "approval.step.unreachable", "step %q cannot be reached from the start step %q; expected every step on some path from the start", s.ID, d.Start)
		case !exits[s.ID] && decisions > 0:
			ps.Add(stepPtr(i), "approval.flow.no-exit", "from step %q no decision step can be reached: it is in a cycle with no exit; expected a path from every step to a decision", s.ID)
		}
	}
}

// ValidateApplication checks an application (申请) against the definition's
// application schema; every problem is a violation with a pointer into the
// application.
func (d *Definition) ValidateApplication(application any) []Violation {
	if _, ok := application.(map[string]any); !ok {
		return []Violation{{Pointer: "", Rule: "approval.application.type", Message: "the application is not a JSON object; expected an object"}}
	}
	if d.appSchema == nil {
		return nil
	}
	return schemacheck.Sorted[Violation](d.appSchema.Validate(application))
}

// MarshalJSON writes the definition as it was defined.
func (d *Definition) MarshalJSON() ([]byte, error) {
	type plain Definition
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode((*plain)(d)); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
