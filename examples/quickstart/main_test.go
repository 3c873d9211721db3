package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/egovkit/egovkit/deadline"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var stepNames = []string{"network", "joint-notice", "tampering-refused", "approval-setup", "application", "acceptance", "correction",
	"review", "countersign", "decision", "decision-document", "applicant-verifies", "neglected-case", "audit"}

// TestStoryJSON runs the whole story with --json and checks what each step
// says happened, not only that it passed.
func TestStoryJSON(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, true))
	var rep Report
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep), "the output is one JSON document:\n%s", out.String())
	require.True(t, rep.OK)
	var names []string
	steps := map[string]map[string]any{}
	for _, s := range rep.Steps {
		names = append(names, s.Name)
		assert.True(t, s.OK, "step %s", s.Name)
		assert.Empty(t, s.Error, "step %s", s.Name)
		assert.NotEmpty(t, s.Summary, "step %s", s.Name)
		steps[s.Name] = s.Details
	}
	require.Equal(t, stepNames, names)

	notice := steps["joint-notice"]
	assert.EqualValues(t, 2, notice["sealsVerified"])
	var algs []any
	for _, seal := range notice["seals"].([]any) {
		m := seal.(map[string]any)
		assert.Equal(t, true, m["valid"])
		algs = append(algs, m["algorithm"])
	}
	assert.Equal(t, []any{"EdDSA", "SM2-SM3"}, algs)
	assert.Equal(t, "signedFor", notice["status"])
	assert.Equal(t, "李四", notice["signedForBy"])
	assert.NotEmpty(t, notice["deliveryReceipt"])

	tamper := steps["tampering-refused"]
	assert.Equal(t, true, tamper["strippedSealRefused"])
	assert.Equal(t, "docdoc.package.digest-mismatch", tamper["alteredPackageRule"])

	assert.Equal(t, "submitted", steps["application"]["status"])

	// The due dates, counted again here on the calendar: 20 working days
	// after the day of acceptance, which is not counted.
	cal := deadline.China()
	accepted := steps["acceptance"]
	assert.Equal(t, "inReview", accepted["status"])
	assert.Equal(t, addWorkdays(t, cal, "2026-09-14", 20), accepted["due"])
	assert.Equal(t, addWorkdays(t, cal, "2026-09-14", 15), accepted["promisedDue"])

	corr := steps["correction"]
	assert.Equal(t, "paused", corr["clockWhileWaiting"])
	assert.Equal(t, accepted["due"], corr["dueBefore"])
	assert.Greater(t, corr["dueAfter"], corr["dueBefore"], "the correction's pause pushes the due date back")
	assert.Equal(t, "inReview", corr["status"])

	assert.Equal(t, "countersign", steps["review"]["step"])
	assert.Len(t, steps["review"]["pendingTasks"], 2)
	cs := steps["countersign"]
	assert.EqualValues(t, 2, cs["approvals"])
	assert.Equal(t, []any{"重庆市经济和信息化委员会", "重庆市财政局"}, cs["by"])

	dec := steps["decision"]
	assert.Equal(t, "granted", dec["outcome"])
	assert.Equal(t, true, dec["signed"])
	assert.Equal(t, "done-on-time", dec["clock"])
	assert.Equal(t, corr["dueAfter"], dec["due"])

	doc := steps["decision-document"]
	assert.Equal(t, "letter", doc["type"])
	assert.Equal(t, "11500000MB1541240B/hall", doc["to"])
	assert.Equal(t, "signedFor", doc["status"])
	verified := steps["applicant-verifies"]
	assert.Equal(t, doc["docNumber"], verified["docNumber"])
	assert.EqualValues(t, 1, verified["sealsVerified"])
	assert.Equal(t, "重庆市发展和改革委员会", verified["sealedBy"])
	assert.Equal(t, "重庆渝新智能装备有限公司", verified["recipient"])

	// The neglected case: warning, then yellow once the due date has
	// passed, then red five working days after the yellow card.
	late := steps["neglected-case"]
	due := late["due"].(string)
	assert.Equal(t, addWorkdays(t, cal, late["accepted"].(string), 20), due)
	var levels, dates []string
	for _, c := range late["cards"].([]any) {
		m := c.(map[string]any)
		levels = append(levels, m["level"].(string))
		dates = append(dates, m["date"].(string))
		assert.Equal(t, "11500000MB16089308", m["department"])
		assert.Equal(t, due, m["due"])
	}
	require.Equal(t, []string{"warning", "yellow", "red"}, levels)
	assert.Less(t, dates[0], due)
	assert.Equal(t, addWorkdays(t, cal, due, 1), dates[1], "the yellow card comes on the first working day after the due date")
	assert.Equal(t, addWorkdays(t, cal, dates[1], 5), dates[2], "the red card comes five working days after the yellow")
	assert.EqualValues(t, 1, late["redCases"])

	audit := steps["audit"]
	assert.EqualValues(t, 2, audit["casesVerified"])
	entries := audit["exchangeEntries"].(map[string]any)
	assert.Len(t, entries, 4)
	// Every node that sent or received a message has entries; the finance
	// bureau only sealed.
	for _, node := range []string{"11500000MB16089308/gw1", "11500000MB1802110J/gw1", "11500000MB1541240B/hall"} {
		assert.Greater(t, entries[node], 0.0, "audit entries of %s", node)
	}
}

// TestStoryText runs the account: one or two lines a step, numbered, and
// the closing line.
func TestStoryText(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, false))
	text := out.String()
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	require.Equal(t, fmt.Sprintf("quickstart: all %d steps passed", len(stepNames)), lines[len(lines)-1])
	numbered := regexp.MustCompile(`^ ?(\d+)\. `)
	step, perStep := 0, 0
	for _, line := range lines[:len(lines)-1] {
		if m := numbered.FindStringSubmatch(line); m != nil {
			step++
			require.Equal(t, fmt.Sprint(step), m[1], "steps are numbered in order: %q", line)
			perStep = 1
			continue
		}
		require.True(t, strings.HasPrefix(line, "    "), "a continuation line is indented: %q", line)
		perStep++
		require.LessOrEqual(t, perStep, 2, "at most two lines a step: %q", line)
	}
	require.Equal(t, len(stepNames), step)
	for _, want := range []string{"(EdDSA) and 重庆市财政局 (SM2-SM3)", "signed for (签收) by 李四", "补正", "会签", "granted (准予)",
		"went to the online service hall: signedFor", "warning 2026-", "yellow 2026-", "red 2026-"} {
		assert.Contains(t, text, want)
	}
}

// TestReporterStopsAtFirstFailure: a failed step ends the story, is named
// in the error and in the JSON report, and no later step runs.
func TestReporterStopsAtFirstFailure(t *testing.T) {
	for _, asJSON := range []bool{false, true} {
		var out bytes.Buffer
		r := &reporter{w: &out, json: asJSON}
		ran := 0
		ok := func(context.Context) (result, error) {
			ran++
			return result{lines: []string{"fine"}}, nil
		}
		r.step(context.Background(), "first", ok)
		r.step(context.Background(), "broken", func(context.Context) (result, error) { return result{}, errors.New("no receipt") })
		r.step(context.Background(), "never", ok)
		err := r.finish()
		require.EqualError(t, err, "step 2 (broken): no receipt")
		assert.Equal(t, 1, ran)
		if !asJSON {
			assert.Equal(t, " 1. fine\n", out.String())
			continue
		}
		var rep Report
		require.NoError(t, json.Unmarshal(out.Bytes(), &rep))
		assert.False(t, rep.OK)
		require.Len(t, rep.Steps, 2)
		assert.True(t, rep.Steps[0].OK)
		assert.Equal(t, Step{Name: "broken", OK: false, Error: "no receipt"}, rep.Steps[1])
	}
}

// addWorkdays returns the date n working days after day on cal.
func addWorkdays(t *testing.T, cal *deadline.Calendar, day string, n int) string {
	t.Helper()
	d, err := deadline.ParseDate(day)
	require.NoError(t, err)
	due, err := cal.AddWorkdays(d, n)
	require.NoError(t, err)
	return due.String()
}
