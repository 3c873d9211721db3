package deadline

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// refYear is the reference file's shape, decoded independently of the
// package's own loader.
type refYear struct {
	Year     int `json:"year"`
	Holidays []struct {
		Name     string `json:"name"`
		From, To string
	} `json:"holidays"`
	AdjustedWorkdays []struct {
		Date string `json:"date"`
	} `json:"adjustedWorkdays"`
}

func refFiles(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, name := range []string{"cn-2025.json", "cn-2026.json"} {
		b, err := os.ReadFile(filepath.Join("data", name))
		require.NoError(t, err)
		out[name] = b
	}
	return out
}

// refWorking returns a naive working-day table built straight from the
// reference JSON: date -> working.
func refWorking(t *testing.T) (map[Date]bool, map[Date]string) {
	t.Helper()
	work := map[Date]bool{}
	why := map[Date]string{}
	for name, b := range refFiles(t) {
		var y refYear
		require.NoError(t, json.Unmarshal(b, &y), name)
		for d := MustDate(y.Year, 1, 1); d.Year() == y.Year; d = d.AddDays(1) {
			wd := d.Weekday()
			work[d] = wd != time.Saturday && wd != time.Sunday
		}
		for _, h := range y.Holidays {
			from, to := mustParse(t, h.From), mustParse(t, h.To)
			for d := from; !d.After(to); d = d.AddDays(1) {
				work[d] = false
				why[d] = "holiday " + h.Name
			}
		}
		for _, a := range y.AdjustedWorkdays {
			d := mustParse(t, a.Date)
			work[d] = true
			why[d] = "adjusted working day"
		}
	}
	return work, why
}

func mustParse(t testing.TB, s string) Date {
	t.Helper()
	d, err := ParseDate(s)
	require.NoError(t, err, s)
	return d
}

func TestEmbeddedDataMatchesShared(t *testing.T) {
	t.Parallel()
	for name, b := range refFiles(t) {
		shared, err := os.ReadFile(filepath.Join("..", "..", "shared", "calendars", name))
		if err != nil {
			t.Skipf("no shared/ copy beside the repository: %v", err)
		}
		assert.True(t, bytes.Equal(shared, b), "%s differs from shared/calendars", name)
	}
}

// TestChinaEveryDay checks every covered day, and so every 2025 and 2026
// holiday and adjusted working day, against the reference files.
func TestChinaEveryDay(t *testing.T) {
	t.Parallel()
	cal := China()
	work, why := refWorking(t)
	require.Len(t, work, 365+365)
	holidays, adjusted := 0, 0
	for d, w := range work {
		got, err := cal.IsWorkday(d)
		require.NoError(t, err)
		assert.Equal(t, w, got, "%s (%s, %s)", d, d.Weekday(), why[d])
		if why[d] == "adjusted working day" {
			adjusted++
		} else if why[d] != "" {
			holidays++
		}
	}
	assert.Equal(t, 5+6, adjusted)
	assert.Equal(t, (1+8+3+5+3+8)+(3+9+3+5+3+3+7), holidays)
	assert.Equal(t, Period{From: MustDate(2025, 1, 1), To: MustDate(2026, 12, 31)}, cal.Coverage())
}

// TestChinaHolidayTable names each holiday and adjusted working day from
// the reference data as its own subtest.
func TestChinaHolidayTable(t *testing.T) {
	t.Parallel()
	cal := China()
	for name, b := range refFiles(t) {
		var y refYear
		require.NoError(t, json.Unmarshal(b, &y))
		for _, h := range y.Holidays {
			t.Run(name+"/"+h.Name, func(t *testing.T) {
				from, to := mustParse(t, h.From), mustParse(t, h.To)
				for d := from; !d.After(to); d = d.AddDays(1) {
					w, err := cal.IsWorkday(d)
					require.NoError(t, err)
					assert.False(t, w, "%s is a day off", d)
				}
				// The day before and after a holiday follow the weekday
				// rule unless the reference says otherwise.
				next, err := cal.AddWorkdays(to, 1)
				require.NoError(t, err)
				assert.True(t, next.After(to))
			})
		}
		for _, a := range y.AdjustedWorkdays {
			t.Run(name+"/adjusted/"+a.Date, func(t *testing.T) {
				d := mustParse(t, a.Date)
				assert.Contains(t, []time.Weekday{time.Saturday, time.Sunday}, d.Weekday())
				w, err := cal.IsWorkday(d)
				require.NoError(t, err)
				assert.True(t, w)
				// A limit of one working day from the day before lands on it.
				got, err := cal.AddWorkdays(d.AddDays(-1), 1)
				require.NoError(t, err)
				assert.Equal(t, d, got)
			})
		}
	}
}

func TestDueTable(t *testing.T) {
	t.Parallel()
	cal := China()
	d := func(s string) Date { return mustParse(t, s) }
	p := func(ps ...string) Pauses {
		var periods []Period
		for _, s := range ps {
			per, err := ParsePeriod(s)
			require.NoError(t, err)
			periods = append(periods, per)
		}
		out, err := NewPauses(periods...)
		require.NoError(t, err)
		return out
	}
	tests := []struct {
		name   string
		start  string
		lim    Limit
		pauses Pauses
		want   string
	}{
		{"plain 20wd", "2025-03-03", WD(20), Pauses{}, "2025-03-31"},
		{"start not counted", "2025-03-03", WD(1), Pauses{}, "2025-03-04"},
		{"friday start skips weekend", "2025-03-07", WD(1), Pauses{}, "2025-03-10"},
		{"national day and working sundays", "2025-09-26", WD(5), Pauses{}, "2025-10-10"},
		{"year boundary 2025/2026", "2025-12-25", WD(20), Pauses{}, "2026-01-23"},
		{"start on a holiday", "2025-10-03", WD(1), Pauses{}, "2025-10-09"},
		{"start on a weekend", "2025-03-08", WD(1), Pauses{}, "2025-03-10"},
		{"start on an adjusted working day", "2025-01-26", WD(1), Pauses{}, "2025-01-27"},
		{"spring festival 2026", "2026-02-13", WD(2), Pauses{}, "2026-02-24"},
		{"lands on adjusted saturday", "2025-09-22", WD(10), Pauses{}, "2025-10-11"},
		{"pause straddling national day", "2025-09-22", WD(10), p("2025-09-29/2025-10-09"), "2025-10-15"},
		{"overlapping pauses merge", "2025-09-22", WD(10), p("2025-09-29/2025-10-02", "2025-10-01/2025-10-09"), "2025-10-15"},
		{"pause before start ignored", "2025-03-03", WD(20), p("2025-02-01/2025-03-03"), "2025-03-31"},
		{"pause on start day ignored", "2025-03-03", WD(1), p("2025-03-03/2025-03-03"), "2025-03-04"},
		{"pause over the due date", "2025-03-03", WD(5), p("2025-03-10/2025-03-11"), "2025-03-12"},
		{"natural days on a working day", "2025-09-20", Days(10), Pauses{}, "2025-09-30"},
		{"natural days moved past national day", "2025-09-25", Days(10), Pauses{}, "2025-10-09"},
		{"natural days end on adjusted sunday", "2025-01-16", Days(10), Pauses{}, "2025-01-26"},
		{"natural days end on saturday", "2025-03-05", Days(10), Pauses{}, "2025-03-17"},
		{"natural days with pause", "2025-03-03", Days(10), p("2025-03-05/2025-03-06"), "2025-03-17"},
		{"natural days moved into a pause moves past it", "2025-03-05", Days(10), p("2025-03-17/2025-03-18"), "2025-03-19"},
		{"natural days year boundary to adjusted sunday", "2025-12-22", Days(10), Pauses{}, "2026-01-04"},
		{"zero working days", "2025-10-03", WD(0), Pauses{}, "2025-10-03"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := cal.Due(d(tc.start), tc.lim, tc.pauses)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got.String())
			// The naive day-by-day count agrees.
			assert.Equal(t, tc.want, naiveDue(t, d(tc.start), tc.lim, tc.pauses).String())
		})
	}
}

var (
	naiveOnce sync.Once
	naiveWork map[Date]bool
)

// naiveDue counts day by day, straight from the rules' wording.
func naiveDue(t testing.TB, start Date, lim Limit, ps Pauses) Date {
	naiveOnce.Do(func() { naiveWork, _ = refWorking(t.(*testing.T)) })
	working := func(d Date) bool {
		w, ok := naiveWork[d]
		if !ok {
			t.Fatalf("naive count left the reference data at %s", d)
		}
		return w
	}
	d := start
	left := lim.N
	if lim.Unit == WorkingDays {
		for left > 0 {
			d = d.AddDays(1)
			if working(d) && !ps.Contains(d) {
				left--
			}
		}
		return d
	}
	for left > 0 {
		d = d.AddDays(1)
		if !ps.Contains(d) {
			left--
		}
	}
	for !working(d) || ps.Contains(d) {
		d = d.AddDays(1)
	}
	return d
}

// TestDueAgainstNaive compares the O(1) arithmetic with the day-by-day
// count on many random cases inside the coverage.
func TestDueAgainstNaive(t *testing.T) {
	t.Parallel()
	cal := China()
	rng := rand.New(rand.NewPCG(1, 2))
	base := MustDate(2025, 1, 1)
	for i := 0; i < 3000; i++ {
		start := base.AddDays(rng.IntN(400))
		lim := WD(rng.IntN(60))
		if rng.IntN(2) == 0 {
			lim = Days(rng.IntN(90))
		}
		var periods []Period
		for k := rng.IntN(4); k > 0; k-- {
			from := start.AddDays(rng.IntN(60) - 10)
			periods = append(periods, Period{From: from, To: from.AddDays(rng.IntN(12))})
		}
		ps, err := NewPauses(periods...)
		require.NoError(t, err)
		got, err := cal.Due(start, lim, ps)
		require.NoError(t, err)
		want := naiveDue(t, start, lim, ps)
		require.Equal(t, want, got, "start %s limit %s pauses %v", start, lim, ps.Periods())
		if lim.Unit == WorkingDays {
			n, err := cal.Workdays(start, got)
			require.NoError(t, err)
			paused := 0
			for d := start.AddDays(1); !d.After(got); d = d.AddDays(1) {
				if w, _ := cal.IsWorkday(d); w && ps.Contains(d) {
					paused++
				}
			}
			require.Equal(t, lim.N, n-paused)
		}
	}
}

func TestOutsideCoverage(t *testing.T) {
	t.Parallel()
	cal := China()
	_, err := cal.AddWorkdays(MustDate(2026, 12, 20), 20)
	require.ErrorIs(t, err, ErrOutsideCalendar)
	var oe *OutsideError
	require.True(t, errors.As(err, &oe))
	assert.Equal(t, MustDate(2027, 1, 1), oe.Date)
	assert.Contains(t, err.Error(), "2027-01-01")

	got, est := cal.EstimateAddWorkdays(MustDate(2026, 12, 20), 20)
	assert.True(t, est)
	// Dec 21-25, 28-31 are nine working days; 2027 is assumed Monday to
	// Friday, so Jan 1 (a Friday) counts: the 20th is 2027-01-15.
	assert.Equal(t, MustDate(2027, 1, 15), got)

	// A start just before the coverage is fine: it is not counted.
	got, err = cal.AddWorkdays(MustDate(2024, 12, 31), 1)
	require.NoError(t, err)
	assert.Equal(t, MustDate(2025, 1, 2), got)
	_, err = cal.AddWorkdays(MustDate(2024, 12, 30), 1)
	require.ErrorIs(t, err, ErrOutsideCalendar)

	// Backwards, and counting between dates.
	_, err = cal.AddWorkdays(MustDate(2025, 1, 3), -2)
	require.ErrorIs(t, err, ErrOutsideCalendar)
	got, est = cal.EstimateAddWorkdays(MustDate(2025, 1, 3), -2)
	assert.True(t, est)
	assert.Equal(t, MustDate(2024, 12, 31), got)
	_, err = cal.Workdays(MustDate(2026, 12, 1), MustDate(2027, 1, 5))
	require.ErrorIs(t, err, ErrOutsideCalendar)
	n, est := cal.EstimateWorkdays(MustDate(2026, 12, 1), MustDate(2027, 1, 5))
	assert.True(t, est)
	assert.Equal(t, 22+3, n)
	_, err = cal.IsWorkday(MustDate(2027, 1, 1))
	require.ErrorIs(t, err, ErrOutsideCalendar)
	w, est := cal.EstimateWorkday(MustDate(2027, 1, 1))
	assert.True(t, w)
	assert.True(t, est)

	// Natural days whose last day leaves coverage.
	_, err = cal.Due(MustDate(2026, 12, 25), Days(10), Pauses{})
	require.ErrorIs(t, err, ErrOutsideCalendar)
	due, est, err := cal.EstimateDue(MustDate(2026, 12, 25), Days(10), Pauses{})
	require.NoError(t, err)
	assert.True(t, est)
	assert.Equal(t, MustDate(2027, 1, 4), due)
}

// TestEstimateFarAway exercises the Monday-to-Friday formulas far from the
// coverage against a naive walk.
func TestEstimateFarAway(t *testing.T) {
	t.Parallel()
	cal := China()
	naive := func(d Date, n int) Date {
		step := 1
		if n < 0 {
			step, n = -1, -n
		}
		for n > 0 {
			d = d.AddDays(step)
			w, _ := cal.EstimateWorkday(d)
			if w {
				n--
			}
		}
		return d
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 2000; i++ {
		d := MustDate(2020, 1, 1).AddDays(rng.IntN(365 * 10))
		n := rng.IntN(200) - 100
		got, _ := cal.EstimateAddWorkdays(d, n)
		require.Equal(t, naive(d, n), got, "%s %+d", d, n)
	}
}

func TestCountingAllocatesNothing(t *testing.T) {
	cal := China()
	start := MustDate(2025, 9, 22)
	allocs := testing.AllocsPerRun(100, func() {
		_, _ = cal.AddWorkdays(start, 20)
		_, _ = cal.AddWorkdays(start, 60)
		_, _ = cal.Workdays(start, MustDate(2026, 3, 1))
		_, _ = cal.IsWorkday(start)
		_, _ = cal.Due(start, Days(30), Pauses{})
	})
	assert.Zero(t, allocs)
}

// TestConcurrentUse runs many goroutines on one calendar under -race.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	cal := China()
	base := MustDate(2025, 1, 1)
	want := make([]Date, 500)
	for i := range want {
		want[i] = naiveDue(t, base.AddDays(i), WD(20), Pauses{})
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 64; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for k := 0; k < 2000; k++ {
				i := (g*7919 + k) % len(want)
				got, err := cal.AddWorkdays(base.AddDays(i), 20)
				if err != nil || got != want[i] {
					errs <- errors.New("mismatch at " + base.AddDays(i).String())
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
