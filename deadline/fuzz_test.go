package deadline

import (
	"encoding/json"
	"testing"
)

// FuzzParseDate: never panics; what parses formats back to the same text
// and round-trips through its parts.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2025-03-14", "2024-02-29", "2025-02-29", "0000-01-01", "9999-12-31", "2025-13-01", "2025/03/14", "", "2025-03-1\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err != nil {
			if d != (Date{}) {
				t.Fatalf("error with a non-zero date %v", d)
			}
			return
		}
		if d.String() != s {
			t.Fatalf("%q formats as %q", s, d.String())
		}
		y, m, dd := d.Date()
		if MustDate(y, m, dd) != d {
			t.Fatalf("%q does not round-trip", s)
		}
		if d.AddDays(1).Sub(d) != 1 && !d.AddDays(1).IsZero() {
			t.Fatalf("AddDays/Sub disagree at %s", d)
		}
	})
}

// FuzzParseLimit: never panics; what parses formats back to the same text.
func FuzzParseLimit(f *testing.F) {
	for _, s := range []string{"20wd", "30d", "48h", "0wd", "020wd", "-3wd", "36601d", "99999999999999999999d", "wd", "20"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLimit(s)
		if err != nil {
			return
		}
		if !l.Valid() || l.String() != s {
			t.Fatalf("%q parses as %v (%q)", s, l, l.String())
		}
	})
}

// FuzzParsePeriod: never panics; a period parses only if it is ordered.
func FuzzParsePeriod(f *testing.F) {
	for _, s := range []string{"2025-03-03/2025-03-07", "2025-03-07/2025-03-03", "2025-03-03/2025-03-03", "2025-03-03", "2025-02-30/2025-03-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePeriod(s)
		if err != nil {
			return
		}
		if p.To.Before(p.From) || p.String() != s {
			t.Fatalf("%q parses as %v", s, p)
		}
	})
}

// FuzzParseYears: never panics on hostile calendar JSON; what it accepts
// builds a calendar whose every day answers.
func FuzzParseYears(f *testing.F) {
	f.Add([]byte(cn2025))
	f.Add([]byte(cn2026))
	f.Add([]byte(`[` + string(cn2025) + `,` + string(cn2026) + `]`))
	f.Add([]byte(`{"region":"CN","year":2027,"source":{"title":"t"},"holidays":[{"name":"a","from":"2027-01-01","to":"2027-01-03"}],"adjustedWorkdays":[{"date":"2027-01-09","for":"a"}]}`))
	f.Add([]byte(`{"region":"CN","region":"CN"}`))
	f.Add([]byte(`{"region":"CN","year":2027,"source":{"title":"t"},"holidays":[{"name":"a","from":"2027-12-31","to":"2028-01-31"}],"adjustedWorkdays":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		years, err := ParseYears("fuzz", data)
		if err != nil {
			return
		}
		for _, y := range years {
			c, err := New("fuzz", y)
			if err != nil {
				continue
			}
			cov := c.Coverage()
			n := 0
			for d := cov.From; !d.After(cov.To); d = d.AddDays(1) {
				w, err := c.IsWorkday(d)
				if err != nil {
					t.Fatal(err)
				}
				if w {
					n++
				}
			}
			if got, _ := c.Workdays(cov.From.AddDays(-1), cov.To); got != n {
				t.Fatalf("Workdays %d, counted %d", got, n)
			}
		}
	})
}

// FuzzDue checks the O(1) count against a day-by-day walk on the embedded
// calendar for any start, limit and pause.
func FuzzDue(f *testing.F) {
	f.Add(uint16(0), uint8(20), true, uint16(10), uint8(5))
	f.Add(uint16(260), uint8(10), false, uint16(270), uint8(12))
	f.Add(uint16(700), uint8(60), true, uint16(0), uint8(0))
	cal := China()
	f.Fuzz(func(t *testing.T, startOff uint16, n uint8, wd bool, pauseOff uint16, pauseLen uint8) {
		start := MustDate(2025, 1, 1).AddDays(int(startOff % 640))
		lim := Days(int(n))
		if wd {
			lim = WD(int(n % 80))
		}
		var ps Pauses
		if pauseLen > 0 {
			from := MustDate(2025, 1, 1).AddDays(int(pauseOff % 640))
			ps, _ = NewPauses(Period{From: from, To: from.AddDays(int(pauseLen % 30))})
		}
		got, est, err := cal.EstimateDue(start, lim, ps)
		if err != nil {
			t.Fatal(err)
		}
		// Walk day by day with the calendar's own IsWorkday (estimating
		// past 2026 the same way).
		d, left := start, lim.N
		working := func(d Date) bool { w, _ := cal.EstimateWorkday(d); return w }
		for left > 0 {
			d = d.AddDays(1)
			if !ps.Contains(d) && (lim.Unit == NaturalDays || working(d)) {
				left--
			}
		}
		if lim.Unit == NaturalDays {
			for !working(d) || ps.Contains(d) {
				d = d.AddDays(1)
			}
		}
		if d != got {
			t.Fatalf("start %s limit %s pauses %v: got %s, walk %s", start, lim, ps.Periods(), got, d)
		}
		if est != d.After(MustDate(2026, 12, 31)) {
			t.Fatalf("estimated %v for %s", est, d)
		}
	})
}

// FuzzParseEvents: never panics on a hostile stored history; what it
// accepts re-encodes and parses to the same events.
func FuzzParseEvents(f *testing.F) {
	f.Add([]byte(`[{"kind":"started","at":"2025-03-03T10:00:00+08:00"},{"kind":"suspended","at":"2025-03-05T09:00:00+08:00","reason":"补正"},{"kind":"resumed","at":"2025-03-07T15:00:00+08:00"},{"kind":"extended","at":"2025-03-20T09:00:00+08:00","by":"10wd","reason":"r","approver":"a"}]`))
	f.Add([]byte(`[{"kind":"started","kind":"finished","at":"2025-03-03T10:00:00Z"}]`))
	f.Add([]byte(`[{"kind":"nope","at":"2025-03-03T10:00:00Z"}]`))
	f.Add([]byte(`[{"kind":"started","at":"2025-03-03 10:00"}]`))
	f.Add([]byte(`{"kind":"started"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		es, err := ParseEvents(data)
		if err != nil {
			return
		}
		b, err := json.Marshal(es)
		if err != nil {
			return // a zero or invalid limit cannot be re-encoded
		}
		back, err := ParseEvents(b)
		if err != nil {
			t.Fatalf("re-encoded events do not parse: %v\n%s", err, b)
		}
		if len(back) != len(es) {
			t.Fatalf("%d events became %d", len(es), len(back))
		}
		for i := range es {
			if !es[i].At.Equal(back[i].At) || es[i].Kind != back[i].Kind || es[i].By != back[i].By || es[i].Reason != back[i].Reason {
				t.Fatalf("event %d changed: %+v -> %+v", i, es[i], back[i])
			}
		}
	})
}
