package deadline

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func BenchmarkAddWorkdays(b *testing.B) {
	cal := China()
	d := MustDate(2025, 3, 3)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = cal.AddWorkdays(d, 60)
	}
}

func BenchmarkDueWithPauses(b *testing.B) {
	cal := China()
	ps, _ := NewPauses(Period{From: MustDate(2025, 9, 29), To: MustDate(2025, 10, 9)}, Period{From: MustDate(2025, 10, 20), To: MustDate(2025, 10, 22)})
	d := MustDate(2025, 9, 22)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = cal.Due(d, WD(20), ps)
	}
}

func BenchmarkClockRead(b *testing.B) {
	cal := China()
	loc := cal.Location()
	c, _ := Rebuild("x", "d", &Rule{Name: "r", Legal: WD(20)}, cal, []Event{{Kind: EventStarted, At: time.Date(2025, 3, 3, 9, 0, 0, 0, loc)}})
	at := time.Date(2025, 3, 20, 9, 0, 0, 0, loc)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = c.Read(at)
	}
}

// BenchmarkMonitorTick10k is a small in-package version of bench/'s
// million-clock tick: 10,000 clocks, one working day per tick.
func BenchmarkMonitorTick10k(b *testing.B) {
	cal := China()
	loc := cal.Location()
	start := time.Date(2025, 1, 2, 9, 0, 0, 0, loc)
	rules := make([]*Rule, 100)
	for i := range rules {
		rules[i] = &Rule{Name: "r", Legal: WD(i + 1)}
	}
	build := func() *Monitor {
		m := NewMonitor(NewMemStore(), nil)
		for i := 0; i < 10000; i++ {
			c, _ := Rebuild(fmt.Sprint(i), "d", rules[i%len(rules)], cal, []Event{{Kind: EventStarted, At: start}})
			_ = m.Track(c, start)
		}
		return m
	}
	m := build()
	day := MustDate(2025, 1, 2)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%100 == 99 {
			b.StopTimer()
			m, day = build(), MustDate(2025, 1, 2)
			b.StartTimer()
		}
		day, _ = cal.AddWorkdays(day, 1)
		_, _ = m.Tick(ctx, day.Start(loc))
	}
}
