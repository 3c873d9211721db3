package schemacheck

import (
	"regexp"
	"regexp/syntax"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// compileRegexp is the schemas' regexp engine: Go's regexp (as jsonschema
// uses by default), except that a pattern which only says "the whole
// string is made of these ASCII characters, so many of them" (^[A-Za-z0-9_-]+$,
// ^[0-9a-f]{64}$) is matched by a table scan. Such patterns guard the
// long base64url members of signatures and certificates, where Go's
// regexp costs tens of microseconds a string. The scan decides exactly as
// Go's regexp does: a byte outside the class, including any byte of a
// non-ASCII or invalid UTF-8 sequence, fails the match, and with only
// ASCII bytes counting bytes is counting characters.
func compileRegexp(pattern string) (jsonschema.Regexp, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, err
	}
	if m, ok := asciiRunMatcher(pattern); ok {
		return m, nil
	}
	return re, nil
}

// asciiRun matches a whole string of min to max (max < 0: any number)
// bytes of an ASCII set.
type asciiRun struct {
	pattern  string
	set      [128]bool
	min, max int
}

func (m *asciiRun) String() string { return m.pattern }

// MatchString reports whether s is min to max bytes of the set.
func (m *asciiRun) MatchString(s string) bool {
	if len(s) < m.min || m.max >= 0 && len(s) > m.max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 128 || !m.set[c] {
			return false
		}
	}
	return true
}

// asciiRunMatcher recognises ^[SET]+$, ^[SET]*$ and ^[SET]{m,n}$ for an
// ASCII SET.
func asciiRunMatcher(pattern string) (*asciiRun, bool) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil || re.Op != syntax.OpConcat || len(re.Sub) != 3 ||
		re.Sub[0].Op != syntax.OpBeginText || re.Sub[2].Op != syntax.OpEndText {
		return nil, false
	}
	run := re.Sub[1]
	m := &asciiRun{pattern: pattern}
	switch run.Op {
	case syntax.OpPlus:
		m.min, m.max = 1, -1
	case syntax.OpStar:
		m.min, m.max = 0, -1
	case syntax.OpRepeat:
		m.min, m.max = run.Min, run.Max
	default:
		return nil, false
	}
	if len(run.Sub) != 1 || run.Sub[0].Op != syntax.OpCharClass {
		return nil, false
	}
	ranges := run.Sub[0].Rune
	for i := 0; i+1 < len(ranges); i += 2 {
		lo, hi := ranges[i], ranges[i+1]
		if lo < 0 || hi >= 128 {
			return nil, false
		}
		for c := lo; c <= hi; c++ {
			m.set[c] = true
		}
	}
	return m, true
}
