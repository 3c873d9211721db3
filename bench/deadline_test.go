package bench

// Deadline benchmarks.
//
// BenchmarkWorkdays compares adding 20 and 60 working days with egovkit's
// China calendar against github.com/rickar/cal/v2's WorkdaysFrom on an
// equivalent calendar (each 2025–2026 holiday day as a rickar holiday, and
// a WorkdayFunc for the working Saturdays and Sundays; TestRickarEquivalent
// checks the two agree on every start date), with rickar's cache off (its
// default) and on. Target: egovkit at least 100× faster, independent of N,
// with zero allocations.
//
// BenchmarkMonitorTick measures one monitor tick over 1,000,000 open clocks
// of which about 1% change status, and reports the memory held per clock.
//
//	cd bench && go test -run '^$' -bench 'Workdays|Monitor' -benchmem -count 5

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/egovkit/egovkit/deadline"
	"github.com/rickar/cal/v2"
)

// rickarChina builds the rickar/cal equivalent of deadline.China().
func rickarChina(cacheable bool) *cal.BusinessCalendar {
	c := cal.NewBusinessCalendar()
	adjusted := map[deadline.Date]bool{}
	for _, y := range deadline.ChinaYears() {
		for _, h := range y.Holidays {
			for d := h.From; !d.After(h.To); d = d.AddDays(1) {
				yy, m, dd := d.Date()
				c.AddHoliday(&cal.Holiday{Name: h.Name, Type: cal.ObservancePublic, Month: m, Day: dd,
					StartYear: yy, EndYear: yy, Func: cal.CalcDayOfMonth})
			}
		}
		for _, a := range y.AdjustedWorkdays {
			adjusted[a.Date] = true
		}
	}
	c.WorkdayFunc = func(t time.Time) bool {
		switch t.Weekday() {
		case time.Saturday, time.Sunday:
			return adjusted[deadline.DateOf(t, t.Location())]
		}
		return true
	}
	c.Cacheable = cacheable
	return c
}

// TestRickarEquivalent checks that the rickar calendar used in the
// benchmark gives the same answers as egovkit's.
func TestRickarEquivalent(t *testing.T) {
	ours := deadline.China()
	theirs := rickarChina(false)
	loc := ours.Location()
	for d := deadline.MustDate(2025, 1, 1); d.Before(deadline.MustDate(2026, 9, 1)); d = d.AddDays(1) {
		for _, n := range []int{1, 20, 60} {
			want, err := ours.AddWorkdays(d, n)
			if err != nil {
				t.Fatal(err)
			}
			got := deadline.DateOf(theirs.WorkdaysFrom(d.Start(loc).Add(12*time.Hour), n), loc)
			if got != want {
				t.Fatalf("%s + %dwd: rickar %s, egovkit %s", d, n, got, want)
			}
		}
	}
}

var sinkDate deadline.Date
var sinkTime time.Time

func BenchmarkWorkdays(b *testing.B) {
	ours := deadline.China()
	loc := ours.Location()
	const starts = 256
	dates := make([]deadline.Date, starts)
	times := make([]time.Time, starts)
	for i := range dates {
		dates[i] = deadline.MustDate(2025, 1, 2).AddDays(i)
		times[i] = dates[i].Start(loc).Add(12 * time.Hour)
	}
	for _, n := range []int{20, 60} {
		b.Run(fmt.Sprintf("N=%d/egovkit", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				d, err := ours.AddWorkdays(dates[i%starts], n)
				if err != nil {
					b.Fatal(err)
				}
				sinkDate = d
			}
		})
		for _, cached := range []bool{false, true} {
			name := "rickar"
			if cached {
				name = "rickar-cached"
			}
			theirs := rickarChina(cached)
			b.Run(fmt.Sprintf("N=%d/%s", n, name), func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					sinkTime = theirs.WorkdaysFrom(times[i%starts], n)
				}
			})
		}
	}
}

// BenchmarkWorkdaysParallel runs egovkit's addition from all cores on one
// calendar (rickar's cached calendar is not safe for this).
func BenchmarkWorkdaysParallel(b *testing.B) {
	ours := deadline.China()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		d := deadline.MustDate(2025, 3, 3)
		for pb.Next() {
			r, _ := ours.AddWorkdays(d, 60)
			if r.IsZero() {
				panic("zero")
			}
		}
	})
}

const monitorClocks = 1_000_000

// monitorFixture is built once per process: a million open clocks that all
// started on 2025-01-02, with legal limits of 1 to 300 working days so that
// each working day about 1% of them reach a warning, a yellow or a red card.
type monitorFixture struct {
	m        *deadline.Monitor
	days     []time.Time // tick instants, one per working day
	next     int
	perClock float64
	build    time.Duration
}

var (
	fixtureMu sync.Mutex
	fixture   *monitorFixture
)

func buildMonitor(tb testing.TB) *monitorFixture {
	china := deadline.China()
	loc := china.Location()
	rules := make([]*deadline.Rule, 300)
	for i := range rules {
		rules[i] = &deadline.Rule{Name: fmt.Sprintf("rule-%d", i+1), Legal: deadline.WD(i + 1),
			Ladder: deadline.DefaultLadder(deadline.WD(3), deadline.WD(5))}
	}
	depts := make([]string, 40)
	for i := range depts {
		depts[i] = fmt.Sprintf("dept-%02d", i)
	}
	start := time.Date(2025, 1, 2, 9, 0, 0, 0, loc)
	events := []deadline.Event{{Kind: deadline.EventStarted, At: start}}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	t0 := time.Now()
	m := deadline.NewMonitor(deadline.NewMemStore(), nil)
	for i := 0; i < monitorClocks; i++ {
		c, err := deadline.Rebuild(fmt.Sprintf("case-%07d", i), depts[i%len(depts)], rules[i%len(rules)], china, events)
		if err != nil {
			tb.Fatal(err)
		}
		if err := m.Track(c, start); err != nil {
			tb.Fatal(err)
		}
	}
	f := &monitorFixture{m: m, build: time.Since(t0)}
	runtime.GC()
	runtime.ReadMemStats(&after)
	f.perClock = float64(after.HeapAlloc-before.HeapAlloc) / monitorClocks
	// Catch up to the first tick day, untimed.
	d := deadline.MustDate(2025, 1, 2)
	for i := 0; i < 320; i++ {
		var err error
		if d, err = china.AddWorkdays(d, 1); err != nil {
			tb.Fatal(err)
		}
		f.days = append(f.days, d.Start(loc).Add(time.Hour))
	}
	if _, err := m.Tick(context.Background(), f.days[0]); err != nil {
		tb.Fatal(err)
	}
	f.next = 1
	return f
}

// BenchmarkMonitorTick ticks one working day per iteration over a million
// clocks. The fixture is built lazily, once, and rebuilt (untimed) if the
// benchmark runs out of days.
func BenchmarkMonitorTick(b *testing.B) {
	fixtureMu.Lock()
	defer fixtureMu.Unlock()
	if fixture == nil {
		fixture = buildMonitor(b)
	}
	ctx := context.Background()
	cards := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if fixture.next >= len(fixture.days) {
			b.StopTimer()
			fixture = buildMonitor(b)
			b.StartTimer()
		}
		cs, err := fixture.m.Tick(ctx, fixture.days[fixture.next])
		if err != nil {
			b.Fatal(err)
		}
		fixture.next++
		cards += len(cs)
	}
	b.StopTimer()
	b.ReportMetric(float64(cards)/float64(b.N), "cards/tick")
	b.ReportMetric(float64(cards)/float64(b.N)/monitorClocks*100, "%changed/tick")
	b.ReportMetric(fixture.perClock, "bytes/clock")
	b.ReportMetric(float64(fixture.m.Len()), "clocks")
	b.ReportMetric(fixture.build.Seconds(), "setup-s")
}
