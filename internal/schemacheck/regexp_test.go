package schemacheck

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var runPatterns = []string{
	`^[A-Za-z0-9_-]+$`,
	`^[0-9a-f]{64}$`,
	`^[a-z]*$`,
	`^[0-9]{2,4}$`,
	`^[a-c]{3,}$`,
}

// The table scan decides as Go's regexp does, on ASCII, non-ASCII and
// invalid UTF-8 strings of every length around the bounds.
func TestASCIIRunMatchesAsRegexp(t *testing.T) {
	t.Parallel()
	inputs := []string{"", "a", "abc", "ab-_Z9", "é", "aé", "a\xff", "\xff", "a b", "0123", "01234", "12", "1",
		strings.Repeat("f", 63), strings.Repeat("f", 64), strings.Repeat("f", 65), strings.Repeat("a", 64) + "\n", "\n", "aaa\x00"}
	for _, p := range runPatterns {
		m, ok := asciiRunMatcher(p)
		require.True(t, ok, p)
		re := regexp.MustCompile(p)
		for _, in := range inputs {
			assert.Equal(t, re.MatchString(in), m.MatchString(in), "%s on %q", p, in)
		}
	}
	// Anything else is left to regexp: other shapes, literals, non-ASCII
	// and negated classes (which hold non-ASCII runes).
	for _, p := range []string{`^[A-Za-z0-9+/]+={0,2}$`, `[a-z]+`, `^[a-z]+`, `^[é]+$`, `^a+$`, `^(?:[a-z]+)$|^x$`, `^[^a]+$`} {
		_, ok := asciiRunMatcher(p)
		assert.False(t, ok, p)
	}
}

func FuzzASCIIRun(f *testing.F) {
	for _, s := range []string{"", "abc", "é", "\xff", "0123456789abcdef"} {
		f.Add(s)
	}
	type pair struct {
		m  *asciiRun
		re *regexp.Regexp
	}
	var ps []pair
	for _, p := range runPatterns {
		m, _ := asciiRunMatcher(p)
		ps = append(ps, pair{m, regexp.MustCompile(p)})
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range ps {
			if p.m.MatchString(s) != p.re.MatchString(s) {
				t.Fatalf("%s on %q: scan %v, regexp %v", p.re, s, p.m.MatchString(s), p.re.MatchString(s))
			}
		}
	})
}
