package deadline

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"

	"github.com/egovkit/egovkit/internal/schemacheck"
	"github.com/egovkit/egovkit/internal/strictjson"
)

// Year is one year of an official holiday schedule (节假日安排) as it is
// published, in the JSON form of [CalendarSchemaID]: the days off and the
// Saturdays and Sundays that are working days. A local adjustment (地方调整)
// has the same form.
type Year struct {
	// Region is CN for the national schedule, or an ISO 3166-2 code such as
	// CN-GX for a local one (适用地区).
	Region string `json:"region"`
	// Year is the year the schedule is for (年度).
	Year int `json:"year"`
	// Source is the notice it comes from (依据).
	Source Source `json:"source"`
	// Holidays are the days off (放假).
	Holidays []Holiday `json:"holidays"`
	// AdjustedWorkdays are the working Saturdays and Sundays (调休上班).
	AdjustedWorkdays []AdjustedWorkday `json:"adjustedWorkdays"`
}

// Source names the notice (通知) a schedule was transcribed from.
type Source struct {
	// Title is the notice's title (标题).
	Title string `json:"title"`
	// Number is the notice's document number (发文字号), when known.
	Number string `json:"number,omitempty"`
	// URL is where the notice is published.
	URL string `json:"url,omitempty"`
}

// Holiday is an inclusive range of days off (放假).
type Holiday struct {
	// Name is the holiday (节日名称), such as 春节.
	Name string `json:"name"`
	From Date   `json:"from"`
	To   Date   `json:"to"`
}

// AdjustedWorkday is a Saturday or Sunday that is a working day (调休上班).
type AdjustedWorkday struct {
	Date Date `json:"date"`
	// For names the holiday it makes up for.
	For string `json:"for"`
}

// CalendarSchemaID is the $id of the JSON Schema (draft 2020-12) that
// calendar data follows; [CalendarSchema] returns its text.
const CalendarSchemaID = "https://schemas.egovkit.org/deadline/1/calendar.json"

//go:embed data/calendar.schema.json
var calendarSchemaText []byte

// CalendarSchema returns the calendar JSON Schema (a copy).
func CalendarSchema() []byte { return bytes.Clone(calendarSchemaText) }

var calendarSchema = sync.OnceValues(func() (*schemacheck.Schema, error) {
	return schemacheck.CompileJSON(CalendarSchemaID, calendarSchemaText, "deadline.calendar")
})

// calendarLimits bound calendar input: 1 MiB and shallow nesting.
var calendarLimits = strictjson.Limits{MaxBytes: 1 << 20, MaxDepth: 8}

// ParseYears reads calendar data: one year object or an array of them. The
// bytes are read strictly (valid UTF-8, no duplicate names, at most 1 MiB),
// validated against the calendar schema (closed objects) and then checked
// for meaning: dates exist, ranges do not end before they start, dates lie
// in the schedule's year (a holiday may spill into the neighbouring month
// of the next or previous year), adjusted working days are Saturdays or
// Sundays, and no day is both a holiday and a working day. source names the
// input in errors. Every violation is reported in one [*CalendarError].
func ParseYears(source string, data []byte) ([]Year, error) {
	fail := func(vs ...Violation) ([]Year, error) {
		return nil, &CalendarError{Source: source, Violations: vs}
	}
	tree, err := strictjson.Parse(data, calendarLimits)
	if err != nil {
		var se *strictjson.Error
		if ok := asStrict(err, &se); ok {
			return fail(Violation{Pointer: se.Pointer, Rule: "deadline.calendar.json." + se.Code.String(), Message: se.Error()})
		}
		return fail(Violation{Rule: "deadline.calendar.json", Message: err.Error()})
	}
	sch, err := calendarSchema()
	if err != nil {
		return nil, fmt.Errorf("deadline: embedded calendar schema: %w", err)
	}
	if svs := schemacheck.Sort(sch.Validate(tree)); len(svs) > 0 {
		vs := make([]Violation, len(svs))
		for i, v := range svs {
			vs[i] = Violation(v)
		}
		return fail(vs...)
	}
	// The tree is valid against the schema: check the dates' meaning, then
	// decode the typed form from the tree.
	items := []any{tree}
	single := true
	if arr, ok := tree.([]any); ok {
		items, single = arr, false
	}
	ptr := func(i int) string {
		if single {
			return ""
		}
		return "/" + strconv.Itoa(i)
	}
	var vs []Violation
	for i, it := range items {
		vs = append(vs, dateViolations(it, ptr(i))...)
	}
	if len(vs) > 0 {
		return fail(vs...)
	}
	years := make([]Year, len(items))
	for i, it := range items {
		years[i] = decodeYear(it.(map[string]any))
		vs = append(vs, checkYear(&years[i], ptr(i))...)
	}
	seen := map[string]int{}
	for i, y := range years {
		k := y.Region + "/" + strconv.Itoa(y.Year)
		if j, dup := seen[k]; dup {
			vs = append(vs, Violation{Pointer: "/" + strconv.Itoa(i), Rule: "deadline.calendar.duplicate-year",
				Message: fmt.Sprintf("region %s year %d is given twice (also at /%d); expected one schedule per region and year", y.Region, y.Year, j)})
		}
		seen[k] = i
	}
	if len(vs) > 0 {
		return fail(vs...)
	}
	return years, nil
}

func asStrict(err error, target **strictjson.Error) bool {
	se, ok := err.(*strictjson.Error)
	if ok {
		*target = se
	}
	return ok
}

// dateViolations finds the date strings that match the schema's pattern but
// are no date (2025-02-30), with their pointers.
func dateViolations(tree any, base string) []Violation {
	var vs []Violation
	obj, _ := tree.(map[string]any)
	check := func(p string, v any) {
		s, _ := v.(string)
		if _, err := ParseDate(s); err != nil {
			vs = append(vs, Violation{Pointer: p, Rule: "deadline.calendar.date", Message: err.Error()})
		}
	}
	if hs, ok := obj["holidays"].([]any); ok {
		for i, h := range hs {
			m, _ := h.(map[string]any)
			check(base+"/holidays/"+strconv.Itoa(i)+"/from", m["from"])
			check(base+"/holidays/"+strconv.Itoa(i)+"/to", m["to"])
		}
	}
	if as, ok := obj["adjustedWorkdays"].([]any); ok {
		for i, a := range as {
			m, _ := a.(map[string]any)
			check(base+"/adjustedWorkdays/"+strconv.Itoa(i)+"/date", m["date"])
		}
	}
	return vs
}

// decodeYear builds a Year from a tree that passed the schema and
// dateViolations, so every type assertion holds.
func decodeYear(m map[string]any) Year {
	str := func(v any) string { s, _ := v.(string); return s }
	date := func(v any) Date { d, _ := ParseDate(str(v)); return d }
	n, _ := m["year"].(json.Number).Float64() // an integer of 1900..9998 by the schema
	src := m["source"].(map[string]any)
	y := Year{Region: str(m["region"]), Year: int(n),
		Source: Source{Title: str(src["title"]), Number: str(src["number"]), URL: str(src["url"])}}
	for _, h := range m["holidays"].([]any) {
		hm := h.(map[string]any)
		y.Holidays = append(y.Holidays, Holiday{Name: str(hm["name"]), From: date(hm["from"]), To: date(hm["to"])})
	}
	for _, a := range m["adjustedWorkdays"].([]any) {
		am := a.(map[string]any)
		y.AdjustedWorkdays = append(y.AdjustedWorkdays, AdjustedWorkday{Date: date(am["date"]), For: str(am["for"])})
	}
	return y
}

func checkYear(y *Year, p string) []Violation {
	var vs []Violation
	lo := MustDate(y.Year-1, 12, 1)
	hi := MustDate(y.Year+1, 1, 31)
	inYear := func(ptr string, d Date) {
		if d.Before(lo) || d.After(hi) {
			vs = append(vs, Violation{Pointer: ptr, Rule: "deadline.calendar.outside-year",
				Message: fmt.Sprintf("%s is not in %d; expected a date of that year (a holiday may reach into the neighbouring month)", d, y.Year)})
		}
	}
	off := map[Date]bool{}
	for i, h := range y.Holidays {
		hp := p + "/holidays/" + strconv.Itoa(i)
		inYear(hp+"/from", h.From)
		inYear(hp+"/to", h.To)
		if h.To.Before(h.From) {
			vs = append(vs, Violation{Pointer: hp + "/to", Rule: "deadline.calendar.range-order",
				Message: fmt.Sprintf("holiday %s ends on %s, before it starts on %s; expected to >= from", h.Name, h.To, h.From)})
			continue
		}
		if h.To.Sub(h.From) < 62 {
			for d := h.From; !d.After(h.To); d = d.AddDays(1) {
				off[d] = true
			}
		}
	}
	for i, a := range y.AdjustedWorkdays {
		ap := p + "/adjustedWorkdays/" + strconv.Itoa(i) + "/date"
		inYear(ap, a.Date)
		if wd := a.Date.Weekday(); wd != 0 && wd != 6 {
			vs = append(vs, Violation{Pointer: ap, Rule: "deadline.calendar.adjusted-not-weekend",
				Message: fmt.Sprintf("%s is a %s, already a working day; expected a Saturday or Sunday", a.Date, wd)})
		}
		if off[a.Date] {
			vs = append(vs, Violation{Pointer: ap, Rule: "deadline.calendar.conflict",
				Message: fmt.Sprintf("%s is both a holiday and an adjusted working day; expected one or the other", a.Date)})
		}
	}
	return vs
}

//go:embed data/cn-2025.json
var cn2025 []byte

//go:embed data/cn-2026.json
var cn2026 []byte

var (
	chinaOnce sync.Once
	china     *Calendar
)

// ChinaYears returns the embedded national schedules (国务院办公厅关于部分节假日
// 安排的通知) for the years that [China] covers, as published.
func ChinaYears() []Year {
	var out []Year
	for _, f := range []struct {
		name string
		data []byte
	}{{"cn-2025.json", cn2025}, {"cn-2026.json", cn2026}} {
		ys, err := ParseYears("embedded "+f.name, f.data)
		if err != nil {
			panic(err) // the embedded data is tested; this is a build defect
		}
		out = append(out, ys...)
	}
	return out
}

// China returns the national working-day calendar of the People's Republic
// of China, built from the State Council notices embedded in this package:
// 2025 (国办发明电〔2024〕12号) and 2026. It covers 2025-01-01 to 2026-12-31;
// counting past that is [ErrOutsideCalendar] unless an estimate is asked
// for. No earlier year is embedded because none could be checked against
// its notice here. The calendar is shared and safe for concurrent use.
func China() *Calendar {
	chinaOnce.Do(func() {
		c, err := New("CN", ChinaYears()...)
		if err != nil {
			panic(err)
		}
		china = c
	})
	return china
}
