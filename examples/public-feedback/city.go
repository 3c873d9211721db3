package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/egovkit/egovkit/approval"
	"github.com/egovkit/egovkit/docdoc"
	"github.com/egovkit/egovkit/internal/strictjson"
)

// cityConfig is city.json: the kinds of message and their process
// definitions, the platform (the 12345 hotline centre that receives every
// message), the departments that answer them, and the routing table.
// Everything a city changes without code is in it or in the definitions
// it names.
type cityConfig struct {
	City         string       `json:"city"`
	Kinds        []kindConf   `json:"kinds"`
	Extension    string       `json:"extension"`    // the extension request's definition (延期申请审批)
	Satisfaction string       `json:"satisfaction"` // the satisfaction evaluation's definition (满意度回访)
	Platform     department   `json:"platform"`
	Supervisors  []string     `json:"supervisors"` // the users who approve extensions and follow up escalations (督办)
	Departments  []department `json:"departments"`
	Routes       []route      `json:"routes"`
}

// kindConf is one kind of message (诉求类型) and the file of its definition.
type kindConf struct {
	Kind       string `json:"kind"`       // complaint, report, enquiry, evaluation, suggestion
	Name       string `json:"name"`       // 投诉, 举报, 咨询, 评价, 建议
	Definition string `json:"definition"` // path inside the configuration
}

// department is an organ that answers messages (承办单位), or the platform.
type department struct {
	Key     string   `json:"key"`
	Name    string   `json:"name"`
	Short   string   `json:"short"`
	OrgID   string   `json:"orgId"`   // 统一社会信用代码
	DocCode string   `json:"docCode"` // 机关代字 of its letters, such as 渝中市监函
	Staff   []string `json:"staff"`   // users who handle its messages
}

// route sends a message to a department: it matches when each of its
// non-empty lists holds the message's kind, topic and district. The first
// matching route wins.
type route struct {
	Kinds      []string `json:"kinds,omitempty"`
	Topics     []string `json:"topics,omitempty"`
	Districts  []string `json:"districts,omitempty"`
	Department string   `json:"department"`
}

// matches reports whether the route takes a message of this kind, topic and district.
func (r route) matches(kind, topic, district string) bool {
	ok := func(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }
	return ok(r.Kinds, kind) && ok(r.Topics, topic) && ok(r.Districts, district)
}

// city is a loaded configuration: the definitions parsed, the departments
// indexed.
type city struct {
	cityConfig
	kinds        map[string]*kindDef
	extension    *approval.Definition
	satisfaction *approval.Definition
	depts        map[string]*department // by key, the platform included
	byOrg        map[string]*department
}

// kindDef is a kind's definition. Its department is the platform, which
// stands for the responsible department: each case starts for the
// department the message is routed to (approval.StartCommand.Department),
// and the steps assigned to the platform go to that department.
type kindDef struct {
	conf     kindConf
	template *approval.Definition
}

// loadCity reads city.json and the definitions it names from fsys,
// strictly, and checks that they fit together: every name known, every
// organisation code valid, every definition valid (as egovkit approval
// check has it), every kind's definition owned by the platform.
func loadCity(fsys fs.FS) (*city, error) {
	raw, err := fs.ReadFile(fsys, "city.json")
	if err != nil {
		return nil, err
	}
	var conf cityConfig
	if err := decodeStrict(raw, &conf); err != nil {
		return nil, fmt.Errorf("city.json: %w", err)
	}
	c := &city{cityConfig: conf, kinds: map[string]*kindDef{}, depts: map[string]*department{}, byOrg: map[string]*department{}}
	var problems []error
	bad := func(format string, args ...any) { problems = append(problems, fmt.Errorf(format, args...)) }
	broken := map[string]bool{} // kinds whose definition failed, so that routes naming them do not fail again

	addDept := func(ptr string, d *department) {
		switch {
		case d.Key == "" || d.Name == "" || d.Short == "" || d.DocCode == "":
			bad("%s: key, name, short and docCode are required", ptr)
		case c.depts[d.Key] != nil:
			bad("%s: key %q used twice; expected unique keys", ptr, d.Key)
		}
		if err := docdoc.CheckOrgID(d.OrgID); err != nil {
			bad("%s/orgId: %w", ptr, err)
		} else if c.byOrg[d.OrgID] != nil {
			bad("%s/orgId: %s used twice; expected one organisation per code", ptr, d.OrgID)
		}
		if len(d.Staff) == 0 {
			bad("%s/staff: expected at least one user", ptr)
		}
		c.depts[d.Key], c.byOrg[d.OrgID] = d, d
	}
	addDept("/platform", &c.Platform)
	for i := range c.Departments {
		addDept(fmt.Sprintf("/departments/%d", i), &c.Departments[i])
	}
	if len(c.Supervisors) == 0 {
		bad("/supervisors: expected at least one user who approves extensions")
	}
	if len(c.Kinds) == 0 {
		bad("/kinds: expected at least one kind of message")
	}
	for i, k := range c.Kinds {
		ptr := fmt.Sprintf("/kinds/%d", i)
		if k.Kind == "" || k.Name == "" {
			bad("%s: kind and name are required", ptr)
			continue
		}
		if c.kinds[k.Kind] != nil {
			bad("%s: kind %q listed twice", ptr, k.Kind)
			continue
		}
		_, def, err := readDefinition(fsys, k.Definition)
		if err != nil {
			bad("%s/definition: %w", ptr, err)
			broken[k.Kind] = true
			continue
		}
		if def.Department == nil || def.Department.OrgID != c.Platform.OrgID {
			bad("%s/definition: %s: department must be the platform (%s), which stands for the responsible department", ptr, k.Definition, c.Platform.OrgID)
			broken[k.Kind] = true
			continue
		}
		c.kinds[k.Kind] = &kindDef{conf: k, template: def}
	}
	for _, f := range []struct {
		ptr, file string
		def       **approval.Definition
	}{{"/extension", c.Extension, &c.extension}, {"/satisfaction", c.Satisfaction, &c.satisfaction}} {
		_, def, err := readDefinition(fsys, f.file)
		if err != nil {
			bad("%s: %w", f.ptr, err)
			continue
		}
		*f.def = def
	}
	for i, r := range c.Routes {
		ptr := fmt.Sprintf("/routes/%d", i)
		if c.depts[r.Department] == nil {
			bad("%s/department: unknown department %q; expected the platform's or a department's key", ptr, r.Department)
		}
		for _, k := range r.Kinds {
			if c.kinds[k] == nil && !broken[k] {
				bad("%s/kinds: unknown kind %q", ptr, k)
			}
		}
	}
	if len(problems) > 0 {
		return nil, &configError{problems}
	}
	return c, nil
}

// configError lists every problem of a city's configuration, each naming
// where it is (a JSON Pointer into city.json, and the file). errors.Is and
// errors.As see each problem's cause, such as a *approval.DefinitionError.
type configError struct{ problems []error }

// Error lists the problems, one a line.
func (e *configError) Error() string {
	msgs := make([]string, len(e.problems))
	for i, p := range e.problems {
		msgs[i] = strings.ReplaceAll(p.Error(), "\n", "\n    ")
	}
	return fmt.Sprintf("city configuration: %d problem(s):\n  %s", len(e.problems), strings.Join(msgs, "\n  "))
}

// Unwrap returns the problems.
func (e *configError) Unwrap() []error { return e.problems }

// readDefinition reads and parses one definition file.
func readDefinition(fsys fs.FS, name string) ([]byte, *approval.Definition, error) {
	if name == "" {
		return nil, nil, errors.New("no definition file named")
	}
	raw, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, nil, err
	}
	def, err := approval.ParseDefinition(bytes.NewReader(raw))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return raw, def, nil
}

// decodeStrict decodes JSON that passes the strict reader (no duplicate
// names, valid UTF-8) into v, refusing unknown members.
func decodeStrict(raw []byte, v any) error {
	if _, err := strictjson.Parse(raw, strictjson.Limits{}); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// route returns the department responsible for a message.
func (c *city) route(kind, topic, district string) (*department, error) {
	for _, r := range c.Routes {
		if r.matches(kind, topic, district) {
			return c.depts[r.Department], nil
		}
	}
	return nil, fmt.Errorf("no route in city.json for a %s on %q in %q; expected a route that matches it", kind, topic, district)
}

// handler is the organ a message routed to d is started for: nil for
// the platform itself (the definition's own department), d otherwise.
func (c *city) handler(d *department) *approval.Organ {
	if d.Key == c.Platform.Key {
		return nil
	}
	return &approval.Organ{Name: d.Name, OrgID: d.OrgID}
}
