package deadline

import (
	"fmt"
	"strconv"
)

// Level is a supervision level (监察等级): a warning (预警), a yellow card
// (黄牌) or a red card (红牌). Levels are ordered.
type Level uint8

// Levels.
const (
	LevelNone Level = iota
	LevelWarning
	LevelYellow
	LevelRed
)

// String returns "warning", "yellow", "red" or "none".
func (l Level) String() string {
	switch l {
	case LevelNone:
		return "none"
	case LevelWarning:
		return "warning"
	case LevelYellow:
		return "yellow"
	case LevelRed:
		return "red"
	}
	return "level(" + strconv.Itoa(int(l)) + ")"
}

// Watch names the limit a rung of the ladder watches.
type Watch uint8

// Watches.
const (
	// WatchLegal watches the legal limit (法定时限), extensions included.
	WatchLegal Watch = iota + 1
	// WatchPromised watches the promised limit (承诺时限).
	WatchPromised
	// WatchStep watches one step's limit (环节时限), named by Rung.Step.
	WatchStep
)

// String returns "legal", "promised" or "step".
func (w Watch) String() string {
	switch w {
	case WatchLegal:
		return "legal"
	case WatchPromised:
		return "promised"
	case WatchStep:
		return "step"
	}
	return "watch(" + strconv.Itoa(int(w)) + ")"
}

// Trigger says when a rung fires relative to its watched limit's due date.
type Trigger uint8

// Triggers.
const (
	// WhenLeft fires at the start of the first day on which at most Offset
	// remains after that day up to and including the due date (working
	// days for wd, calendar days for d, hours for h): a warning (预警).
	WhenLeft Trigger = iota + 1
	// WhenPassed fires once the due date extended by Offset, counted from
	// the due date as a limit is counted from its start, has passed: an
	// Offset of 0 fires the moment the limit has run out (超期).
	WhenPassed
)

// String returns "left" or "passed".
func (t Trigger) String() string {
	switch t {
	case WhenLeft:
		return "left"
	case WhenPassed:
		return "passed"
	}
	return "trigger(" + strconv.Itoa(int(t)) + ")"
}

// Rung is one level of a card ladder: which limit it watches, when it fires
// relative to that limit, and the level it raises the case to.
type Rung struct {
	Level Level
	Watch Watch
	// Step names the step when Watch is WatchStep.
	Step   string
	When   Trigger
	Offset Limit
}

// Ladder is a card ladder (亮牌规则): at most one rung per level. Places
// differ (yellow before expiry and red when overdue in some cities; yellow
// past the legal limit and red if still unfinished in others), so it is
// configured per rule.
type Ladder []Rung

// DefaultLadder is the mission's default: a warning when at most warnBefore
// remains of the legal limit, a yellow card once the legal limit has passed,
// and a red card when the case is still unfinished grace after it. A zero
// warnBefore or grace leaves that rung out.
func DefaultLadder(warnBefore, grace Limit) Ladder {
	var l Ladder
	if !warnBefore.IsZero() {
		l = append(l, Rung{Level: LevelWarning, Watch: WatchLegal, When: WhenLeft, Offset: warnBefore})
	}
	l = append(l, Rung{Level: LevelYellow, Watch: WatchLegal, When: WhenPassed})
	if !grace.IsZero() {
		l = append(l, Rung{Level: LevelRed, Watch: WatchLegal, When: WhenPassed, Offset: grace})
	}
	return l
}

// StepLimit is the limit of one step inside a case (环节时限), such as
// 受理 or 审查, counted from the step's start with the case's pauses.
type StepLimit struct {
	Name  string
	Limit Limit
}

// Rule is the time-limit rule of a kind of case (事项时限规则).
type Rule struct {
	// Name identifies the rule in errors and cards.
	Name string
	// Legal is the legal limit (法定时限), such as 20 working days under
	// 行政许可法 第四十二条.
	Legal Limit
	// Promised is the shorter limit the department commits to (承诺时限);
	// zero when there is none.
	Promised Limit
	// Steps are the step limits (环节时限) inside a case.
	Steps []StepLimit
	// MaxExtension caps the total of a case's extensions (延长), such as 10
	// working days under 第四十二条; zero refuses every extension.
	MaxExtension Limit
	// Ladder is the card ladder; nil means DefaultLadder(WD(3), WD(5)).
	Ladder Ladder
	// Estimate lets counts leave the calendar's coverage by assuming Monday
	// to Friday there; readings then say they are estimated. Without it a
	// reading that needs an uncovered day is ErrOutsideCalendar.
	Estimate bool
}

// defaultLadder is the ladder of a rule that sets none.
var defaultLadder = DefaultLadder(WD(3), WD(5))

// ladder returns the effective ladder.
func (r *Rule) ladder() Ladder {
	if r.Ladder == nil {
		return defaultLadder
	}
	return r.Ladder
}

func (r *Rule) limitOf(w Watch, step string) (Limit, bool) {
	switch w {
	case WatchLegal:
		return r.Legal, true
	case WatchPromised:
		return r.Promised, !r.Promised.IsZero()
	case WatchStep:
		for _, s := range r.Steps {
			if s.Name == step {
				return s.Limit, true
			}
		}
	}
	return Limit{}, false
}

// Validate checks the rule: the legal limit is valid and not zero, the
// promised limit is not longer than the legal one in the same unit, steps
// have distinct names, each level has at most one rung, every rung watches
// a limit the rule has, and offsets are in days for day limits and in hours
// for hour limits. It returns a [*RuleError].
func (r *Rule) Validate() error {
	fail := func(field, format string, args ...any) error {
		return &RuleError{Rule: r.Name, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	if !r.Legal.Valid() || r.Legal.IsZero() {
		return fail("Legal", "%s is not a limit; expected N wd, d or h", r.Legal)
	}
	if !r.Promised.IsZero() {
		if !r.Promised.Valid() {
			return fail("Promised", "%s is not a limit", r.Promised)
		}
		if r.Promised.Unit == r.Legal.Unit && r.Promised.N > r.Legal.N {
			return fail("Promised", "%s is longer than the legal limit %s; expected a shorter commitment", r.Promised, r.Legal)
		}
		if (r.Promised.Unit == Hours) != (r.Legal.Unit == Hours) {
			return fail("Promised", "%s and the legal limit %s mix hours and days", r.Promised, r.Legal)
		}
	}
	if !r.MaxExtension.IsZero() && (!r.MaxExtension.Valid() || r.MaxExtension.Unit != r.Legal.Unit) {
		return fail("MaxExtension", "%s is not a limit in the legal limit's unit %s", r.MaxExtension, r.Legal.Unit)
	}
	names := map[string]bool{}
	for i, s := range r.Steps {
		if s.Name == "" || names[s.Name] {
			return fail(fmt.Sprintf("Steps[%d].Name", i), "%q is empty or repeated; expected distinct step names", s.Name)
		}
		names[s.Name] = true
		if !s.Limit.Valid() || s.Limit.IsZero() {
			return fail(fmt.Sprintf("Steps[%d].Limit", i), "%s is not a limit", s.Limit)
		}
	}
	var seen [4]bool
	for i, g := range r.ladder() {
		f := fmt.Sprintf("Ladder[%d]", i)
		if g.Level < LevelWarning || g.Level > LevelRed {
			return fail(f+".Level", "%s is not warning, yellow or red", g.Level)
		}
		if seen[g.Level] {
			return fail(f+".Level", "a second %s rung; expected at most one rung per level", g.Level)
		}
		seen[g.Level] = true
		lim, ok := r.limitOf(g.Watch, g.Step)
		if !ok {
			return fail(f+".Watch", "the rule has no %s limit %q", g.Watch, g.Step)
		}
		if g.When != WhenLeft && g.When != WhenPassed {
			return fail(f+".When", "%s is not left or passed", g.When)
		}
		if g.Offset.IsZero() {
			continue
		}
		if !g.Offset.Valid() || (g.Offset.Unit == Hours) != (lim.Unit == Hours) {
			return fail(f+".Offset", "%s does not fit the watched limit %s; expected days for day limits, hours for hour limits", g.Offset, lim)
		}
	}
	return nil
}
