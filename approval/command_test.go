package approval

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeCommand(t *testing.T) {
	t.Parallel()
	line, err := DecodeCommand([]byte(`{"cmd":"start","actor":"alice","case":"c1","key":"k","definition":"d","definitionVersion":2,"application":{"a":1.50}}`))
	require.NoError(t, err)
	require.NotNil(t, line.Start)
	assert.Nil(t, line.Command)
	assert.Equal(t, StartCommand{CaseID: "c1", Definition: "d", Version: 2, Applicant: "alice", IdempotencyKey: "k", Application: app(t, `{"a":1.50}`)}, *line.Start)

	line, err = DecodeCommand([]byte(`{"cmd":"start","actor":"alice","definition":"d","application":{},"department":{"name":"重庆市财政局","orgId":"11500000MB1972360U"}}`))
	require.NoError(t, err)
	assert.Equal(t, &Organ{Name: "重庆市财政局", OrgID: "11500000MB1972360U"}, line.Start.Department)

	line, err = DecodeCommand([]byte(`{"cmd":"addSigner","actor":"u1","version":3,"users":["a","b"],"position":"before","at":"2026-03-02T09:00:00+08:00"}`))
	require.NoError(t, err)
	require.NotNil(t, line.Command)
	assert.Equal(t, Command{Kind: CmdAddSigner, Actor: "u1", ExpectedVersion: 3, Users: []string{"a", "b"}, Position: Before}, *line.Command)
	assert.True(t, line.At.Equal(time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)))

	tests := []struct {
		name, line, rule string
	}{
		{"not json", `{`, RuleMalformed},
		{"array", `[]`, RuleMalformed},
		{"duplicate key", `{"cmd":"accept","cmd":"approve","actor":"u"}`, RuleMalformed},
		{"unknown member", `{"cmd":"accept","actor":"u","colour":"red"}`, RuleMalformed},
		{"wrong type", `{"cmd":"accept","actor":"u","version":"3"}`, RuleMalformed},
		{"no cmd", `{"actor":"u"}`, RuleMalformed},
		{"unknown cmd", `{"cmd":"frob","actor":"u"}`, RuleMalformed},
		{"no actor", `{"cmd":"accept"}`, RuleInvalid},
		{"bad time", `{"cmd":"accept","actor":"u","at":"yesterday"}`, RuleInvalid},
		{"application not object", `{"cmd":"resubmit","actor":"u","application":[1]}`, RuleInvalid},
		{"negative version", `{"cmd":"accept","actor":"u","version":-1}`, RuleInvalid},
		{"invalid utf-8", "{\"cmd\":\"accept\",\"actor\":\"\xff\"}", RuleMalformed},
		{"department off start", `{"cmd":"accept","actor":"u","department":{"name":"x","orgId":"11500000MB1972360U"}}`, RuleInvalid},
		{"department unknown member", `{"cmd":"start","actor":"u","department":{"name":"x","code":"1"}}`, RuleMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := DecodeCommand([]byte(tt.line))
			require.Error(t, err)
			assert.Equal(t, tt.rule, RuleOf(err), "%v", err)
		})
	}
	assert.Equal(t, "", RuleOf(errors.New("x")))
	assert.Contains(t, Command{Kind: CmdAccept, Actor: "u", CaseID: "c", ExpectedVersion: 2}.String(), "accept by u on c at version 2")
}
