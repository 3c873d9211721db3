package approval

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/egovkit/egovkit/internal/strictjson"
)

func loadSample(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/annual-inspection.json")
	require.NoError(t, err)
	return data
}

func TestParseDefinitionSample(t *testing.T) {
	t.Parallel()
	d, err := ParseDefinition(strings.NewReader(string(loadSample(t))))
	require.NoError(t, err)
	assert.Equal(t, "enterprise-annual-inspection", d.ID)
	assert.Equal(t, 1, d.Version)
	assert.Equal(t, "20wd", d.Limits.Legal)
	require.NotNil(t, d.Step("review"))
	assert.True(t, d.Step("decide").IsDecision())
	assert.Nil(t, d.Step("nope"))

	cond := d.Step("review").Next[0].Condition()
	require.NotNil(t, cond)
	app := func(s string) map[string]any {
		tree, err := strictjson.Parse([]byte(s), strictjson.Limits{})
		require.NoError(t, err)
		return tree.(map[string]any)
	}
	for s, want := range map[string]bool{
		`{"enterprise":"甲","orgId":"91500000MA5U7X3P0D","registeredCapital":20000000}`:              true,
		`{"enterprise":"乙","orgId":"91500000MA5U7X3P0D","registeredCapital":500000.5}`:              false,
		`{"enterprise":"丙","orgId":"91500000MA5U7X3P0D","registeredCapital":1,"hazardous":true}`:    true,
		`{"enterprise":"丁","orgId":"91500000MA5U7X3P0D","registeredCapital":1e3,"hazardous":false}`: false,
	} {
		a := app(s)
		assert.Empty(t, d.ValidateApplication(a), s)
		got, err := cond.Eval(a)
		require.NoError(t, err, s)
		assert.Equal(t, want, got, s)
	}
	vs := d.ValidateApplication(app(`{"enterprise":"","registeredCapital":"many"}`))
	var rules []string
	for _, v := range vs {
		rules = append(rules, v.Pointer+" "+v.Rule)
	}
	assert.Equal(t, []string{"/enterprise approval.application.schema.min-length", "/orgId approval.application.schema.required", "/registeredCapital approval.application.schema.type"}, rules)
	assert.NotEmpty(t, d.ValidateApplication([]any{}))

	_, err = cond.Eval(app(`{}`))
	assert.Error(t, err, "a missing field is an error, not false")

	out, err := json.Marshal(d)
	require.NoError(t, err)
	again, err := ParseDefinition(strings.NewReader(string(out)))
	require.NoError(t, err)
	out2, err := json.Marshal(again)
	require.NoError(t, err)
	assert.JSONEq(t, string(out), string(out2))
}

// mutate applies f to the sample definition's tree and parses the result.
func mutate(t *testing.T, f func(m map[string]any)) error {
	t.Helper()
	tree, err := strictjson.Parse(loadSample(t), strictjson.Limits{})
	require.NoError(t, err)
	f(tree.(map[string]any))
	data, err := json.Marshal(tree)
	require.NoError(t, err)
	_, err = ParseDefinition(strings.NewReader(string(data)))
	return err
}

func steps(m map[string]any) []any { return m["steps"].([]any) }
func step(m map[string]any, i int) map[string]any {
	return steps(m)[i].(map[string]any)
}

func TestParseDefinitionProblems(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		f    func(m map[string]any)
		want []string // "POINTER RULE"
	}{
		{"unknown branch target", func(m map[string]any) {
			step(m, 0)["next"] = []any{map[string]any{"to": "reveiw"}}
		}, []string{"/steps/0 approval.flow.no-exit", "/steps/0/next/0/to approval.branch.unknown-step", "/steps/1 approval.step.unreachable", "/steps/2 approval.step.unreachable", "/steps/3 approval.step.unreachable"}},
		{"unreachable step", func(m map[string]any) {
			step(m, 1)["next"] = []any{map[string]any{"to": "decide"}}
		}, []string{"/steps/2 approval.step.unreachable"}},
		{"no assignee", func(m map[string]any) { step(m, 1)["assignees"] = []any{} }, []string{"/steps/1/assignees approval.step.no-assignee"}},
		{"condition does not compile", func(m map[string]any) {
			step(m, 1)["next"].([]any)[0].(map[string]any)["when"] = "application.registeredCapital >>> 1"
		}, []string{"/steps/1/next/0/when approval.condition.compile"}},
		{"condition not boolean", func(m map[string]any) {
			step(m, 1)["next"].([]any)[0].(map[string]any)["when"] = "application.registeredCapital + 1"
		}, []string{"/steps/1/next/0/when approval.condition.not-boolean"}},
		{"bare dyn field is not boolean", func(m map[string]any) {
			step(m, 1)["next"].([]any)[0].(map[string]any)["when"] = "application.hazardous"
		}, []string{"/steps/1/next/0/when approval.condition.not-boolean"}},
		{"cycle with no exit", func(m map[string]any) {
			step(m, 1)["next"] = []any{map[string]any{"when": "application.registeredCapital > 0", "to": "countersign"}, map[string]any{"to": "countersign"}}
			step(m, 2)["next"] = []any{map[string]any{"to": "review"}}
		}, []string{"/steps/0 approval.flow.no-exit", "/steps/1 approval.flow.no-exit", "/steps/2 approval.flow.no-exit", "/steps/3 approval.step.unreachable"}},
		{"no decision", func(m map[string]any) {
			step(m, 3)["kind"] = "review"
			step(m, 3)["next"] = []any{map[string]any{"to": "review"}}
		}, []string{"/steps approval.flow.no-decision"}},
		{"duplicate id", func(m map[string]any) { step(m, 2)["id"] = "review" }, []string{"/steps/1/next/0/to approval.branch.unknown-step", "/steps/2/id approval.step.duplicate-id"}},
		{"unknown start", func(m map[string]any) { m["start"] = "begin" }, []string{"/start approval.start.unknown-step"}},
		{"last branch conditional", func(m map[string]any) {
			step(m, 1)["next"] = []any{map[string]any{"when": "application.registeredCapital > 0", "to": "decide"}, map[string]any{"when": "application.registeredCapital <= 0", "to": "countersign"}}
		}, []string{"/steps/1/next/1 approval.branch.no-default"}},
		{"unconditional branch first", func(m map[string]any) {
			step(m, 1)["next"] = []any{map[string]any{"to": "decide"}, map[string]any{"to": "countersign"}}
		}, []string{"/steps/1/next/0 approval.branch.unreachable"}},
		{"review without next", func(m map[string]any) { delete(step(m, 2), "next") }, []string{"/steps/2 approval.flow.no-exit", "/steps/2/next approval.step.no-next"}},
		{"decision with next", func(m map[string]any) { step(m, 3)["next"] = []any{map[string]any{"to": "review"}} }, []string{"/steps/3/next approval.step.decision-next"}},
		{"single with two", func(m map[string]any) {
			step(m, 1)["assignees"] = []any{map[string]any{"user": "a"}, map[string]any{"user": "b"}}
		}, []string{"/steps/1/assignees approval.step.single-assignee"}},
		{"quorum missing", func(m map[string]any) { step(m, 2)["mode"] = "quorum" }, []string{"/steps/2/quorum approval.step.quorum-missing"}},
		{"quorum too large", func(m map[string]any) {
			step(m, 2)["mode"] = "quorum"
			step(m, 2)["quorum"] = 3
			step(m, 2)["assignees"] = []any{map[string]any{"user": "a"}, map[string]any{"user": "b"}}
		}, []string{"/steps/2/quorum approval.step.quorum-range"}},
		{"quorum on another mode", func(m map[string]any) { step(m, 2)["quorum"] = 1 }, []string{"/steps/2/quorum approval.step.quorum-mode"}},
		{"step limit over legal", func(m map[string]any) { step(m, 1)["limit"] = "25wd" }, []string{"/steps/1/limit approval.limit.exceeds-legal"}},
		{"promised over legal", func(m map[string]any) { m["limits"].(map[string]any)["promised"] = "21wd" }, []string{"/limits/promised approval.limit.exceeds-legal"}},
		{"extension in another unit", func(m map[string]any) { m["limits"].(map[string]any)["extension"] = "10d" }, []string{"/limits/extension approval.limit.extension-unit"}},
		{"promised in hours, legal in days", func(m map[string]any) { m["limits"].(map[string]any)["promised"] = "48h" }, []string{"/limits/promised approval.limit.unit-mix"}},
		{"bad limit", func(m map[string]any) { m["limits"].(map[string]any)["legal"] = "20 days" }, []string{"/limits/legal approval.limit.format"}},
		{"assignee with two members", func(m map[string]any) {
			step(m, 0)["assignees"] = []any{map[string]any{"user": "a", "role": "b"}}
		}, []string{"/steps/0/assignees/0 approval.assignee.form"}},
		{"unknown member", func(m map[string]any) { step(m, 0)["timeout"] = "5d" }, []string{"/steps/0/timeout approval.schema.unknown-member"}},
		{"bad mode", func(m map[string]any) { step(m, 0)["mode"] = "majority" }, []string{"/steps/0/mode approval.step.mode"}},
		{"bad application schema", func(m map[string]any) {
			m["applicationSchema"] = map[string]any{"$ref": "file:///etc/passwd"}
		}, []string{"/applicationSchema approval.application-schema.invalid"}},
		{"missing name", func(m map[string]any) { delete(m, "name") }, []string{"/name approval.schema.required"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := mutate(t, tc.f)
			var de *DefinitionError
			require.ErrorAs(t, err, &de)
			assert.True(t, errors.Is(err, ErrInvalidDefinition))
			var got []string
			for _, v := range de.Violations {
				got = append(got, v.Pointer+" "+v.Rule)
				assert.NotEmpty(t, v.Message)
			}
			assert.Equal(t, tc.want, got, "%v", de.Violations)
		})
	}
}

func TestParseDefinitionStrictReading(t *testing.T) {
	t.Parallel()
	for in, rule := range map[string]string{
		`{"specVersion":"approval/1","specVersion":"approval/1"}`: "approval.json.duplicate-name",
		"{\"name\":\"\xff\"}": "approval.json.invalid-utf8",
		`{`:                   "approval.json.syntax",
	} {
		_, err := ParseDefinition(strings.NewReader(in))
		var de *DefinitionError
		require.ErrorAs(t, err, &de, in)
		assert.Equal(t, []string{rule}, de.Rules())
	}
}

func TestConditionBounds(t *testing.T) {
	t.Parallel()
	_, err := CompileCondition(strings.Repeat("(", 300) + "true" + strings.Repeat(")", 300))
	assert.Error(t, err, "nesting is bounded")
	_, err = CompileCondition("true && " + strings.Repeat("true && ", 300) + "true")
	assert.Error(t, err, "length is bounded")
	c, err := CompileCondition(`[1,2,3].all(x, [1,2,3].all(y, [1,2,3].all(z, x + y + z > 0)))`)
	require.NoError(t, err)
	ok, err := c.Eval(map[string]any{})
	require.NoError(t, err)
	assert.True(t, ok)
	c, err = CompileCondition(`application.list.all(a, application.list.all(b, application.list.all(c, a + b + c >= 0)))`)
	require.NoError(t, err)
	big := make([]any, 200)
	for i := range big {
		big[i] = json.Number("1")
	}
	_, err = c.Eval(map[string]any{"list": big})
	assert.ErrorContains(t, err, "cost", "8 million iterations exceed the cost limit")
}
