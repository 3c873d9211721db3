package approval_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/egovkit/egovkit/approval"
)

// Load a definition and list its problems.
func ExampleParseDefinition() {
	_, err := approval.ParseDefinition(strings.NewReader(`{
	  "specVersion": "approval/1",
	  "id": "outdoor-advertising",
	  "version": 2,
	  "name": "户外广告设施设置审批",
	  "limits": {"legal": "20wd"},
	  "start": "accept",
	  "steps": [
	    {"id": "accept", "name": "受理", "mode": "any", "assignees": [{"role": "window-clerk"}],
	     "next": [{"when": "application.area > 50", "to": "hearing"}, {"to": "decide"}]},
	    {"id": "review", "name": "审查", "mode": "single", "assignees": [], "next": [{"to": "decide"}]},
	    {"id": "decide", "name": "决定", "kind": "decision", "mode": "single", "assignees": [{"role": "head"}], "limit": "30wd"}
	  ]
	}`))
	var de *approval.DefinitionError
	if errors.As(err, &de) {
		for _, v := range de.Violations {
			fmt.Println(v.Pointer, v.Rule)
		}
	}
	// Output:
	// /steps/0/next/0/to approval.branch.unknown-step
	// /steps/1 approval.step.unreachable
	// /steps/1/assignees approval.step.no-assignee
	// /steps/2/limit approval.limit.exceeds-legal
}
