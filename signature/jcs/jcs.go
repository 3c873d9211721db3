package jcs

import (
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/egovkit/egovkit/internal/strictjson"
)

// Error is the error returned for input that is not strict I-JSON: its Code
// says what was wrong, Offset, Line, Column and Pointer say where, and Msg
// says what was expected. It matches [ErrInvalid] with errors.Is.
type Error = strictjson.Error

// Code classifies an [Error].
type Code = strictjson.Code

// Error codes; see [Error].
const (
	// CodeSyntax is a violation of the JSON grammar (RFC 8259), including a
	// byte order mark, a raw control character in a string, trailing data,
	// and a top-level value that is not an object where one is required.
	CodeSyntax = strictjson.CodeSyntax
	// CodeInvalidUTF8 is a byte sequence that is not UTF-8.
	CodeInvalidUTF8 = strictjson.CodeInvalidUTF8
	// CodeLoneSurrogate is a \u escape of an unpaired UTF-16 surrogate.
	CodeLoneSurrogate = strictjson.CodeLoneSurrogate
	// CodeNumberRange is a number outside the range of an IEEE-754 double.
	CodeNumberRange = strictjson.CodeNumberRange
	// CodeDuplicateName is an object member name that occurs twice.
	CodeDuplicateName = strictjson.CodeDuplicateName
	// CodeTooLarge is input larger than the size limit.
	CodeTooLarge = strictjson.CodeTooLarge
	// CodeTooDeep is nesting deeper than the depth limit.
	CodeTooDeep = strictjson.CodeTooDeep
)

// ErrInvalid matches every [*Error] with errors.Is.
var ErrInvalid = strictjson.ErrInvalid

// Default limits, used where a [Canonicalizer] field is zero.
const (
	// DefaultMaxBytes is the largest input accepted by default: 4 MiB.
	DefaultMaxBytes = strictjson.DefaultMaxBytes
	// DefaultMaxDepth is the deepest nesting accepted by default.
	DefaultMaxDepth = strictjson.DefaultMaxDepth
)

// Canonicalizer canonicalises JSON text under limits, reusing its memory
// from one call to the next. The zero value is ready to use with the
// default limits. A Canonicalizer must not be used by two goroutines at
// once; the package-level functions draw from a pool and are safe for
// concurrent use.
type Canonicalizer struct {
	// MaxBytes is the largest input accepted, in bytes; zero means
	// DefaultMaxBytes.
	MaxBytes int64
	// MaxDepth is the deepest nesting of objects and arrays accepted; zero
	// means DefaultMaxDepth.
	MaxDepth int

	sc      strictjson.Scanner
	data    []byte
	out     []byte
	members []member // a stack: each open object owns the top of it
	scratch []byte   // reordering buffer
	names   []byte   // decoded names that held escapes; never reallocated mid-call
	tmp     []byte   // decoded string values that held escapes

	omit     string
	omitting bool
	omitted  []byte
	found    bool

	removedStart, removedEnd int // input span of the removed value
	topEnd                   int // input offset of the top-level closing brace
}

// member is one object member written to out[start:end] as "name":value.
type member struct {
	name       []byte // decoded name, aliasing the input or c.names
	start, end int
	offset     int // input offset of the name, for errors
}

func (c *Canonicalizer) limits() strictjson.Limits {
	return strictjson.Limits{MaxBytes: c.MaxBytes, MaxDepth: c.MaxDepth}
}

// Append appends the canonical form of the JSON text data to dst and
// returns the extended buffer. On error it returns dst unchanged (its
// spare capacity may have been written) and an [*Error].
func (c *Canonicalizer) Append(dst, data []byte) ([]byte, error) {
	out, _, err := c.run(dst, data, "", false)
	return out, err
}

// AppendWithout appends to dst the canonical form of data with the
// top-level member called name removed, and returns the extended buffer and
// the canonical form of the removed member's value (a new slice, nil if the
// member is absent). The top-level value must be an object. The removed
// member still counts for the duplicate-name rule.
//
// A document that carries its own signatures under a reserved member is
// signed and verified this way: each signature covers the document without
// that member.
func (c *Canonicalizer) AppendWithout(dst, data []byte, name string) (out, removed []byte, err error) {
	return c.run(dst, data, name, true)
}

// RemovedSpan returns the input offsets [start, end) of the value of the
// member that the last [Canonicalizer.AppendWithout] call removed, and the
// offset of the top-level object's closing brace, so that a caller can
// splice the original text (add a signature to a document, say) without
// reading it again. start and end are -1 when the member was absent.
func (c *Canonicalizer) RemovedSpan() (start, end, objectEnd int) {
	return c.removedStart, c.removedEnd, c.topEnd
}

// Canonicalize returns the canonical form of the JSON text data, or an
// [*Error] if data is not strict I-JSON within the default limits.
func Canonicalize(data []byte) ([]byte, error) {
	c := pool.Get().(*Canonicalizer)
	out, _, err := c.run(make([]byte, 0, len(data)+len(data)/16+8), data, "", false)
	c.release()
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Append appends the canonical form of data to dst, as
// [Canonicalizer.Append] does with the default limits.
func Append(dst, data []byte) ([]byte, error) {
	c := pool.Get().(*Canonicalizer)
	out, _, err := c.run(dst, data, "", false)
	c.release()
	return out, err
}

var pool = sync.Pool{New: func() any { return new(Canonicalizer) }}

// maxPooledScratch bounds the memory a pooled Canonicalizer keeps.
const maxPooledScratch = 1 << 20

func (c *Canonicalizer) release() {
	c.data, c.out = nil, nil
	c.sc.Reset(nil, strictjson.Limits{})
	if cap(c.scratch) > maxPooledScratch || cap(c.names) > maxPooledScratch || cap(c.tmp) > maxPooledScratch {
		c.scratch, c.names, c.tmp = nil, nil, nil
	}
	pool.Put(c)
}

func (c *Canonicalizer) run(dst, data []byte, omit string, omitting bool) ([]byte, []byte, error) {
	if err := c.sc.Reset(data, c.limits()); err != nil {
		return dst, nil, err
	}
	c.data, c.out = data, dst
	c.members = c.members[:0]
	c.names = c.names[:0]
	c.omit, c.omitting, c.found, c.omitted = omit, omitting, false, nil
	c.removedStart, c.removedEnd, c.topEnd = -1, -1, -1
	k, err := c.sc.Next()
	if err != nil {
		return dst, nil, c.fail(err)
	}
	if omitting && k != strictjson.ObjectStart {
		if _, err := c.sc.Next(); err != nil { // report a syntax error first
			return dst, nil, c.fail(err)
		}
		return dst, nil, &Error{Code: CodeSyntax, Offset: int64(c.sc.Offset()), Line: 1, Column: 1,
			Msg: "top-level value is " + k.String() + "; expected an object"}
	}
	if err := c.value(k, omitting); err != nil {
		return dst, nil, c.fail(err)
	}
	if omitting {
		c.topEnd = c.sc.Offset()
	}
	if _, err := c.sc.Next(); err != nil {
		return dst, nil, c.fail(err)
	}
	out := c.out
	c.out = nil
	return out, c.omitted, nil
}

// fail turns a scanning error into the located error of the strict tree
// parser, which knows the JSON Pointer; errors are the slow path.
func (c *Canonicalizer) fail(err error) error {
	if _, perr := strictjson.Parse(c.data, c.limits()); perr != nil {
		return perr
	}
	return err
}

func (c *Canonicalizer) value(k strictjson.Kind, top bool) error {
	switch k {
	case strictjson.ObjectStart:
		return c.object(top)
	case strictjson.ArrayStart:
		return c.array()
	case strictjson.String:
		c.appendString()
	case strictjson.Number:
		c.out = appendNumber(c.out, c.sc.Raw())
	case strictjson.True:
		c.out = append(c.out, "true"...)
	case strictjson.False:
		c.out = append(c.out, "false"...)
	case strictjson.Null:
		c.out = append(c.out, "null"...)
	}
	return nil
}

func (c *Canonicalizer) array() error {
	c.out = append(c.out, '[')
	first := true
	for {
		k, err := c.sc.Next()
		if err != nil {
			return err
		}
		if k == strictjson.ArrayEnd {
			c.out = append(c.out, ']')
			return nil
		}
		if !first {
			c.out = append(c.out, ',')
		}
		first = false
		if err := c.value(k, false); err != nil {
			return err
		}
	}
}

func (c *Canonicalizer) object(top bool) error {
	c.out = append(c.out, '{')
	objStart := len(c.out)
	base := len(c.members)
	for {
		k, err := c.sc.Next()
		if err != nil {
			return err
		}
		if k == strictjson.ObjectEnd {
			break
		}
		start := len(c.out)
		if start > objStart {
			c.out = append(c.out, ',')
		}
		m := member{start: len(c.out), offset: c.sc.Offset()}
		if c.sc.Escaped() {
			if cap(c.names) < len(c.data) {
				// Decoded names are never longer than the input, so one
				// buffer of that size is never reallocated and m.name
				// slices stay valid.
				c.names = make([]byte, 0, len(c.data))
			}
			n := len(c.names)
			c.names = c.sc.AppendString(c.names)
			m.name = c.names[n:len(c.names):len(c.names)]
			c.out = append(c.out, '"')
			c.out = appendEscaped(c.out, m.name)
			c.out = append(c.out, '"')
		} else {
			m.name = c.sc.Raw()
			c.out = append(c.out, '"')
			c.out = append(c.out, m.name...)
			c.out = append(c.out, '"')
		}
		c.out = append(c.out, ':')
		valueStart := len(c.out)
		k, err = c.sc.Next()
		if err != nil {
			return err
		}
		valueOffset := c.sc.Offset()
		if err := c.value(k, false); err != nil {
			return err
		}
		if top && c.omitting && string(m.name) == c.omit {
			if c.found {
				return c.duplicate(m)
			}
			c.found = true
			c.removedStart, c.removedEnd = valueOffset, c.sc.Offset()+lastTokenLen(k, c.sc.Raw())
			c.omitted = append([]byte(nil), c.out[valueStart:]...)
			c.out = c.out[:start]
			continue
		}
		m.end = len(c.out)
		c.members = append(c.members, m)
	}
	if err := c.sortMembers(base, objStart); err != nil {
		return err
	}
	c.members = c.members[:base]
	c.out = append(c.out, '}')
	return nil
}

// lastTokenLen is the input length of the last token of a value whose
// first token was of kind first: a closing bracket, a string with its
// quotes, or a number or literal.
func lastTokenLen(first strictjson.Kind, raw []byte) int {
	switch first {
	case strictjson.ObjectStart, strictjson.ArrayStart:
		return 1
	case strictjson.String:
		return len(raw) + 2
	}
	return len(raw)
}

// sortMembers puts the members of the object whose content starts at
// out[objStart:] in canonical order and checks for duplicate names.
func (c *Canonicalizer) sortMembers(base, objStart int) error {
	ms := c.members[base:]
	sorted := true
	for i := 1; i < len(ms); i++ {
		if compareNames(ms[i-1].name, ms[i].name) >= 0 {
			sorted = false
			break
		}
	}
	if sorted {
		return nil
	}
	slices.SortFunc(ms, compareMembers)
	for i := 1; i < len(ms); i++ {
		if string(ms[i-1].name) == string(ms[i].name) {
			later := ms[i]
			if ms[i-1].offset > later.offset {
				later = ms[i-1]
			}
			return c.duplicate(later)
		}
	}
	s := c.scratch[:0]
	for i, m := range ms {
		if i > 0 {
			s = append(s, ',')
		}
		s = append(s, c.out[m.start:m.end]...)
	}
	copy(c.out[objStart:], s)
	c.scratch = s
	return nil
}

func (c *Canonicalizer) duplicate(m member) error {
	return &Error{Code: CodeDuplicateName, Offset: int64(m.offset),
		Msg: "duplicate member name " + strconv.Quote(string(m.name)) + "; expected each name once per object"}
}

func compareMembers(a, b member) int { return compareNames(a.name, b.name) }

// compareNames compares two UTF-8 names as sequences of UTF-16 code units
// (RFC 8785 §3.2.3). UTF-8 byte order is code point order, which agrees with
// UTF-16 order except that characters U+E000..U+FFFF sort after the
// supplementary planes, whose surrogates are D800..DFFF.
func compareNames(a, b []byte) int {
	n := min(len(a), len(b))
	i := 0
	for i < n && a[i] == b[i] {
		i++
	}
	if i == n {
		return len(a) - len(b)
	}
	if a[i] < 0x80 && b[i] < 0x80 {
		return int(a[i]) - int(b[i])
	}
	// Back up to the start of the differing characters; the prefixes are
	// equal, so both start at the same offset.
	for i > 0 && a[i]&0xC0 == 0x80 {
		i--
	}
	ra, _ := utf8.DecodeRune(a[i:])
	rb, _ := utf8.DecodeRune(b[i:])
	return int(utf16Key(ra)) - int(utf16Key(rb))
}

func utf16Key(r rune) rune {
	if r >= 0xE000 && r <= 0xFFFF {
		return r + 0x200000
	}
	return r
}

func (c *Canonicalizer) appendString() {
	raw := c.sc.Raw()
	c.out = append(c.out, '"')
	if !c.sc.Escaped() {
		// The scanner refused raw control characters, and without escapes
		// there is no '"' or '\\': the text is already canonical.
		c.out = append(c.out, raw...)
	} else {
		c.tmp = c.sc.AppendString(c.tmp[:0])
		c.out = appendEscaped(c.out, c.tmp)
	}
	c.out = append(c.out, '"')
}

// needsEscape marks the bytes RFC 8785 §3.2.2.2 escapes.
var needsEscape = func() (t [256]bool) {
	for i := 0; i < 0x20; i++ {
		t[i] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// appendEscaped appends the decoded string s with the minimal escaping of
// RFC 8785 §3.2.2.2.
func appendEscaped(dst, s []byte) []byte {
	const hex = "0123456789abcdef"
	run := 0
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !needsEscape[b] {
			continue
		}
		dst = append(dst, s[run:i]...)
		run = i + 1
		switch b {
		case '"', '\\':
			dst = append(dst, '\\', b)
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\r':
			dst = append(dst, '\\', 'r')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&15])
		}
	}
	return append(dst, s[run:]...)
}

// appendNumber appends the canonical form of the number token raw, which
// the scanner has checked against the grammar and the range of a double.
func appendNumber(dst, raw []byte) []byte {
	// Fast path: an integer of at most 15 digits is exact in a double and
	// ECMAScript writes it as its digits (the grammar forbids leading zeros).
	if len(raw) <= 16 {
		digits := raw
		if raw[0] == '-' {
			digits = raw[1:]
		}
		plain := len(digits) <= 15
		for _, b := range digits {
			if b < '0' || b > '9' {
				plain = false
				break
			}
		}
		if plain {
			if len(digits) == 1 && digits[0] == '0' {
				return append(dst, '0') // -0 is 0
			}
			return append(dst, raw...)
		}
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		// Unreachable for scanned tokens; keep the text rather than panic.
		return append(dst, raw...)
	}
	return AppendFloat(dst, f)
}

// AppendFloat appends f as ECMAScript's Number.prototype.toString writes it
// (RFC 8785 §3.2.2.3; ECMA-262 Number::toString): the shortest digits that
// round-trip, fixed notation when the decimal exponent n (f = 0.d1d2… × 10^n)
// satisfies -6 < n ≤ 21, exponent notation otherwise, and 0 for both zeros.
// NaN and infinities have no JSON form; AppendFloat writes "null" for them,
// which the canonicaliser never asks for.
func AppendFloat(dst []byte, f float64) []byte {
	if f == 0 {
		return append(dst, '0')
	}
	if f != f || f > 1.7976931348623157e308 || f < -1.7976931348623157e308 {
		return append(dst, "null"...)
	}
	var buf [32]byte
	b := strconv.AppendFloat(buf[:0], f, 'e', -1, 64) // d.ddde±XX
	if b[0] == '-' {
		dst = append(dst, '-')
		b = b[1:]
	}
	var digits [24]byte
	k := 0
	i := 0
	for ; b[i] != 'e'; i++ {
		if b[i] != '.' {
			digits[k] = b[i]
			k++
		}
	}
	exp := 0
	neg := b[i+1] == '-'
	for _, d := range b[i+2:] {
		exp = exp*10 + int(d-'0')
	}
	if neg {
		exp = -exp
	}
	n := exp + 1
	ds := digits[:k]
	switch {
	case k <= n && n <= 21:
		dst = append(dst, ds...)
		for j := 0; j < n-k; j++ {
			dst = append(dst, '0')
		}
	case 0 < n && n <= 21:
		dst = append(dst, ds[:n]...)
		dst = append(dst, '.')
		dst = append(dst, ds[n:]...)
	case -6 < n && n <= 0:
		dst = append(dst, '0', '.')
		for j := 0; j < -n; j++ {
			dst = append(dst, '0')
		}
		dst = append(dst, ds...)
	default:
		dst = append(dst, ds[0])
		if k > 1 {
			dst = append(dst, '.')
			dst = append(dst, ds[1:]...)
		}
		dst = append(dst, 'e')
		if n-1 >= 0 {
			dst = append(dst, '+')
			dst = strconv.AppendInt(dst, int64(n-1), 10)
		} else {
			dst = append(dst, '-')
			dst = strconv.AppendInt(dst, int64(1-n), 10)
		}
	}
	return dst
}
