package deadline

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Sentinel errors. Every error this package returns matches one of them with
// errors.Is; the typed errors carry the details.
var (
	// ErrInvalidDate: a string or a year, month and day that is not a date.
	ErrInvalidDate = errors.New("deadline: invalid date")
	// ErrInvalidLimit: a malformed time limit such as "20 days" or "-3wd".
	ErrInvalidLimit = errors.New("deadline: invalid limit")
	// ErrInvalidPeriod: a malformed date range, or one that ends before it starts.
	ErrInvalidPeriod = errors.New("deadline: invalid period")
	// ErrInvalidCalendar: calendar data that is not valid (see [*CalendarError]).
	ErrInvalidCalendar = errors.New("deadline: invalid calendar")
	// ErrOutsideCalendar: a count needed a day that the calendar does not
	// cover, and no estimate was asked for (see [*OutsideError]).
	ErrOutsideCalendar = errors.New("deadline: date outside the calendar's coverage")
	// ErrInvalidRule: a rule or card ladder that cannot be used (see [*RuleError]).
	ErrInvalidRule = errors.New("deadline: invalid rule")
	// ErrInvalidEvent: a clock event that does not fit the clock's history
	// (see [*EventError]).
	ErrInvalidEvent = errors.New("deadline: invalid clock event")
	// ErrUnknownClock: the monitor holds no clock with that id.
	ErrUnknownClock = errors.New("deadline: unknown clock")
)

// ParseError reports input that could not be parsed: what was being parsed,
// the input, where in it the problem is, and the form that was expected.
type ParseError struct {
	// What names the kind of value: "date", "limit" or "period".
	What string
	// Input is the text that was parsed.
	Input string
	// Offset is the byte offset of the problem in Input, or -1 when the
	// input is wrong as a whole.
	Offset int
	// Expected describes the accepted form, such as "YYYY-MM-DD".
	Expected string
	// Reason says what is wrong, when more can be said than "invalid".
	Reason string
	// Err is the sentinel: ErrInvalidDate, ErrInvalidLimit or ErrInvalidPeriod.
	Err error
}

// Error implements error.
func (e *ParseError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "deadline: invalid %s %q", e.What, e.Input)
	if e.Offset >= 0 {
		b.WriteString(" at byte " + strconv.Itoa(e.Offset))
	}
	if e.Reason != "" {
		b.WriteString(": " + e.Reason)
	}
	if e.Expected != "" {
		b.WriteString("; expected " + e.Expected)
	}
	return b.String()
}

// Unwrap returns the sentinel error.
func (e *ParseError) Unwrap() error { return e.Err }

// Violation is one problem found in calendar data: where (a JSON Pointer
// into the document), which rule (a stable id such as
// "deadline.calendar.adjusted-not-weekend") and a message.
type Violation struct {
	Pointer string
	Rule    string
	Message string
}

// String formats the violation as "POINTER: MESSAGE [RULE]".
func (v Violation) String() string {
	p := v.Pointer
	if p == "" {
		p = "(document)"
	}
	return p + ": " + v.Message + " [" + v.Rule + "]"
}

// CalendarError reports every violation found in calendar data. It matches
// [ErrInvalidCalendar].
type CalendarError struct {
	// Source names the input (a file name, or "embedded cn-2025.json").
	Source     string
	Violations []Violation
}

// Error implements error.
func (e *CalendarError) Error() string {
	var b strings.Builder
	b.WriteString("deadline: invalid calendar")
	if e.Source != "" {
		b.WriteString(" " + e.Source)
	}
	for i, v := range e.Violations {
		if i == 8 {
			fmt.Fprintf(&b, "; and %d more", len(e.Violations)-i)
			break
		}
		b.WriteString("; " + v.String())
	}
	return b.String()
}

// Is reports whether target is [ErrInvalidCalendar].
func (e *CalendarError) Is(target error) bool { return target == ErrInvalidCalendar }

// OutsideError reports a count that needed a day the calendar does not
// cover. It matches [ErrOutsideCalendar].
type OutsideError struct {
	// Date is the first day outside coverage that the count needed.
	Date Date
	// Coverage is the calendar's coverage.
	Coverage Period
	// Calendar names the calendar.
	Calendar string
}

// Error implements error.
func (e *OutsideError) Error() string {
	return fmt.Sprintf("deadline: %s is outside calendar %s, which covers %s to %s; add that year's schedule or ask for an estimate",
		e.Date, e.Calendar, e.Coverage.From, e.Coverage.To)
}

// Is reports whether target is [ErrOutsideCalendar].
func (e *OutsideError) Is(target error) bool { return target == ErrOutsideCalendar }

// RuleError reports a rule or ladder that cannot be used. It matches
// [ErrInvalidRule].
type RuleError struct {
	// Rule is the rule's name.
	Rule string
	// Field names the offending field, such as "Ladder[1].Step".
	Field string
	// Msg says what is wrong and what was expected.
	Msg string
}

// Error implements error.
func (e *RuleError) Error() string {
	return fmt.Sprintf("deadline: rule %q: %s: %s", e.Rule, e.Field, e.Msg)
}

// Is reports whether target is [ErrInvalidRule].
func (e *RuleError) Is(target error) bool { return target == ErrInvalidRule }

// EventError reports a clock event that does not fit the clock's history.
// It matches [ErrInvalidEvent].
type EventError struct {
	// Clock is the clock's id.
	Clock string
	// Index is the event's position in the history being applied (0-based),
	// or -1 for a single Apply.
	Index int
	// Kind is the event's kind.
	Kind EventKind
	// Msg says what is wrong and what was expected.
	Msg string
}

// Error implements error.
func (e *EventError) Error() string {
	if e.Index >= 0 {
		return fmt.Sprintf("deadline: clock %q: event %d (%s): %s", e.Clock, e.Index, e.Kind, e.Msg)
	}
	return fmt.Sprintf("deadline: clock %q: event %s: %s", e.Clock, e.Kind, e.Msg)
}

// Is reports whether target is [ErrInvalidEvent].
func (e *EventError) Is(target error) bool { return target == ErrInvalidEvent }
