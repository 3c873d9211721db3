package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/egovkit/egovkit/approval"
	"github.com/egovkit/egovkit/deadline"
	"github.com/egovkit/egovkit/docdoc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cases indexes a report's cases by id.
func cases(t *testing.T, rep *Report) map[string]CaseReport {
	t.Helper()
	out := map[string]CaseReport{}
	for _, c := range rep.Cases {
		out[c.ID] = c
	}
	return out
}

// cardsOf lists a case's yellow and red cards as level@clock, in the order
// issued.
func cardsOf(c CaseReport) []string {
	out := []string{}
	for _, k := range c.Cards {
		if k.Level != "warning" {
			out = append(out, k.Level+"@"+k.Clock)
		}
	}
	return out
}

// withFiles returns the built-in configuration with some files replaced.
func withFiles(t *testing.T, edit map[string]func(string) string) fs.FS {
	t.Helper()
	m := fstest.MapFS{}
	require.NoError(t, fs.WalkDir(embedded, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(embedded, path)
		if err != nil {
			return err
		}
		if f := edit[path]; f != nil {
			edited := f(string(data))
			require.NotEqual(t, string(data), edited, "the edit of %s changed nothing", path)
			data = []byte(edited)
		}
		m[path] = &fstest.MapFile{Data: data}
		return nil
	}))
	return m
}

func TestScenarioOutcomes(t *testing.T) {
	t.Parallel()
	rep, err := run(context.Background(), embedded, scenario)
	require.NoError(t, err)
	cs := cases(t, rep)
	require.Len(t, cs, 14, "12 messages, two of them reopened once")

	// Departments that answered in time have no yellow or red card.
	for _, id := range []string{"WZ-0001", "WZ-0004", "WZ-0007", "WZ-0007-R2", "WZ-0008", "WZ-0008-R2", "WZ-0010", "WZ-0011", "WZ-0012"} {
		assert.Empty(t, cardsOf(cs[id]), id)
		assert.True(t, cs[id].OnTime, id)
	}
	// 江北区住建委 signed for WZ-0002 two working days late and answered it
	// two working days after its limit: a yellow card on each limit, no red.
	c := cs["WZ-0002"]
	assert.Equal(t, "重庆市江北区住房和城乡建设委员会", rep.deptName(c.Department))
	assert.Equal(t, "2026-04-21", c.AcceptDue)
	assert.Equal(t, "2026-04-23", c.Accepted)
	assert.Equal(t, []string{"yellow@accept", "yellow@answer"}, cardsOf(c))
	assert.Equal(t, "2026-05-11", c.Due)
	assert.False(t, c.OnTime)
	// 市生态环境局 answered WZ-0003 seven working days late: yellow when the
	// due day (over 劳动节) ended, red five working days later.
	c = cs["WZ-0003"]
	assert.Equal(t, "2026-05-15", c.Due, "15 working days from 2026-04-22, 2026-05-01 to 05-05 not counted, Saturday 05-09 counted")
	assert.Equal(t, []string{"yellow@answer", "red@answer"}, cardsOf(c))
	assert.Equal(t, "2026-05-16T00:00:00+08:00", c.Cards[len(c.Cards)-2].FiredAt)
	assert.Equal(t, "2026-05-23T00:00:00+08:00", c.Cards[len(c.Cards)-1].FiredAt)
	assert.False(t, c.OnTime)

	// The approved extension lengthened WZ-0005's answer limit by 5
	// working days, so an answer after the first due date was in time.
	c = cs["WZ-0005"]
	require.NotNil(t, c.Extension)
	assert.True(t, c.Extension.Granted)
	assert.Equal(t, "duban-01", c.Extension.Approver)
	assert.Equal(t, "2026-05-09", c.Extension.DueBefore, "a Saturday that is a working day (调休)")
	before, err := deadline.ParseDate(c.Extension.DueBefore)
	require.NoError(t, err)
	want, err := deadline.China().AddWorkdays(before, 5)
	require.NoError(t, err)
	assert.Equal(t, want.String(), c.Extension.DueAfter)
	assert.Equal(t, c.Extension.DueAfter, c.Due)
	assert.Greater(t, c.Answered, c.Extension.DueBefore)
	assert.True(t, c.OnTime)
	assert.Empty(t, cardsOf(c))
	// The refused extension left WZ-0006's limit as it was: a yellow card.
	c = cs["WZ-0006"]
	require.NotNil(t, c.Extension)
	assert.False(t, c.Extension.Granted)
	assert.Equal(t, c.Extension.DueBefore, c.Extension.DueAfter)
	assert.Equal(t, []string{"yellow@answer"}, cardsOf(c))
	assert.False(t, c.OnTime)

	// Evaluations, as the satisfaction definition's branches route them.
	assert.Equal(t, "reopen", cs["WZ-0007"].Evaluation)
	assert.Equal(t, "WZ-0007", cs["WZ-0007-R2"].ReopenOf)
	assert.Equal(t, 2, cs["WZ-0007-R2"].Round)
	assert.Equal(t, "close", cs["WZ-0007-R2"].Evaluation)
	assert.Equal(t, "reopen", cs["WZ-0008"].Evaluation)
	assert.Equal(t, "escalate", cs["WZ-0008-R2"].Evaluation, "unsatisfied in the second round")
	assert.Equal(t, "escalate", cs["WZ-0011"].Evaluation, "a suggestion is not reopened")
	assert.NotContains(t, cs, "WZ-0011-R2")
	// The refused report got no reply and no evaluation.
	assert.Equal(t, approval.StatusRefused, cs["WZ-0009"].Status)
	assert.Nil(t, cs["WZ-0009"].Reply)
	assert.Nil(t, cs["WZ-0009"].Satisfied)
	// Routing: the first matching route wins; an enquiry nobody else takes
	// stays with the platform.
	assert.Equal(t, "重庆市人力资源和社会保障局", rep.deptName(cs["WZ-0010"].Department))
	assert.Equal(t, "feedback-enquiry", cs["WZ-0010"].Definition, "one definition a kind, started for the department")
	assert.Equal(t, "重庆市12345政务服务便民热线管理中心", rep.deptName(cs["WZ-0004"].Department))
	assert.Equal(t, "feedback-enquiry", cs["WZ-0004"].Definition)

	// Every answer is a sealed letter its citizen verified.
	answered := 0
	for _, c := range rep.Cases {
		if c.Answered == "" {
			continue
		}
		answered++
		require.NotNil(t, c.Reply, c.ID)
		assert.True(t, c.Reply.Verified, c.ID)
		assert.Equal(t, rep.deptName(c.Department)+" (SM2-SM3)", c.Reply.Seal, c.ID)
		_, err := verifyReply(context.Background(), rep.replies[c.ID], rep.verifier)
		assert.NoError(t, err, c.ID)
		sum := sha256.Sum256(rep.replies[c.ID])
		assert.Equal(t, "已答复："+c.Reply.DocNumber+"，sha256:"+hex.EncodeToString(sum[:]), c.Record, c.ID)
	}
	assert.Equal(t, 13, answered)
	assert.Equal(t, 13, rep.Checks.RepliesVerified)
	assert.NotEmpty(t, rep.Checks.TamperedRefused)
	assert.Equal(t, 14+13+2, rep.Checks.LogsVerified, "handling cases, evaluations and extension requests")

	// The summary adds up the same cards.
	sums := map[string]DeptSummary{}
	for _, d := range rep.Departments {
		sums[d.Short] = d
	}
	assert.Equal(t, DeptSummary{Department: "11500105MB05678941", Name: "重庆市江北区住房和城乡建设委员会", Short: "江北区住建委",
		Cases: 1, Answered: 1, Late: 1, Warnings: sums["江北区住建委"].Warnings, Yellow: 2, Satisfied: 1}, sums["江北区住建委"])
	assert.Equal(t, 1, sums["市生态环境局"].Red)
	assert.Equal(t, 1, sums["市生态环境局"].Yellow)
	assert.Equal(t, 1, sums["市人力社保局"].Extended)
	assert.Equal(t, 1, sums["渝中区住建委"].ExtDenied)
	assert.Equal(t, 1, sums["江北区市场监管局"].Refused)
	assert.Equal(t, 1, sums["江北区市场监管局"].Escalated)
	assert.Equal(t, 1, sums["渝中区市场监管局"].Reopened)
	yellow, red := 0, 0
	for _, d := range rep.Departments {
		yellow, red = yellow+d.Yellow, red+d.Red
	}
	assert.Equal(t, 4, yellow)
	assert.Equal(t, 1, red)
}

// deptName returns the name of the department with a 统一社会信用代码.
func (r *Report) deptName(org string) string {
	for _, d := range r.Departments {
		if d.Department == org {
			return d.Name
		}
	}
	return ""
}

func TestTamperedReplyRefused(t *testing.T) {
	t.Parallel()
	rep, err := run(context.Background(), embedded, scenario)
	require.NoError(t, err)
	sent := rep.replies["WZ-0003"]
	require.NotNil(t, sent)
	ctx := context.Background()
	_, err = verifyReply(ctx, sent, rep.verifier)
	require.NoError(t, err)

	// One word of the body changed.
	altered, err := tamper(sent)
	require.NoError(t, err)
	_, err = verifyReply(ctx, altered, rep.verifier)
	require.Error(t, err)

	// The date changed in the JSON as sent.
	doc, err := docdoc.ParseBytes(sent)
	require.NoError(t, err)
	redated := bytes.Replace(sent, []byte(`"date": "`+doc.Date+`"`), []byte(`"date": "2026-05-14"`), 1)
	require.NotEqual(t, sent, redated)
	_, err = verifyReply(ctx, redated, rep.verifier)
	require.Error(t, err)

	// The seal stripped.
	doc.Signatures = nil
	stripped, err := docdoc.Marshal(doc)
	require.NoError(t, err)
	_, err = verifyReply(ctx, stripped, rep.verifier)
	require.Error(t, err)

	// Another department's genuine reply does not verify as this one.
	other, err := docdoc.ParseBytes(rep.replies["WZ-0001"])
	require.NoError(t, err)
	doc.Signatures = other.Signatures
	swapped, err := docdoc.Marshal(doc)
	require.NoError(t, err)
	_, err = verifyReply(ctx, swapped, rep.verifier)
	require.Error(t, err)
}

// TestDefinitionsPassApprovalCheck runs egovkit approval check, the
// command line a city runs on its edited files, on every definition.
func TestDefinitionsPassApprovalCheck(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("definitions/*.json")
	require.NoError(t, err)
	require.Len(t, files, 7)
	bin := filepath.Join(t.TempDir(), "egovkit")
	out, err := exec.Command("go", "build", "-o", bin, "../../cmd/egovkit").CombinedOutput()
	require.NoError(t, err, "%s", out)

	cmd := exec.Command(bin, append([]string{"approval", "check"}, files...)...)
	out, err = cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Empty(t, string(out))

	// A city's broken edit is caught by the same check: an accept limit
	// longer than the answer limit.
	data, err := os.ReadFile("definitions/enquiry.json")
	require.NoError(t, err)
	bad := filepath.Join(t.TempDir(), "enquiry.json")
	edited := strings.Replace(string(data), `"limit": "1wd"`, `"limit": "5wd"`, 1)
	require.NotEqual(t, string(data), edited)
	require.NoError(t, os.WriteFile(bad, []byte(edited), 0o644))
	out, err = exec.Command(bin, "approval", "check", bad).CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "%s", out)
	assert.Equal(t, 1, exit.ExitCode())
	assert.Contains(t, string(out), "/steps/0/limit")

	// And the program refuses to start on it.
	_, err = run(context.Background(), withFiles(t, map[string]func(string) string{
		"definitions/enquiry.json": func(s string) string { return strings.Replace(s, `"limit": "1wd"`, `"limit": "5wd"`, 1) },
	}), scenario)
	require.ErrorIs(t, err, approval.ErrInvalidDefinition)
	assert.Contains(t, err.Error(), "definitions/enquiry.json")
}

// TestDefinitionEditChangesBehaviour: a shorter answer limit for
// complaints, written in the definition, gives an answer that was in time
// a yellow card, with no code changed.
func TestDefinitionEditChangesBehaviour(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base, err := run(ctx, embedded, scenario)
	require.NoError(t, err)
	shorter, err := run(ctx, withFiles(t, map[string]func(string) string{
		"definitions/complaint.json": func(s string) string {
			return strings.Replace(s, `"legal": "10wd"`, `"legal": "5wd"`, 1)
		},
	}), scenario)
	require.NoError(t, err)

	was, now := cases(t, base)["WZ-0012"], cases(t, shorter)["WZ-0012"]
	assert.Equal(t, "2026-05-15", was.Due)
	assert.True(t, was.OnTime)
	assert.Empty(t, cardsOf(was))
	assert.Equal(t, "2026-05-09", now.Due, "5 working days from 2026-04-29 over 劳动节")
	assert.Equal(t, was.Answered, now.Answered, "the department did the same")
	assert.False(t, now.OnTime)
	assert.Equal(t, []string{"yellow@answer"}, cardsOf(now))
	// A complaint answered in four working days is still in time.
	assert.Empty(t, cardsOf(cases(t, shorter)["WZ-0001"]))
	assert.True(t, cases(t, shorter)["WZ-0001"].OnTime)
}

// TestRoutingEdit: the routing table is data too.
func TestRoutingEdit(t *testing.T) {
	t.Parallel()
	rep, err := run(context.Background(), withFiles(t, map[string]func(string) string{
		"city.json": func(s string) string {
			return strings.Replace(s, `{"topics": ["环境污染", "噪声扰民"], "department": "city-eco"}`,
				`{"topics": ["噪声扰民"], "districts": ["渝中区"], "department": "yuzhong-housing"}, {"topics": ["环境污染", "噪声扰民"], "department": "city-eco"}`, 1)
		},
	}), scenario)
	require.NoError(t, err)
	c := cases(t, rep)["WZ-0003"]
	assert.Equal(t, "重庆市渝中区住房和城乡建设委员会", rep.deptName(c.Department))
	assert.Equal(t, "feedback-report", c.Definition)
	assert.Equal(t, []string{"yellow@answer", "red@answer"}, cardsOf(c), "the same handling, now this department's cards")
}

func TestConfigurationErrors(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		file string
		edit func(string) string
		want string
	}{
		"unknown department": {"city.json", func(s string) string {
			return strings.Replace(s, `"department": "city-hrss"}`, `"department": "city-tax"}`, 1)
		}, `/routes/5/department: unknown department "city-tax"`},
		"bad organisation code": {"city.json", func(s string) string {
			return strings.Replace(s, `"orgId": "11500000MB0678905L"`, `"orgId": "11500000MB0678905M"`, 1)
		}, "/departments/4/orgId"},
		"unknown member": {"city.json", func(s string) string {
			return strings.Replace(s, `"city": "重庆市",`, `"city": "重庆市", "mayor": "x",`, 1)
		}, `unknown field "mayor"`},
		"duplicate member": {"city.json", func(s string) string {
			return strings.Replace(s, `"city": "重庆市",`, `"city": "重庆市", "city": "成都市",`, 1)
		}, "city.json"},
		"kind owned by a department": {"definitions/report.json", func(s string) string {
			return strings.Replace(s, `"department": {"name": "重庆市12345政务服务便民热线管理中心", "orgId": "11500000MB01234506"}`,
				`"department": {"name": "重庆市生态环境局", "orgId": "11500000MB0678905L"}`, 1)
		}, "department must be the platform"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := run(context.Background(), withFiles(t, map[string]func(string) string{tc.file: tc.edit}), scenario)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestFailingStepIsAnError(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// No route for the message.
	msgs := append([]message(nil), scenario...)
	msgs[0].Topic = "户籍管理"
	msgs[0].Kind = "complaint"
	_, err := run(ctx, embedded, msgs)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `no route in city.json for a complaint on "户籍管理"`)

	// An extension longer than the definition allows is refused by the
	// engine, and the run fails.
	msgs = append([]message(nil), scenario...)
	ext := *msgs[4].Plan.Extension
	ext.Length = "8wd"
	msgs[4].Plan.Extension = &ext
	_, err = run(ctx, embedded, msgs)
	require.Error(t, err)
	assert.True(t, errors.Is(err, approval.ErrExtensionTooLong), "%v", err)

	// An application the definition's schema refuses.
	msgs = append([]message(nil), scenario...)
	msgs[1].Title = ""
	_, err = run(ctx, embedded, msgs)
	require.ErrorIs(t, err, approval.ErrApplicationInvalid)
}

func TestOutputs(t *testing.T) {
	t.Parallel()
	rep, err := run(context.Background(), embedded, scenario)
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, writeJSON(&buf, rep))
	var back Report
	require.NoError(t, json.Unmarshal(buf.Bytes(), &back))
	assert.Equal(t, rep.Cases, back.Cases)
	assert.Equal(t, rep.Departments, back.Departments)
	assert.Equal(t, "2026-04-20", back.From)

	buf.Reset()
	writeText(&buf, rep)
	out := buf.String()
	assert.Contains(t, out, "RED card (红牌) for WZ-0003 at 市生态环境局")
	assert.Contains(t, out, "WZ-0005 asked for 5wd more")
	assert.Contains(t, out, "summary per department")
}
