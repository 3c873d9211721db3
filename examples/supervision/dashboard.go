package main

import (
	_ "embed"
	"encoding/json"
	"html/template"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/egovkit/egovkit/deadline"
)

//go:embed dashboard.html
var dashboardHTML string

var dashboardTemplate = template.Must(template.New("dashboard").Funcs(template.FuncMap{
	"level": func(l deadline.Level) string {
		switch l {
		case deadline.LevelRed:
			return "red"
		case deadline.LevelYellow:
			return "yellow"
		case deadline.LevelWarning:
			return "warning"
		}
		return "none"
	},
	"levelZh": func(l deadline.Level) string {
		switch l {
		case deadline.LevelRed:
			return "红牌"
		case deadline.LevelYellow:
			return "黄牌"
		case deadline.LevelWarning:
			return "预警"
		}
		return ""
	},
	"eventZh": func(k deadline.EventKind) string {
		switch k {
		case deadline.EventStarted:
			return "受理，开始计时"
		case deadline.EventSuspended:
			return "中止计时"
		case deadline.EventResumed:
			return "恢复计时"
		case deadline.EventExtended:
			return "延长期限"
		case deadline.EventFinished:
			return "办结"
		}
		return k.String()
	},
	"date": func(t time.Time) string { return t.Format("2006-01-02 15:04") },
}).Parse(dashboardHTML))

// dashboard serves the supervision page and moves the simulation on.
type dashboard struct {
	mu  sync.Mutex
	sim *simulation
}

func newDashboard(s *simulation) *dashboard { return &dashboard{sim: s} }

// advance simulates days more days (fewer at the quarter's end).
func (d *dashboard) advance(days int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := 0; i < days && !d.sim.done(); i++ {
		if _, err := d.sim.step(); err != nil {
			return err
		}
	}
	return nil
}

// view is what the page shows.
type view struct {
	Today             deadline.Date
	Done              bool
	Rows              []deptRow
	Total             deptRow
	Overdue           []overdueCase
	Warnings, Yellows int
	Reds, IssuedCards int
}

func (d *dashboard) view() (view, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.sim.day
	rows, err := d.sim.table(now)
	if err != nil {
		return view{}, err
	}
	overdue, err := d.sim.overdue(now)
	if err != nil {
		return view{}, err
	}
	v := view{Today: d.sim.today(), Done: d.sim.done(), Rows: rows, Overdue: overdue}
	for _, r := range rows {
		v.Total.Open += r.Open
		v.Total.Warning += r.Warning
		v.Total.Yellow += r.Yellow
		v.Total.Red += r.Red
		v.Total.DoneOnTime += r.DoneOnTime
		v.Total.DoneLate += r.DoneLate
		v.Total.Issued += r.Issued
	}
	for _, c := range d.sim.issued {
		switch c.Level {
		case deadline.LevelWarning:
			v.Warnings++
		case deadline.LevelYellow:
			v.Yellows++
		case deadline.LevelRed:
			v.Reds++
		}
	}
	v.IssuedCards = len(d.sim.issued)
	return v, nil
}

// ServeHTTP serves GET / (the page), GET /api/counts (the table as JSON)
// and POST /advance?days=N.
func (d *dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/" && r.Method == http.MethodGet:
		v, err := d.view()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := dashboardTemplate.Execute(w, v); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	case r.URL.Path == "/api/counts" && r.Method == http.MethodGet:
		v, err := d.view()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"today": v.Today, "rows": v.Rows})
	case r.URL.Path == "/advance" && r.Method == http.MethodPost:
		days, err := strconv.Atoi(r.FormValue("days"))
		if err != nil || days < 1 || days > 100 {
			http.Error(w, "days: expected a number from 1 to 100", http.StatusBadRequest)
			return
		}
		if err := d.advance(days); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	default:
		http.NotFound(w, r)
	}
}
