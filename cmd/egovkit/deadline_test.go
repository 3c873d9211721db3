package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func runDeadlineCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}, append([]string{"deadline"}, args...))
	return code, out.String(), errb.String()
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func TestDeadlineDue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"20wd", []string{"--start", "2025-03-03", "--limit", "20wd"}, 0, "2025-03-31"},
		{"across national day", []string{"--start", "2025-09-26", "--limit", "5wd"}, 0, "2025-10-10"},
		{"year boundary", []string{"--start", "2025-12-25", "--limit", "20wd"}, 0, "2026-01-23"},
		{"start on holiday", []string{"--start", "2025-10-03", "--limit", "1wd"}, 0, "2025-10-09"},
		{"natural days moved", []string{"--start", "2025-09-25", "--limit", "10d"}, 0, "2025-10-09"},
		{"natural days on adjusted sunday", []string{"--start", "2025-12-22", "--limit", "10d"}, 0, "2026-01-04"},
		{"pause straddling holiday", []string{"--start", "2025-09-22", "--limit", "10wd", "--pause", "2025-09-29/2025-10-09"}, 0, "2025-10-15"},
		{"overlapping pauses", []string{"--start", "2025-09-22", "--limit", "10wd", "--pause", "2025-10-01/2025-10-09", "--pause", "2025-09-29/2025-10-02"}, 0, "2025-10-15"},
		{"flags after nothing, calendar cn", []string{"--limit", "1wd", "--calendar", "cn", "--start", "2025-01-24"}, 0, "2025-01-26"},
		{"outside coverage", []string{"--start", "2026-12-20", "--limit", "20wd"}, 1, ""},
		{"before coverage", []string{"--start", "2024-12-01", "--limit", "20wd"}, 1, ""},
		{"estimate", []string{"--start", "2026-12-20", "--limit", "20wd", "--estimate"}, 0, "2027-01-15"},
		{"estimate not needed", []string{"--start", "2025-03-03", "--limit", "20wd", "--estimate"}, 0, "2025-03-31"},
		{"bad date", []string{"--start", "2025-02-29", "--limit", "20wd"}, 2, ""},
		{"bad date form", []string{"--start", "2025/03/03", "--limit", "20wd"}, 2, ""},
		{"bad limit", []string{"--start", "2025-03-03", "--limit", "20"}, 2, ""},
		{"hour limit refused", []string{"--start", "2025-03-03", "--limit", "20h"}, 2, ""},
		{"negative limit", []string{"--start", "2025-03-03", "--limit", "-2wd"}, 2, ""},
		{"bad pause", []string{"--start", "2025-03-03", "--limit", "20wd", "--pause", "2025-03-10/2025-03-05"}, 2, ""},
		{"pause form", []string{"--start", "2025-03-03", "--limit", "20wd", "--pause", "2025-03-10"}, 2, ""},
		{"missing start", []string{"--limit", "20wd"}, 2, ""},
		{"missing limit", []string{"--start", "2025-03-03"}, 2, ""},
		{"stray argument", []string{"--start", "2025-03-03", "--limit", "20wd", "extra"}, 2, ""},
		{"unknown flag", []string{"--start", "2025-03-03", "--limit", "20wd", "--frobnicate"}, 2, ""},
		{"missing calendar file", []string{"--start", "2025-03-03", "--limit", "20wd", "--calendar", "/nonexistent.json"}, 2, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errs := runDeadlineCmd(t, append([]string{"due"}, tc.args...)...)
			require.Equal(t, tc.code, code, "stdout %q stderr %q", out, errs)
			if tc.want != "" {
				assert.Equal(t, tc.want, firstLine(out))
			}
			switch tc.code {
			case 1:
				assert.Contains(t, errs, "outside calendar")
			case 2:
				assert.Contains(t, errs, "usage")
			}
		})
	}
	code, out, _ := runDeadlineCmd(t, "due", "--start", "2026-12-20", "--limit", "20wd", "--estimate")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "estimate")
	code, _, errs := runDeadlineCmd(t, "due", "--start", "2025-02-30", "--limit", "20wd")
	require.Equal(t, 2, code)
	assert.Contains(t, errs, "YYYY-MM-DD")
	code, _, errs = runDeadlineCmd(t, "due", "--start", "2025-02-03", "--limit", "20days")
	require.Equal(t, 2, code)
	assert.Contains(t, errs, "20wd")
}

func TestDeadlineStatus(t *testing.T) {
	t.Parallel()
	// 2025-03-03 + 20wd = 2025-03-31 (Monday); red line +5wd = 2025-04-08
	// (2025-04-04..06 is 清明节).
	base := []string{"--start", "2025-03-03", "--limit", "20wd"}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"running", []string{"--now", "2025-03-10"}, 0, "running"},
		{"running before warning", []string{"--now", "2025-03-25", "--warn-before", "3wd"}, 0, "running"},
		{"warning at threshold", []string{"--now", "2025-03-26", "--warn-before", "3wd"}, 0, "warning"},
		{"warning on due date", []string{"--now", "2025-03-31", "--warn-before", "0wd"}, 0, "warning"},
		{"no warning without flag", []string{"--now", "2025-03-31"}, 0, "running"},
		{"warning in calendar days", []string{"--now", "2025-03-28", "--warn-before", "3d"}, 0, "warning"},
		{"running in calendar days", []string{"--now", "2025-03-27", "--warn-before", "3d"}, 0, "running"},
		{"yellow the day after due", []string{"--now", "2025-04-01", "--red-after", "5wd"}, 0, "yellow"},
		{"yellow on red line", []string{"--now", "2025-04-08", "--red-after", "5wd"}, 0, "yellow"},
		{"red after red line", []string{"--now", "2025-04-09", "--red-after", "5wd"}, 0, "red"},
		{"stays yellow without red-after", []string{"--now", "2025-06-30"}, 0, "yellow"},
		{"red-after in days moved to working day", []string{"--now", "2025-04-07", "--red-after", "4d"}, 0, "yellow"},
		{"red-after in days", []string{"--now", "2025-04-08", "--red-after", "4d"}, 0, "red"},
		{"paused", []string{"--now", "2025-03-12", "--pause", "2025-03-10/2025-03-14"}, 0, "paused"},
		{"pause moves due", []string{"--now", "2025-04-03", "--pause", "2025-03-10/2025-03-14"}, 0, "running"},
		{"pause moves due then yellow", []string{"--now", "2025-04-10", "--pause", "2025-03-10/2025-03-14"}, 0, "yellow"},
		{"done on time", []string{"--now", "2025-05-01", "--done", "2025-03-31"}, 0, "done-on-time"},
		{"done late", []string{"--now", "2025-05-01", "--done", "2025-04-01"}, 0, "done-late"},
		{"done on start day", []string{"--now", "2025-03-03", "--done", "2025-03-03"}, 0, "done-on-time"},
		{"done before start", []string{"--now", "2025-05-01", "--done", "2025-03-02"}, 2, ""},
		{"bad now", []string{"--now", "2025-3-10"}, 2, ""},
		{"missing now", []string{}, 2, ""},
		{"bad warn", []string{"--now", "2025-03-10", "--warn-before", "3"}, 2, ""},
		{"bad red", []string{"--now", "2025-03-10", "--red-after", "x5wd"}, 2, ""},
		{"bad pause", []string{"--now", "2025-03-10", "--pause", "2025-03-10/2025-03-09"}, 2, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errs := runDeadlineCmd(t, append(append([]string{"status"}, base...), tc.args...)...)
			require.Equal(t, tc.code, code, "stdout %q stderr %q", out, errs)
			if tc.want != "" {
				assert.Equal(t, tc.want, firstLine(out))
			}
		})
	}
}

func TestDeadlineStatusCoverage(t *testing.T) {
	t.Parallel()
	// Due 2027: outside the coverage, but read early in December 2026 the
	// case is certainly running.
	code, out, _ := runDeadlineCmd(t, "status", "--start", "2026-12-15", "--limit", "20wd", "--now", "2026-12-16", "--warn-before", "3wd")
	require.Equal(t, 0, code)
	assert.Equal(t, "running", firstLine(out))
	// Read in 2027 it needs 2027's schedule.
	code, _, errs := runDeadlineCmd(t, "status", "--start", "2026-12-15", "--limit", "20wd", "--now", "2027-01-20")
	require.Equal(t, 1, code)
	assert.Contains(t, errs, "outside calendar")
	code, out, _ = runDeadlineCmd(t, "status", "--start", "2026-12-15", "--limit", "20wd", "--now", "2027-01-20", "--estimate")
	require.Equal(t, 0, code)
	assert.Equal(t, "yellow", firstLine(out))
	assert.Contains(t, out, "estimate")
	// Done inside the coverage before a due date past it: on time.
	code, out, _ = runDeadlineCmd(t, "status", "--start", "2026-12-15", "--limit", "20wd", "--now", "2027-03-01", "--done", "2026-12-30")
	require.Equal(t, 0, code)
	assert.Equal(t, "done-on-time", firstLine(out))
	// A red line past the coverage, read inside it: yellow.
	code, out, _ = runDeadlineCmd(t, "status", "--start", "2026-11-20", "--limit", "20wd", "--now", "2026-12-21", "--red-after", "10wd")
	require.Equal(t, 0, code)
	assert.Equal(t, "yellow", firstLine(out))
}

func TestDeadlineCalendarFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	y2027 := filepath.Join(dir, "cn-2027.json")
	// A made-up schedule for the test only: one day off on 2027-01-01.
	require.NoError(t, os.WriteFile(y2027, []byte(`{"region":"CN","year":2027,"source":{"title":"test schedule, not an official notice"},
		"holidays":[{"name":"元旦","from":"2027-01-01","to":"2027-01-01"}],"adjustedWorkdays":[]}`), 0o644))
	code, out, errs := runDeadlineCmd(t, "due", "--start", "2026-12-20", "--limit", "20wd", "--calendar", "cn,"+y2027)
	require.Equal(t, 0, code, errs)
	assert.Equal(t, "2027-01-18", firstLine(out))
	code, out, errs = runDeadlineCmd(t, "due", "--start", "2027-01-08", "--limit", "1wd", "--calendar", y2027)
	require.Equal(t, 0, code, errs)
	assert.Equal(t, "2027-01-11", firstLine(out))

	local := filepath.Join(dir, "gx.json")
	require.NoError(t, os.WriteFile(local, []byte(`{"region":"CN-GX","year":2025,"source":{"title":"test local schedule"},
		"holidays":[{"name":"壮族三月三","from":"2025-03-31","to":"2025-04-01"}],"adjustedWorkdays":[]}`), 0o644))
	code, out, errs = runDeadlineCmd(t, "due", "--start", "2025-03-28", "--limit", "1wd", "--calendar", "cn,"+local)
	require.Equal(t, 0, code, errs)
	assert.Equal(t, "2025-04-02", firstLine(out))

	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"region":"CN","year":2027,"source":{"title":"x"},"holidays":[],"adjustedWorkdays":[{"date":"2027-01-05","for":"x"}],"extra":1}`), 0o644))
	code, _, errs = runDeadlineCmd(t, "due", "--start", "2027-01-08", "--limit", "1wd", "--calendar", bad)
	require.Equal(t, 1, code)
	assert.Contains(t, errs, "/extra")
}

func TestDeadlineHelp(t *testing.T) {
	t.Parallel()
	code, out, _ := runDeadlineCmd(t, "due", "--help")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "民法典")
	code, out, _ = runDeadlineCmd(t, "status", "--help")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "done-on-time")
	code, _, _ = runDeadlineCmd(t)
	assert.Equal(t, 2, code)
	code, _, _ = runDeadlineCmd(t, "frob")
	assert.Equal(t, 2, code)
}

func TestDeadlineStatusWarningPastCoverage(t *testing.T) {
	t.Parallel()
	// 2026-12-10 + 20wd: 15 working days in December, 5 more in 2027.
	code, out, errs := runDeadlineCmd(t, "status", "--start", "2026-12-10", "--limit", "20wd", "--now", "2026-12-31", "--warn-before", "5wd")
	require.Equal(t, 0, code, errs)
	assert.Equal(t, "warning", firstLine(out))
	code, out, _ = runDeadlineCmd(t, "status", "--start", "2026-12-10", "--limit", "20wd", "--now", "2026-12-31", "--warn-before", "4wd")
	require.Equal(t, 0, code)
	assert.Equal(t, "running", firstLine(out))
	code, out, _ = runDeadlineCmd(t, "status", "--start", "2026-12-10", "--limit", "20wd", "--now", "2026-12-30", "--warn-before", "6wd")
	require.Equal(t, 0, code)
	assert.Equal(t, "warning", firstLine(out))
	// A natural-day figure cannot be known without 2027's schedule.
	code, _, _ = runDeadlineCmd(t, "status", "--start", "2026-12-10", "--limit", "20wd", "--now", "2026-12-31", "--warn-before", "10d")
	assert.Equal(t, 1, code)
}
