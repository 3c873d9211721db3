package approval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/egovkit/egovkit/deadline"
)

func TestAnnualInspectionCountersign(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sampleDef(t), nil)
	c := h.start(bigApp)
	assert.Equal(t, StatusSubmitted, c.Status)
	assert.Equal(t, "accept", c.Step)
	assert.Equal(t, "20wd", c.Limits.Legal)
	assert.Equal(t, "5wd", c.StepLimit)

	h.refused(RuleNotAssignee, Command{Kind: CmdAccept, Actor: "rev1"})
	h.refused(RuleWrongState, Command{Kind: CmdApprove, Actor: "clerk1"})
	c = h.must(Command{Kind: CmdAccept, Actor: "clerk2"})
	assert.Equal(t, StatusInReview, c.Status)
	assert.True(t, c.Accepted)
	assert.Equal(t, "review", c.Step)

	c = h.must(Command{Kind: CmdApprove, Actor: "rev1", Comment: "材料齐全"})
	require.Equal(t, "countersign", c.Step, "registered capital over 10,000,000 takes the 会签 branch")
	require.Len(t, c.PendingTasks(), 2)

	h.refused(RuleWrongState, Command{Kind: CmdDecide, Actor: "head1", Decision: Granted})
	c = h.must(Command{Kind: CmdApprove, Actor: "env2"})
	assert.Equal(t, "countersign", c.Step, "会签 waits for every assignee")
	h.refused(RuleAlreadyActed, Command{Kind: CmdApprove, Actor: "env2"})
	h.refused(RuleNotAssignee, Command{Kind: CmdApprove, Actor: "env1"}) // the environment bureau's task is done
	c = h.must(Command{Kind: CmdApprove, Actor: "fire1"})
	assert.Equal(t, "decide", c.Step)

	h.refused(RuleInvalid, Command{Kind: CmdDecide, Actor: "head1", Decision: Denied})
	c = h.must(Command{Kind: CmdDecide, Actor: "head1", Decision: Granted, Reason: "符合年检条件"})
	assert.Equal(t, StatusGranted, c.Status)
	require.NotNil(t, c.Decision)
	assert.Equal(t, Granted, c.Decision.Outcome)
	assert.Equal(t, []string{"符合年检条件"}, c.Decision.Reasons)
	assert.Equal(t, "head1", c.Decision.By)
	assert.Equal(t, []string{"accept", "review", "countersign", "decide"}, c.Path)
	assert.Equal(t, []Copy{{To: Assignee{Role: "supervision-office"}, When: "end", At: c.EndedAt}}, c.Copies)
	users, err := h.e.CopyRecipients(h.ctx, c)
	require.NoError(t, err)
	assert.Equal(t, []string{"sup1"}, users)
	var marks []MarkKind
	for _, m := range c.Marks {
		marks = append(marks, m.Kind)
	}
	assert.Equal(t, []MarkKind{MarkSubmitted, MarkStep, MarkAccepted, MarkStep, MarkStep, MarkStep, MarkEnded}, marks)
	assert.Equal(t, []string{"clerk2", "rev1", "env2", "fire1", "head1"}, c.Participants)
	h.refused(RuleWrongState, Command{Kind: CmdWithdraw, Actor: "alice"})
	h.checkReplay()
}

func TestSmallCompanySkipsCountersign(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sampleDef(t), nil)
	h.start(smallApp)
	h.must(Command{Kind: CmdAccept, Actor: "clerk1"})
	c := h.must(Command{Kind: CmdApprove, Actor: "rev1"})
	assert.Equal(t, "decide", c.Step)
	c = h.must(Command{Kind: CmdDecide, Actor: "head1", Decision: Denied, Reason: "年报未公示"})
	assert.Equal(t, StatusDenied, c.Status)
	assert.Equal(t, Denied, c.Decision.Outcome)
	h.checkReplay()
}

// checkReplay: replaying any prefix of the log gives the state the case
// had at that version.
func (h *harness) checkReplay() {
	h.t.Helper()
	events, err := h.e.History(h.ctx, h.id)
	require.NoError(h.t, err)
	for k := 1; k <= len(events); k++ {
		got, err := Replay(h.def, events[:k])
		require.NoError(h.t, err)
		want, ok := h.states[k]
		require.True(h.t, ok, "no state recorded at version %d", k)
		wantJSON, err := json.Marshal(want)
		require.NoError(h.t, err)
		gotJSON, err := json.Marshal(got)
		require.NoError(h.t, err)
		require.JSONEq(h.t, string(wantJSON), string(gotJSON), "version %d", k)
	}
}

const modesDef = `{
  "specVersion": "approval/1", "id": "modes", "version": 1, "name": "modes",
  "limits": {"legal": "20wd"}, "start": "intake",
  "steps": [
    {"id": "intake", "name": "受理", "mode": "single", "assignees": [{"user": "clerk"}], "next": [{"to": "vote"}]},
    {"id": "vote", "name": "审查", "mode": "%s", %s "assignees": [{"user": "u1"}, {"user": "u2"}, {"user": "u3"}], "next": [{"to": "decide"}]},
    {"id": "decide", "name": "决定", "kind": "decision", "mode": "single", "assignees": [{"user": "head"}]}
  ]
}`

func TestStepModes(t *testing.T) {
	t.Parallel()
	type vote struct {
		user    string
		approve bool
		rule    string // refused with this rule
	}
	yes := func(u string) vote { return vote{user: u, approve: true} }
	no := func(u string) vote { return vote{user: u} }
	tests := []struct {
		mode   string
		votes  []vote
		want   string // the step after the votes, or the status when ended
		quorum int
	}{
		{mode: "all", votes: []vote{yes("u1"), yes("u2")}, want: "vote"},
		{mode: "all", votes: []vote{yes("u3"), yes("u1"), yes("u2")}, want: "decide"},
		{mode: "all", votes: []vote{yes("u1"), no("u2")}, want: string(StatusRejected)},
		{mode: "any", votes: []vote{yes("u2")}, want: "decide"},
		{mode: "any", votes: []vote{no("u1"), no("u2")}, want: "vote"},
		{mode: "any", votes: []vote{no("u1"), no("u2"), yes("u3")}, want: "decide"},
		{mode: "any", votes: []vote{no("u1"), no("u2"), no("u3")}, want: string(StatusRejected)},
		{mode: "sequential", votes: []vote{{user: "u2", approve: true, rule: RuleNotAssignee}, yes("u1"), {user: "u3", approve: true, rule: RuleNotAssignee}, yes("u2")}, want: "vote"},
		{mode: "sequential", votes: []vote{yes("u1"), yes("u2"), yes("u3")}, want: "decide"},
		{mode: "sequential", votes: []vote{yes("u1"), no("u2")}, want: string(StatusRejected)},
		{mode: "quorum", quorum: 2, votes: []vote{yes("u1"), no("u2")}, want: "vote"},
		{mode: "quorum", quorum: 2, votes: []vote{yes("u1"), no("u2"), yes("u3")}, want: "decide"},
		{mode: "quorum", quorum: 2, votes: []vote{no("u1"), no("u2")}, want: string(StatusRejected)},
		{mode: "quorum", quorum: 2, votes: []vote{yes("u3"), yes("u2")}, want: "decide"},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%s%d %v", tt.mode, tt.quorum, tt.votes)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			q := ""
			if tt.quorum > 0 {
				q = fmt.Sprintf(`"quorum": %d,`, tt.quorum)
			}
			h := newHarness(t, mustDef(t, fmt.Sprintf(modesDef, tt.mode, q)), nil)
			h.start(`{}`)
			c := h.must(Command{Kind: CmdAccept, Actor: "clerk"})
			for _, v := range tt.votes {
				cmd := Command{Kind: CmdApprove, Actor: v.user}
				if !v.approve {
					cmd = Command{Kind: CmdReject, Actor: v.user, Reason: "不同意"}
				}
				if v.rule != "" {
					h.refused(v.rule, cmd)
					continue
				}
				c = h.must(cmd)
			}
			got := c.Step
			if c.Status.Ended() {
				got = string(c.Status)
			}
			assert.Equal(t, tt.want, got)
			h.checkReplay()
		})
	}
}

func TestAddSigner(t *testing.T) {
	t.Parallel()
	singleDef := mustDef(t, replaceOnce(fmt.Sprintf(modesDef, "single", ""), `"assignees": [{"user": "u1"}, {"user": "u2"}, {"user": "u3"}]`, `"assignees": [{"user": "u1"}]`))

	t.Run("before", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, singleDef, nil)
		h.start(`{}`)
		h.must(Command{Kind: CmdAccept, Actor: "clerk"})
		h.refused(RuleInvalid, Command{Kind: CmdAddSigner, Actor: "u1", Users: []string{"u1"}, Position: Before})
		h.refused(RuleInvalid, Command{Kind: CmdAddSigner, Actor: "u1", Users: []string{"x"}, Position: "below"})
		c := h.must(Command{Kind: CmdAddSigner, Actor: "u1", Users: []string{"expert"}, Position: Before})
		assert.Equal(t, TaskWaiting, c.Task("t2").State, "the owner waits for the signer added before")
		h.refused(RuleNotAssignee, Command{Kind: CmdApprove, Actor: "u1"})
		h.refused(RuleNotAssignee, Command{Kind: CmdAddSigner, Actor: "expert", Users: []string{"y"}, Position: Before})
		c = h.must(Command{Kind: CmdApprove, Actor: "expert"})
		assert.Equal(t, "vote", c.Step)
		assert.Equal(t, TaskPending, c.Task("t2").State)
		c = h.must(Command{Kind: CmdApprove, Actor: "u1"})
		assert.Equal(t, "decide", c.Step)
		h.checkReplay()
	})
	t.Run("after", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, singleDef, nil)
		h.start(`{}`)
		h.must(Command{Kind: CmdAccept, Actor: "clerk"})
		h.must(Command{Kind: CmdAddSigner, Actor: "u1", Users: []string{"deputy"}, Position: After})
		h.refused(RuleNotAssignee, Command{Kind: CmdApprove, Actor: "deputy"})
		c := h.must(Command{Kind: CmdApprove, Actor: "u1"})
		assert.Equal(t, "vote", c.Step, "the signer added after still has to act")
		c = h.must(Command{Kind: CmdReject, Actor: "deputy", Reason: "不同意"})
		assert.Equal(t, StatusRejected, c.Status, "a rejection by an added signer rejects the owner's task")
		h.checkReplay()
	})
	t.Run("alongside", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, singleDef, nil)
		h.start(`{}`)
		h.must(Command{Kind: CmdAccept, Actor: "clerk"})
		h.must(Command{Kind: CmdAddSigner, Actor: "u1", Users: []string{"a", "b"}, Position: Alongside})
		h.must(Command{Kind: CmdApprove, Actor: "b"})
		c := h.must(Command{Kind: CmdApprove, Actor: "u1"})
		assert.Equal(t, "vote", c.Step)
		c = h.must(Command{Kind: CmdApprove, Actor: "a"})
		assert.Equal(t, "decide", c.Step)
		h.checkReplay()
	})
}

func replaceOnce(s, old, new string) string {
	for i := 0; i+len(old) <= len(s); i++ {
		if s[i:i+len(old)] == old {
			return s[:i] + new + s[i+len(old):]
		}
	}
	panic("not found: " + old)
}

func TestTransferReturnCorrection(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sampleDef(t), nil)
	h.start(smallApp)
	c := h.must(Command{Kind: CmdRequestCorrection, Actor: "clerk1", Reason: "缺营业执照副本"})
	assert.Equal(t, StatusCorrection, c.Status)
	h.refused(RuleWrongState, Command{Kind: CmdAccept, Actor: "clerk1"})
	h.refused(RuleNotApplicant, Command{Kind: CmdResubmit, Actor: "clerk1"})
	h.refused(RuleApplicationInvalid, Command{Kind: CmdResubmit, Actor: "alice", Application: app(t, `{"enterprise":""}`)})
	c = h.must(Command{Kind: CmdResubmit, Actor: "alice", Application: app(t, bigApp)})
	assert.Equal(t, StatusSubmitted, c.Status)
	assert.Equal(t, MarkPaused, c.Marks[len(c.Marks)-2].Kind)
	assert.Equal(t, MarkResumed, c.Marks[len(c.Marks)-1].Kind)

	h.must(Command{Kind: CmdAccept, Actor: "clerk1"})
	h.refused(RuleInvalid, Command{Kind: CmdTransfer, Actor: "rev1"})
	c = h.must(Command{Kind: CmdTransfer, Actor: "rev1", To: "rev2", Reason: "出差"})
	assert.Equal(t, Assignee{User: "rev2"}, c.PendingTasks()[0].Assignee)
	assert.Equal(t, "role:reviewer", c.PendingTasks()[0].From)
	h.refused(RuleNotAssignee, Command{Kind: CmdApprove, Actor: "rev1"})
	c = h.must(Command{Kind: CmdApprove, Actor: "rev2"})
	assert.Equal(t, "countersign", c.Step, "the corrected application has the larger capital")

	h.refused(RuleReturnTarget, Command{Kind: CmdReturn, Actor: "fire1", To: "decide", Reason: "x"})
	h.refused(RuleReturnTarget, Command{Kind: CmdReturn, Actor: "fire1", To: "countersign", Reason: "x"})
	h.refused(RuleInvalid, Command{Kind: CmdReturn, Actor: "fire1", To: "review"})
	c = h.must(Command{Kind: CmdReturn, Actor: "fire1", To: "review", Reason: "消防意见需初审复核"})
	assert.Equal(t, "review", c.Step)
	assert.Equal(t, StatusInReview, c.Status)
	c = h.must(Command{Kind: CmdReturn, Actor: "rev1", ToApplicant: true, Reason: "请补充说明"})
	assert.Equal(t, StatusReturned, c.Status)
	assert.Empty(t, c.Step)
	c = h.must(Command{Kind: CmdResubmit, Actor: "alice"})
	assert.Equal(t, StatusSubmitted, c.Status)
	assert.Equal(t, "accept", c.Step)
	assert.False(t, c.Accepted)
	c = h.must(Command{Kind: CmdRefuse, Actor: "clerk2", Reason: "不属于本机关职权范围"})
	assert.Equal(t, StatusRefused, c.Status)
	h.checkReplay()
}

func TestWithdraw(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sampleDef(t), nil)
	h.start(smallApp)
	h.must(Command{Kind: CmdAccept, Actor: "clerk1"})
	h.refused(RuleNotApplicant, Command{Kind: CmdWithdraw, Actor: "rev1"})
	c := h.must(Command{Kind: CmdWithdraw, Actor: "alice", Reason: "不再申请"})
	assert.Equal(t, StatusWithdrawn, c.Status)
	assert.Nil(t, c.Decision)
	h.refused(RuleWrongState, Command{Kind: CmdApprove, Actor: "rev1"})

	h2 := newHarness(t, mustDef(t, fmt.Sprintf(modesDef, "any", "")), nil)
	h2.start(`{}`)
	h2.refused(RuleWithdrawNotAllowed, Command{Kind: CmdWithdraw, Actor: "alice"})
}

func TestUrgeExtendCommentCopy(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sampleDef(t), nil)
	h.start(smallApp)
	h.must(Command{Kind: CmdUrge, Actor: "alice"})
	h.refused(RuleUrgeTooSoon, Command{Kind: CmdUrge, Actor: "alice"})
	h.refused(RuleNotApplicant, Command{Kind: CmdUrge, Actor: "bob"})
	h.clock.Advance(24 * time.Hour)
	c := h.must(Command{Kind: CmdUrge, Actor: "alice"})
	assert.Equal(t, 2, c.PendingTasks()[0].Urges)

	h.refused(RuleWrongState, Command{Kind: CmdExtend, Actor: "clerk1", Approver: "head1", Reason: "x"})
	h.must(Command{Kind: CmdAccept, Actor: "clerk1"})
	h.refused(RuleInvalid, Command{Kind: CmdExtend, Actor: "rev1", Reason: "需现场核查"})
	h.refused(RuleExtensionTooLong, Command{Kind: CmdExtend, Actor: "rev1", Approver: "head1", Reason: "需现场核查", Extension: "11wd"})
	h.refused(RuleExtensionTooLong, Command{Kind: CmdExtend, Actor: "rev1", Approver: "head1", Reason: "需现场核查", Extension: "5d"})
	h.refused(RuleNotAssignee, Command{Kind: CmdExtend, Actor: "clerk1", Approver: "head1", Reason: "需现场核查"})
	c = h.must(Command{Kind: CmdExtend, Actor: "rev1", Approver: "head1", Reason: "需现场核查"})
	assert.Equal(t, &Extension{Length: "10wd", Approver: "head1", By: "rev1", Reason: "需现场核查", At: c.UpdatedAt}, c.Extension)
	h.refused(RuleExtensionUsed, Command{Kind: CmdExtend, Actor: "rev1", Approver: "head1", Reason: "again"})

	h.refused(RuleInvalid, Command{Kind: CmdComment, Actor: "alice"})
	h.refused(RuleNotAssignee, Command{Kind: CmdComment, Actor: "mallory", Comment: "hi"})
	h.must(Command{Kind: CmdComment, Actor: "alice", Comment: "请尽快办理"})
	h.must(Command{Kind: CmdComment, Actor: "rev1", Comment: "已核查"})
	h.refused(RuleNotAssignee, Command{Kind: CmdCopy, Actor: "alice", Users: []string{"x"}})
	c = h.must(Command{Kind: CmdCopy, Actor: "rev1", Users: []string{"sup1"}})
	assert.Len(t, c.Comments, 2)
	assert.Equal(t, []Copy{{To: Assignee{User: "sup1"}, When: "manual", By: "rev1", At: c.UpdatedAt}}, c.Copies)
	h.dir.AddOrg("11500000MB16089308", "env1")
	more := &Case{Copies: append(append([]Copy(nil), c.Copies...), Copy{To: Assignee{Org: "11500000MB16089308"}}, Copy{To: Assignee{User: "env1"}})}
	users, err := h.e.CopyRecipients(h.ctx, more)
	require.NoError(t, err)
	assert.Equal(t, []string{"sup1", "env1", "env2"}, users)
	h.refused(RuleInvalid, Command{Kind: CmdCopy, Actor: "rev1", Users: []string{"sup1", "sup1"}})

	h3 := newHarness(t, mustDef(t, fmt.Sprintf(modesDef, "any", "")), nil)
	h3.start(`{}`)
	h3.must(Command{Kind: CmdAccept, Actor: "clerk"})
	h3.refused(RuleNoExtension, Command{Kind: CmdExtend, Actor: "u1", Approver: "head", Reason: "x"})
	h.checkReplay()
}

func TestRefusedCommands(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sampleDef(t), nil)
	c := h.start(smallApp)
	tests := []struct {
		name string
		rule string
		cmd  Command
	}{
		{"stale version", RuleStaleVersion, Command{Kind: CmdAccept, Actor: "clerk1", ExpectedVersion: 7}},
		{"no version", RuleInvalid, Command{Kind: CmdAccept, Actor: "clerk1", ExpectedVersion: -1}},
		{"no actor", RuleInvalid, Command{Kind: CmdAccept}},
		{"unknown kind", RuleMalformed, Command{Kind: "frob", Actor: "clerk1"}},
		{"start via execute", RuleMalformed, Command{Kind: CmdStart, Actor: "clerk1"}},
		{"wrong actor", RuleNotAssignee, Command{Kind: CmdAccept, Actor: "rev1"}},
		{"unknown task", RuleInvalid, Command{Kind: CmdAccept, Actor: "clerk1", Task: "t99"}},
		{"refuse without reason", RuleInvalid, Command{Kind: CmdRefuse, Actor: "clerk1"}},
		{"reject before acceptance", RuleWrongState, Command{Kind: CmdReject, Actor: "clerk1", Reason: "x"}},
		{"decide at the start", RuleWrongState, Command{Kind: CmdDecide, Actor: "head1", Decision: Granted}},
		{"return before acceptance", RuleWrongState, Command{Kind: CmdReturn, Actor: "clerk1", ToApplicant: true, Reason: "x"}},
		{"resubmit unasked", RuleWrongState, Command{Kind: CmdResubmit, Actor: "alice"}},
		{"transfer to self", RuleInvalid, Command{Kind: CmdTransfer, Actor: "clerk1", To: "clerk1"}},
		{"long reason", RuleInvalid, Command{Kind: CmdRefuse, Actor: "clerk1", Reason: string(make([]byte, MaxTextLength+1))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.refused(tt.rule, tt.cmd)
		})
	}
	_, err := h.e.Execute(h.ctx, Command{Kind: CmdAccept, Actor: "clerk1", CaseID: "nope", ExpectedVersion: 1})
	assert.True(t, errors.Is(err, ErrUnknownCase), "%v", err)
	_, err = h.e.Execute(h.ctx, Command{Kind: CmdAccept, Actor: "rev1", CaseID: c.ID, ExpectedVersion: 1})
	assert.True(t, errors.Is(err, ErrNotAssignee))
	assert.False(t, errors.Is(err, ErrWrongState))
	var ce *CommandError
	require.True(t, errors.As(err, &ce))
	assert.Equal(t, CmdAccept, ce.Command)

	_, err = h.e.Start(h.ctx, StartCommand{Definition: "nope", Applicant: "a", Application: map[string]any{}})
	assert.True(t, errors.Is(err, ErrUnknownDefinition))
	_, err = h.e.Start(h.ctx, StartCommand{Definition: h.def.ID, Applicant: "a", Application: app(t, `{"orgId":"x"}`)})
	require.True(t, errors.As(err, &ce))
	assert.Equal(t, RuleApplicationInvalid, ce.Rule)
	assert.NotEmpty(t, ce.Violations)
	_, err = h.e.Start(h.ctx, StartCommand{Definition: h.def.ID, Application: app(t, smallApp)})
	assert.True(t, errors.Is(err, ErrInvalidCommand))
	_, err = h.e.Start(h.ctx, StartCommand{Definition: h.def.ID, Applicant: "a"})
	assert.True(t, errors.Is(err, ErrInvalidCommand))
}

func TestIdempotency(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sampleDef(t), nil)
	ctx := context.Background()
	start := StartCommand{CaseID: "case-1", Definition: h.def.ID, Applicant: "alice", Application: app(t, smallApp), IdempotencyKey: "s1"}
	r1, err := h.e.Start(ctx, start)
	require.NoError(t, err)
	r2, err := h.e.Start(ctx, start)
	require.NoError(t, err)
	assert.True(t, r2.Retried)
	assert.Equal(t, r1.Event.Hash, r2.Event.Hash)
	start.IdempotencyKey = "other"
	_, err = h.e.Start(ctx, start)
	assert.True(t, errors.Is(err, ErrCaseExists), "%v", err)

	accept := Command{Kind: CmdAccept, CaseID: "case-1", Actor: "clerk1", ExpectedVersion: 1, IdempotencyKey: "k1"}
	a1, err := h.e.Execute(ctx, accept)
	require.NoError(t, err)
	h.clock.Advance(time.Hour)
	a2, err := h.e.Execute(ctx, accept)
	require.NoError(t, err, "a retry with the old version returns the original result")
	assert.True(t, a2.Retried)
	assert.Equal(t, a1.Event.Hash, a2.Event.Hash)
	assert.Equal(t, 2, a2.Case.Version)
	reused := accept
	reused.Kind, reused.ExpectedVersion = CmdComment, 2
	_, err = h.e.Execute(ctx, reused)
	assert.True(t, errors.Is(err, ErrKeyReused), "%v", err)
	events, err := h.e.History(ctx, "case-1")
	require.NoError(t, err)
	assert.Len(t, events, 2, "the retry appended nothing")
}

// Two reviewers acting on the same version: one succeeds, the other gets
// a stale-version error, whatever the interleaving; run on each store by
// the conformance suite too.
func TestConcurrentReviewers(t *testing.T) {
	t.Parallel()
	h := newHarness(t, mustDef(t, fmt.Sprintf(modesDef, "all", "")), nil)
	h.start(`{}`)
	c := h.must(Command{Kind: CmdAccept, Actor: "clerk"})
	concurrentVotesOn(t, []*Engine{h.e, h.e, h.e}, c.ID, c.Version)
}

func TestQueries(t *testing.T) {
	t.Parallel()
	store := NewMemoryStore()
	queries(t, store)
}

func queries(t *testing.T, store Store) {
	h := newHarness(t, sampleDef(t), store)
	ctx := context.Background()
	h.start(bigApp)
	first := h.id
	h.start(smallApp)
	second := h.id
	h.must(Command{Kind: CmdAccept, Actor: "clerk1"})
	h.must(Command{Kind: CmdApprove, Actor: "rev1"})

	inbox, err := h.e.Inbox(ctx, "clerk2")
	require.NoError(t, err)
	require.Len(t, inbox, 1)
	assert.Equal(t, first, inbox[0].CaseID)
	assert.Equal(t, Assignee{Role: "window-clerk"}, inbox[0].Assignee)
	inbox, err = h.e.Inbox(ctx, "head1")
	require.NoError(t, err)
	require.Len(t, inbox, 1)
	assert.Equal(t, second, inbox[0].CaseID)
	assert.Equal(t, "decide", inbox[0].Step)

	h.id = first
	h.must(Command{Kind: CmdAccept, Actor: "clerk2"})
	h.must(Command{Kind: CmdApprove, Actor: "rev1"})
	inbox, err = h.e.Inbox(ctx, "env1")
	require.NoError(t, err)
	require.Len(t, inbox, 1, "org-resolved task")
	assert.Equal(t, Assignee{Org: "11500000MB16089308"}, inbox[0].Assignee)
	inbox, err = h.e.Inbox(ctx, "nobody")
	require.NoError(t, err)
	assert.Empty(t, inbox)

	review, err := h.e.Cases(ctx, CaseFilter{Status: StatusInReview, Department: "11500000MB1541240B"})
	require.NoError(t, err)
	require.Len(t, review, 2)
	assert.Equal(t, first, review[0].ID, "most recently updated first")
	assert.Equal(t, "countersign", review[0].Step)
	none, err := h.e.Cases(ctx, CaseFilter{Department: "91500000MA5U7X3P0D"})
	require.NoError(t, err)
	assert.Empty(t, none)
	h.id = second
	h.must(Command{Kind: CmdDecide, Actor: "head1", Decision: Granted})
	granted, err := h.e.Cases(ctx, CaseFilter{Status: StatusGranted})
	require.NoError(t, err)
	require.Len(t, granted, 1)
	assert.Equal(t, second, granted[0].ID)
	inbox, err = h.e.Inbox(ctx, "head1")
	require.NoError(t, err)
	assert.Empty(t, inbox)

	// Cases by card: the first case, accepted on 2026-03-02 and open,
	// reaches each level in turn; the decided one none.
	for _, tc := range []struct {
		at   time.Time
		card deadline.Level
	}{
		{shanghai(3, 26, 9), deadline.LevelWarning},
		{shanghai(3, 31, 9), deadline.LevelYellow},
		{shanghai(4, 20, 9), deadline.LevelRed},
	} {
		for _, l := range []deadline.Level{deadline.LevelWarning, deadline.LevelYellow, deadline.LevelRed} {
			got, err := h.e.Cases(ctx, CaseFilter{Card: l, CardAt: tc.at})
			require.NoError(t, err)
			if l != tc.card {
				assert.Empty(t, got, "%s at %s", l, tc.at)
				continue
			}
			require.Len(t, got, 1, "%s at %s", l, tc.at)
			assert.Equal(t, first, got[0].ID)
			assert.Equal(t, l, got[0].Cards.Level(tc.at))
		}
	}
	early, err := h.e.Cases(ctx, CaseFilter{Card: deadline.LevelWarning})
	require.NoError(t, err)
	assert.Empty(t, early, "by the engine's clock, on 2026-03-02, no card yet")

	hist, err := h.e.History(ctx, first)
	require.NoError(t, err)
	var types []EventType
	for _, e := range hist {
		types = append(types, e.Type)
	}
	assert.Equal(t, []EventType{EventStarted, EventAccepted, EventApproved}, types)
	require.NoError(t, h.e.Verify(ctx, first))
}

func TestDefinitionVersions(t *testing.T) {
	t.Parallel()
	v1 := sampleDef(t)
	src := string(readFile(t, "testdata/annual-inspection.json"))
	v2 := mustDef(t, replaceOnce(replaceOnce(src, `"version": 1`, `"version": 2`), `"allowWithdraw": true`, `"allowWithdraw": false`))
	store := NewMemoryStore()
	e, err := New(Config{Store: store, Directory: sampleDirectory()}, v1)
	require.NoError(t, err)
	ctx := context.Background()
	old, err := e.Start(ctx, StartCommand{Definition: v1.ID, Applicant: "alice", Application: app(t, smallApp)})
	require.NoError(t, err)
	require.NoError(t, e.AddDefinition(v2))
	assert.Error(t, e.AddDefinition(mustDef(t, replaceOnce(src, `"allowWithdraw": true`, `"allowWithdraw": false`))), "same version, other content")
	assert.Error(t, e.AddDefinition(&Definition{}))
	fresh, err := e.Start(ctx, StartCommand{Definition: v1.ID, Applicant: "alice", Application: app(t, smallApp)})
	require.NoError(t, err)
	assert.Equal(t, 2, fresh.Case.Definition.Version, "a new case starts on the latest version")
	_, err = e.Execute(ctx, Command{Kind: CmdWithdraw, CaseID: fresh.Case.ID, Actor: "alice", ExpectedVersion: 1})
	assert.True(t, errors.Is(err, ErrWithdrawNotAllowed))
	r, err := e.Execute(ctx, Command{Kind: CmdWithdraw, CaseID: old.Case.ID, Actor: "alice", ExpectedVersion: 1})
	require.NoError(t, err, "a running case keeps the version it started on")
	assert.Equal(t, StatusWithdrawn, r.Case.Status)

	events, err := store.Events(ctx, old.Case.ID)
	require.NoError(t, err)
	_, err = Replay(v2, events)
	assert.True(t, errors.Is(err, ErrCorrupt), "replaying on another definition is refused")

	_, err = New(Config{})
	assert.Error(t, err)
}

func TestConditionErrorRefuses(t *testing.T) {
	t.Parallel()
	def := mustDef(t, `{
	  "specVersion": "approval/1", "id": "cond", "version": 1, "name": "c", "limits": {"legal": "5wd"}, "start": "a",
	  "steps": [
	    {"id": "a", "name": "受理", "mode": "single", "assignees": [{"user": "u"}], "next": [{"when": "application.amount > 10", "to": "b"}, {"to": "b"}]},
	    {"id": "b", "name": "决定", "kind": "decision", "mode": "single", "assignees": [{"user": "u"}]}
	  ]}`)
	h := newHarness(t, def, nil)
	h.start(`{"other": 1}`)
	h.refused(RuleCondition, Command{Kind: CmdAccept, Actor: "u"})
}

// An application given as Go values is stored and evaluated in the form
// it has when read back, so that replays agree with the command; the
// caller's map is not shared.
func TestApplicationNormalised(t *testing.T) {
	t.Parallel()
	def := mustDef(t, `{
	  "specVersion": "approval/1", "id": "div", "version": 1, "name": "d", "limits": {"legal": "5wd"}, "start": "a",
	  "steps": [
	    {"id": "a", "name": "受理", "mode": "single", "assignees": [{"user": "u"}], "next": [{"when": "application.n / 2 == 2", "to": "b"}, {"to": "c"}]},
	    {"id": "b", "name": "决定", "kind": "decision", "mode": "single", "assignees": [{"user": "u"}]},
	    {"id": "c", "name": "决定", "kind": "decision", "mode": "single", "assignees": [{"user": "u"}]}
	  ]}`)
	h := newHarness(t, def, nil)
	application := map[string]any{"n": float64(5), "nested": map[string]any{"list": []any{1, "x"}}}
	r, err := h.e.Start(h.ctx, StartCommand{Definition: def.ID, Applicant: "alice", Application: application})
	require.NoError(t, err)
	h.id, h.states[1] = r.Case.ID, r.Case
	application["n"] = float64(99)
	c := h.must(Command{Kind: CmdAccept, Actor: "u"})
	assert.Equal(t, "b", c.Step, "5 is read back as the integer 5, and 5 / 2 == 2 in CEL")
	h.checkReplay()

	_, err = h.e.Start(h.ctx, StartCommand{Definition: def.ID, Applicant: "alice", Application: map[string]any{"f": func() {}}})
	assert.ErrorIs(t, err, ErrInvalidCommand)
}

// A log whose links do not hold is refused before any command acts on it.
func TestBrokenLinkRefused(t *testing.T) {
	t.Parallel()
	store := NewMemoryStore()
	h := newHarness(t, sampleDef(t), store)
	cached := h.e
	// Without snapshots every command reloads and checks the log; with
	// them, a command trusts what this engine wrote, and Verify and Case
	// still read the store.
	var err error
	h.e, err = New(Config{Store: store, Directory: h.dir, Clock: h.clock.Now, CacheSize: -1}, h.def)
	require.NoError(t, err)
	h.start(smallApp)
	h.must(Command{Kind: CmdComment, Actor: "alice", Comment: "一"})
	h.must(Command{Kind: CmdComment, Actor: "alice", Comment: "二"})
	events, err := store.Events(h.ctx, h.id)
	require.NoError(t, err)
	forged := events[1]
	forged.Data.Comment = "伪造"
	forged.Hash, err = forged.ComputeHash()
	require.NoError(t, err)
	se, err := encodeStored(&forged)
	require.NoError(t, err)
	store.mu.Lock()
	store.events[h.id][1] = se
	store.mu.Unlock()
	_, err = h.e.Execute(h.ctx, Command{Kind: CmdComment, CaseID: h.id, Actor: "alice", ExpectedVersion: 3, Comment: "三"})
	assert.ErrorIs(t, err, ErrCorrupt)
	assert.ErrorIs(t, h.e.Verify(h.ctx, h.id), ErrCorrupt)
	assert.ErrorIs(t, cached.Verify(h.ctx, h.id), ErrCorrupt)
	_, err = cached.Case(h.ctx, h.id)
	assert.ErrorIs(t, err, ErrCorrupt)
}

// A flow of one decision step: accepting opens the decision.
func TestDecisionAtStart(t *testing.T) {
	t.Parallel()
	h := newHarness(t, mustDef(t, `{"specVersion":"approval/1","id":"x","version":1,"name":"n","limits":{"legal":"1d"},"start":"a","steps":[{"id":"a","name":"a","mode":"single","kind":"decision","assignees":[{"user":"u"}]}]}`), nil)
	h.start(`{}`)
	h.refused(RuleWrongState, Command{Kind: CmdDecide, Actor: "u", Decision: Granted})
	c := h.must(Command{Kind: CmdAccept, Actor: "u"})
	assert.Equal(t, StatusInReview, c.Status)
	assert.Equal(t, "a", c.Step)
	require.Len(t, c.PendingTasks(), 1)
	c = h.must(Command{Kind: CmdDecide, Actor: "u", Decision: Granted})
	assert.Equal(t, StatusGranted, c.Status)
	h.checkReplay()
}

// A correction asked during review pauses the case at its step; the
// resubmission resumes the same step with the same tasks; 依次 shows only
// the task whose turn it is in the inbox.
func TestCorrectionDuringSequentialReview(t *testing.T) {
	t.Parallel()
	h := newHarness(t, mustDef(t, fmt.Sprintf(modesDef, "sequential", "")), nil)
	h.start(`{}`)
	h.must(Command{Kind: CmdAccept, Actor: "clerk"})
	h.must(Command{Kind: CmdApprove, Actor: "u1"})
	inbox, err := h.e.Inbox(h.ctx, "u3")
	require.NoError(t, err)
	assert.Empty(t, inbox, "u3's turn has not come")
	h.refused(RuleNotAssignee, Command{Kind: CmdRequestCorrection, Actor: "u3", Reason: "x"})
	c := h.must(Command{Kind: CmdRequestCorrection, Actor: "u2", Reason: "补充检测报告"})
	assert.Equal(t, StatusCorrection, c.Status)
	h.refused(RuleWrongState, Command{Kind: CmdApprove, Actor: "u2"})
	h.refused(RuleWrongState, Command{Kind: CmdUrge, Actor: "alice"})
	c = h.must(Command{Kind: CmdResubmit, Actor: "alice", Application: map[string]any{"report": "附件"}})
	assert.Equal(t, StatusInReview, c.Status)
	assert.Equal(t, "vote", c.Step)
	assert.Equal(t, map[string]any{"report": "附件"}, c.Application)
	assert.Equal(t, TaskApproved, c.Task("t2").State, "u1's approval stands")
	inbox, err = h.e.Inbox(h.ctx, "u2")
	require.NoError(t, err)
	require.Len(t, inbox, 1)
	assert.Equal(t, "t3", inbox[0].TaskID)
	h.must(Command{Kind: CmdApprove, Actor: "u2"})
	c = h.must(Command{Kind: CmdApprove, Actor: "u3"})
	assert.Equal(t, "decide", c.Step)
	h.checkReplay()
}

// Quorum counts a role as one assignee, taken by any of its members.
func TestQuorumWithRoles(t *testing.T) {
	t.Parallel()
	def := mustDef(t, replaceOnce(fmt.Sprintf(modesDef, "quorum", `"quorum": 2,`), `[{"user": "u1"}, {"user": "u2"}, {"user": "u3"}]`, `[{"role": "reviewer"}, {"role": "head"}, {"org": "11500000MB16089308"}]`))
	h := newHarness(t, def, nil)
	h.start(`{}`)
	h.must(Command{Kind: CmdAccept, Actor: "clerk"})
	c := h.must(Command{Kind: CmdApprove, Actor: "env2"})
	assert.Equal(t, "vote", c.Step)
	h.refused(RuleAlreadyActed, Command{Kind: CmdApprove, Actor: "env2"})
	h.refused(RuleNotAssignee, Command{Kind: CmdApprove, Actor: "env1"})
	c = h.must(Command{Kind: CmdApprove, Actor: "head1"})
	assert.Equal(t, "decide", c.Step)
	h.checkReplay()
}

// TestSnapshotCacheAcrossEngines: two engines on one store, each with its
// snapshots; a snapshot made stale by the other engine costs a reload, a
// stale actor is still refused, a retry still returns the first result.
func TestSnapshotCacheAcrossEngines(t *testing.T) {
	t.Parallel()
	store := NewMemoryStore()
	h := newHarness(t, sampleDef(t), store)
	other, err := New(Config{Store: store, Directory: h.dir, Clock: h.clock.Now}, h.def)
	require.NoError(t, err)
	c := h.start(smallApp)
	comment := func(e *Engine, version int, text, key string) (*Result, error) {
		return e.Execute(h.ctx, Command{Kind: CmdComment, CaseID: c.ID, Actor: "alice", ExpectedVersion: version, Comment: text, IdempotencyKey: key})
	}
	r, err := comment(h.e, 1, "一", "k1")
	require.NoError(t, err)
	assert.Equal(t, 2, r.Case.Version)
	r, err = comment(other, 2, "二", "k2")
	require.NoError(t, err)
	assert.Equal(t, 3, r.Case.Version)

	_, err = comment(h.e, 2, "stale", "k3")
	assert.ErrorIs(t, err, ErrStaleVersion, "the snapshot at version 2 is stale; the store says so")
	r, err = comment(h.e, 3, "三", "k3")
	require.NoError(t, err, "the next command reloads")
	assert.Equal(t, 4, r.Case.Version)
	r, err = comment(other, 4, "二", "k2")
	require.NoError(t, err)
	assert.True(t, r.Retried, "a retry is found although the other engine's snapshot is older")
	assert.Equal(t, 3, r.Event.Seq)
	r, err = comment(h.e, 4, "一", "k1")
	require.NoError(t, err)
	assert.True(t, r.Retried, "a key in the snapshot sends the command to the log")
	assert.Equal(t, 2, r.Event.Seq)
	got, err := other.Case(h.ctx, c.ID)
	require.NoError(t, err)
	assert.Len(t, got.Comments, 3)
	require.NoError(t, h.e.Verify(h.ctx, c.ID))
}

// A case started for another handling department (a message routed at
// intake) is that department's: its tasks that the definition gives its
// own department go to the chosen one, its listing and clocks follow,
// copies stay as written, and replay gives the same case.
func TestStartForAnotherDepartment(t *testing.T) {
	t.Parallel()
	const market, finance = "11500000MB1541240B", "11500000MB1972360U"
	def := mustDef(t, `{
  "specVersion": "approval/1", "id": "routed", "version": 1, "name": "投诉",
  "department": {"name": "重庆市市场监督管理局", "orgId": "`+market+`"},
  "limits": {"legal": "10wd"}, "start": "accept",
  "copyTo": {"atSubmission": [{"org": "`+market+`"}]},
  "steps": [
    {"id": "accept", "name": "受理", "mode": "any", "assignees": [{"org": "`+market+`"}], "next": [{"to": "answer"}]},
    {"id": "answer", "name": "答复", "kind": "decision", "mode": "any", "assignees": [{"org": "`+market+`"}, {"role": "head"}]}
  ]
}`)
	h := newHarness(t, def, nil)
	h.dir.AddOrg(market, "m1")
	h.dir.AddOrg(finance, "f1")
	r, err := h.e.Start(h.ctx, StartCommand{Definition: def.ID, Applicant: "alice", Application: map[string]any{},
		Department: &Organ{Name: "重庆市财政局", OrgID: finance}})
	require.NoError(t, err)
	h.id, h.states[1] = r.Case.ID, r.Case
	c := r.Case
	assert.Equal(t, finance, c.Department)
	require.Len(t, c.Tasks, 1)
	assert.Equal(t, Assignee{Org: finance}, c.Tasks[0].Assignee)
	require.Len(t, c.Copies, 1)
	assert.Equal(t, Assignee{Org: market}, c.Copies[0].To, "copies go as the definition writes them")

	h.refused(RuleNotAssignee, Command{Kind: CmdAccept, Actor: "m1"})
	c = h.must(Command{Kind: CmdAccept, Actor: "f1"})
	require.Len(t, c.Tasks, 2)
	assert.Equal(t, Assignee{Org: finance}, c.Tasks[0].Assignee)
	assert.Equal(t, Assignee{Role: "head"}, c.Tasks[1].Assignee, "other assignees stay")
	legal, _, err := c.Clocks()
	require.NoError(t, err)
	assert.Equal(t, finance, legal.Department(), "the clock, and so the cards, are the handling department's")
	h.checkReplay()

	mine, err := h.e.Cases(h.ctx, CaseFilter{Department: finance})
	require.NoError(t, err)
	require.Len(t, mine, 1)
	assert.Equal(t, h.id, mine[0].ID)
	theirs, err := h.e.Cases(h.ctx, CaseFilter{Department: market})
	require.NoError(t, err)
	assert.Empty(t, theirs)

	// Without one, the definition's department handles it.
	r, err = h.e.Start(h.ctx, StartCommand{Definition: def.ID, Applicant: "bob", Application: map[string]any{}})
	require.NoError(t, err)
	assert.Equal(t, market, r.Case.Department)
	assert.Equal(t, Assignee{Org: market}, r.Case.Tasks[0].Assignee)

	for _, d := range []*Organ{{Name: "", OrgID: finance}, {Name: "某局", OrgID: "11500000MB1972360X"}, {Name: "某局", OrgID: "x"}} {
		_, err := h.e.Start(h.ctx, StartCommand{Definition: def.ID, Applicant: "carol", Application: map[string]any{}, Department: d})
		var ce *CommandError
		require.ErrorAs(t, err, &ce, "department %+v", d)
		assert.Equal(t, RuleInvalid, ce.Rule)
	}
}
