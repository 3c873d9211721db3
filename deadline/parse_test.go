package deadline

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseDate(t *testing.T) {
	t.Parallel()
	good := map[string][3]int{
		"2025-03-14": {2025, 3, 14},
		"2024-02-29": {2024, 2, 29},
		"2000-02-29": {2000, 2, 29},
		"0001-01-01": {1, 1, 1},
		"9999-12-31": {9999, 12, 31},
	}
	for s, want := range good {
		d, err := ParseDate(s)
		require.NoError(t, err, s)
		y, m, dd := d.Date()
		assert.Equal(t, want, [3]int{y, int(m), dd}, s)
		assert.Equal(t, s, d.String())
	}
	bad := map[string]int{
		"2025-02-29": 8, "1900-02-29": 8, "2025-13-01": 5, "2025-00-01": 5, "2025-04-31": 8,
		"0000-01-01": 0, "2025-3-14": -1, "2025/03/14": 4, "20250314": -1, "2025-03-1x": 9,
		"": -1, "２025-03-14": -1, " 2025-03-14": -1, "2025-03-14T00:00": -1, "+025-03-14": 0,
	}
	for s, off := range bad {
		_, err := ParseDate(s)
		require.ErrorIs(t, err, ErrInvalidDate, s)
		var pe *ParseError
		require.True(t, errors.As(err, &pe))
		assert.Equal(t, off, pe.Offset, s)
		assert.Contains(t, err.Error(), "YYYY-MM-DD")
	}
}

func TestDateBasics(t *testing.T) {
	t.Parallel()
	d := MustDate(2025, 1, 1)
	assert.Equal(t, time.Wednesday, d.Weekday())
	assert.Equal(t, time.Monday, MustDate(1, 1, 1).Weekday())
	assert.Equal(t, MustDate(2025, 3, 1), MustDate(2025, 2, 28).AddDays(1))
	assert.Equal(t, 365, MustDate(2026, 1, 1).Sub(d))
	assert.True(t, d.Before(d.AddDays(1)))
	assert.Equal(t, 0, d.Compare(MustDate(2025, 1, 1)))
	assert.True(t, Date{}.IsZero())
	assert.True(t, MustDate(9999, 12, 31).AddDays(1).IsZero())
	_, err := NewDate(2025, 2, 29)
	require.ErrorIs(t, err, ErrInvalidDate)
	assert.Panics(t, func() { MustDate(2025, 2, 30) })

	// Conversion from instants: the same instant is a different civil date
	// in Shanghai than in UTC.
	inst := time.Date(2025, 1, 31, 17, 30, 0, 0, time.UTC)
	assert.Equal(t, MustDate(2025, 2, 1), DateOf(inst, nil))
	assert.Equal(t, MustDate(2025, 1, 31), DateOf(inst, time.UTC))
	assert.Equal(t, time.Date(2025, 2, 1, 0, 0, 0, 0, Shanghai()), MustDate(2025, 2, 1).Start(nil))
	assert.Equal(t, "Asia/Shanghai", Shanghai().String())

	b, err := json.Marshal(struct{ D Date }{d})
	require.NoError(t, err)
	assert.JSONEq(t, `{"D":"2025-01-01"}`, string(b))
	var back struct{ D Date }
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, d, back.D)
	require.Error(t, json.Unmarshal([]byte(`{"D":"2025-02-30"}`), &back))
	_, err = Date{}.MarshalText()
	require.ErrorIs(t, err, ErrInvalidDate)

	// Every day of four centuries round-trips through its parts.
	for n := MustDate(1999, 1, 1); n.Before(MustDate(2401, 1, 1)); n = n.AddDays(1) {
		y, m, dd := n.Date()
		require.Equal(t, n, MustDate(y, m, dd))
	}
}

func TestParseLimit(t *testing.T) {
	t.Parallel()
	good := map[string]Limit{"20wd": WD(20), "30d": Days(30), "48h": HoursLimit(48), "0wd": WD(0), "36600d": Days(36600)}
	for s, want := range good {
		l, err := ParseLimit(s)
		require.NoError(t, err, s)
		assert.Equal(t, want, l)
		assert.Equal(t, s, l.String())
	}
	for _, s := range []string{"", "wd", "20", "20 wd", "-3wd", "+3wd", "020wd", "20WD", "20w", "20dd", "36601d", "99999999999999999999wd", "1.5d", "２0wd"} {
		_, err := ParseLimit(s)
		require.ErrorIs(t, err, ErrInvalidLimit, s)
		assert.Contains(t, err.Error(), "20wd", s)
	}
	var l Limit
	require.NoError(t, json.Unmarshal([]byte(`"10wd"`), &l))
	assert.Equal(t, WD(10), l)
	assert.Equal(t, 2*time.Hour, HoursLimit(2).Duration())
}

func TestParsePeriod(t *testing.T) {
	t.Parallel()
	p, err := ParsePeriod("2025-03-03/2025-03-07")
	require.NoError(t, err)
	assert.Equal(t, 5, p.Days())
	assert.True(t, p.Contains(MustDate(2025, 3, 7)))
	assert.False(t, p.Contains(MustDate(2025, 3, 8)))
	one, err := ParsePeriod("2025-03-03/2025-03-03")
	require.NoError(t, err)
	assert.Equal(t, 1, one.Days())
	for _, s := range []string{"2025-03-07/2025-03-03", "2025-03-03", "2025-03-03-2025-03-07", "2025-03-03/", "2025-02-30/2025-03-01", "2025-03-01/2025-02-30", "2025-03-03 /2025-03-07"} {
		_, err := ParsePeriod(s)
		require.ErrorIs(t, err, ErrInvalidPeriod, s)
		assert.Contains(t, err.Error(), "FROM/TO", s)
	}
	_, err = NewPauses(Period{From: MustDate(2025, 3, 7), To: MustDate(2025, 3, 3)})
	require.ErrorIs(t, err, ErrInvalidPeriod)
	ps, err := NewPauses(
		Period{From: MustDate(2025, 3, 10), To: MustDate(2025, 3, 12)},
		Period{From: MustDate(2025, 3, 1), To: MustDate(2025, 3, 3)},
		Period{From: MustDate(2025, 3, 4), To: MustDate(2025, 3, 5)},
		Period{From: MustDate(2025, 3, 11), To: MustDate(2025, 3, 20)},
	)
	require.NoError(t, err)
	assert.Equal(t, []Period{{MustDate(2025, 3, 1), MustDate(2025, 3, 5)}, {MustDate(2025, 3, 10), MustDate(2025, 3, 20)}}, ps.Periods())
}

func TestParseYearsViolations(t *testing.T) {
	t.Parallel()
	year := func(body string) string {
		return `{"region":"CN","year":2027,"source":{"title":"t"},` + body + `}`
	}
	tests := []struct {
		name, doc, pointer, rule string
	}{
		{"unknown member", year(`"holidays":[],"adjustedWorkdays":[],"x":1`), "/x", "deadline.calendar.schema.unknown-member"},
		{"missing member", `{"region":"CN","year":2027,"source":{"title":"t"},"holidays":[]}`, "/adjustedWorkdays", "deadline.calendar.schema.required"},
		{"bad date form", year(`"holidays":[{"name":"a","from":"2027-1-01","to":"2027-01-01"}],"adjustedWorkdays":[]`), "/holidays/0/from", "deadline.calendar.schema.pattern"},
		{"no such date", year(`"holidays":[{"name":"a","from":"2027-02-29","to":"2027-03-01"}],"adjustedWorkdays":[]`), "/holidays/0/from", "deadline.calendar.date"},
		{"range order", year(`"holidays":[{"name":"a","from":"2027-03-02","to":"2027-03-01"}],"adjustedWorkdays":[]`), "/holidays/0/to", "deadline.calendar.range-order"},
		{"adjusted weekday", year(`"holidays":[],"adjustedWorkdays":[{"date":"2027-01-05","for":"a"}]`), "/adjustedWorkdays/0/date", "deadline.calendar.adjusted-not-weekend"},
		{"conflict", year(`"holidays":[{"name":"a","from":"2027-01-02","to":"2027-01-03"}],"adjustedWorkdays":[{"date":"2027-01-02","for":"a"}]`), "/adjustedWorkdays/0/date", "deadline.calendar.conflict"},
		{"outside year", year(`"holidays":[{"name":"a","from":"2028-05-01","to":"2028-05-01"}],"adjustedWorkdays":[]`), "/holidays/0/from", "deadline.calendar.outside-year"},
		{"duplicate name", `{"region":"CN","region":"CN"}`, "/region", "deadline.calendar.json.duplicate-name"},
		{"bad utf8", "{\"region\":\"\xff\"}", "/region", "deadline.calendar.json.invalid-utf8"},
		{"duplicate year", "[" + year(`"holidays":[],"adjustedWorkdays":[]`) + "," + year(`"holidays":[],"adjustedWorkdays":[]`) + "]", "/1", "deadline.calendar.duplicate-year"},
		{"bad region", `{"region":"china","year":2027,"source":{"title":"t"},"holidays":[],"adjustedWorkdays":[]}`, "/region", "deadline.calendar.schema.pattern"},
		{"fractional year", `{"region":"CN","year":2027.5,"source":{"title":"t"},"holidays":[],"adjustedWorkdays":[]}`, "/year", "deadline.calendar.schema.type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseYears("test.json", []byte(tc.doc))
			require.ErrorIs(t, err, ErrInvalidCalendar)
			var ce *CalendarError
			require.True(t, errors.As(err, &ce))
			found := false
			for _, v := range ce.Violations {
				if v.Pointer == tc.pointer && v.Rule == tc.rule {
					found = true
				}
			}
			assert.True(t, found, "want %s at %q, got %v", tc.rule, tc.pointer, ce.Violations)
			assert.Contains(t, err.Error(), "test.json")
		})
	}
	// Every violation is reported, not just the first.
	_, err := ParseYears("x", []byte(year(`"holidays":[{"name":"a","from":"2027-03-02","to":"2027-03-01"}],"adjustedWorkdays":[{"date":"2027-01-05","for":"a"}]`)))
	var ce *CalendarError
	require.True(t, errors.As(err, &ce))
	assert.Len(t, ce.Violations, 2)
}

func TestParseYearsReference(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"cn-2025.json", "cn-2026.json"} {
		b, err := os.ReadFile(filepath.Join("data", name))
		require.NoError(t, err)
		ys, err := ParseYears(name, b)
		require.NoError(t, err)
		require.Len(t, ys, 1)
		assert.Equal(t, "CN", ys[0].Region)
		assert.True(t, strings.HasPrefix(ys[0].Source.Title, "国务院办公厅关于"), ys[0].Source.Title)
		assert.True(t, strings.HasPrefix(ys[0].Source.URL, "https://www.gov.cn/"))
	}
	assert.Equal(t, "国办发明电〔2024〕12号", ChinaYears()[0].Source.Number)
	// The schema is valid JSON with its $id.
	var s map[string]any
	require.NoError(t, json.Unmarshal(CalendarSchema(), &s))
	assert.Equal(t, CalendarSchemaID, s["$id"])
}

func TestCalendarComposition(t *testing.T) {
	t.Parallel()
	china := China()
	next := Year{Region: "CN", Year: 2027, Source: Source{Title: "test"}, Holidays: []Holiday{{Name: "元旦", From: MustDate(2027, 1, 1), To: MustDate(2027, 1, 1)}}}
	ext, err := china.With(next)
	require.NoError(t, err)
	assert.Equal(t, MustDate(2027, 12, 31), ext.Coverage().To)
	w, err := ext.IsWorkday(MustDate(2027, 1, 1))
	require.NoError(t, err)
	assert.False(t, w)
	// The original is unchanged.
	_, err = china.IsWorkday(MustDate(2027, 1, 1))
	require.ErrorIs(t, err, ErrOutsideCalendar)
	// A counting across the new year boundary.
	d, err := ext.AddWorkdays(MustDate(2026, 12, 31), 1)
	require.NoError(t, err)
	assert.Equal(t, MustDate(2027, 1, 4), d)

	local := Year{Region: "CN-GX", Year: 2026, Source: Source{Title: "test"},
		Holidays:         []Holiday{{Name: "壮族三月三", From: MustDate(2026, 4, 20), To: MustDate(2026, 4, 20)}},
		AdjustedWorkdays: []AdjustedWorkday{{Date: MustDate(2026, 4, 25), For: "壮族三月三"}}}
	gx, err := china.With(local)
	require.NoError(t, err)
	assert.Equal(t, "CN+CN-GX", gx.Name())
	w, _ = gx.IsWorkday(MustDate(2026, 4, 20))
	assert.False(t, w)
	w, _ = gx.IsWorkday(MustDate(2026, 4, 25))
	assert.True(t, w)
	w, _ = china.IsWorkday(MustDate(2026, 4, 20))
	assert.True(t, w)
	assert.Len(t, gx.Years(), 3)

	for name, y := range map[string]Year{
		"gap":           {Region: "CN", Year: 2029, Source: Source{Title: "t"}},
		"already":       {Region: "CN", Year: 2025, Source: Source{Title: "t"}},
		"local outside": {Region: "CN-GX", Year: 2030, Source: Source{Title: "t"}},
	} {
		_, err := china.With(y)
		require.ErrorIs(t, err, ErrInvalidCalendar, name)
	}
	_, err = New("x")
	require.ErrorIs(t, err, ErrInvalidCalendar)
	_, err = New("x", Year{Region: "CN", Year: 2025}, Year{Region: "HK", Year: 2026})
	require.ErrorIs(t, err, ErrInvalidCalendar)
	utc := china.InLocation(time.UTC)
	assert.Equal(t, time.UTC, utc.Location())
	assert.Equal(t, Shanghai(), china.Location())
}
