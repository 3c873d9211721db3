package strictjson

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// Kind is the kind of a token returned by [Scanner.Next].
type Kind uint8

// Token kinds.
const (
	// Invalid is returned together with an error.
	Invalid Kind = iota
	// ObjectStart is '{'.
	ObjectStart
	// ObjectEnd is '}'.
	ObjectEnd
	// ArrayStart is '['.
	ArrayStart
	// ArrayEnd is ']'.
	ArrayEnd
	// Name is an object member name (a string in name position).
	Name
	// String is a string value.
	String
	// Number is a number value.
	Number
	// True is the literal true.
	True
	// False is the literal false.
	False
	// Null is the literal null.
	Null
	// End is returned once after the top-level value and trailing white space.
	End
)

var kindNames = [...]string{"invalid", "'{'", "'}'", "'['", "']'", "member name", "string", "number", "true", "false", "null", "end of input"}

// String returns a short description of the kind, for messages.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Default limits, used where a [Limits] field is zero.
const (
	// DefaultMaxBytes is the input size limit when Limits.MaxBytes is zero.
	DefaultMaxBytes = 4 << 20
	// DefaultMaxDepth is the nesting limit when Limits.MaxDepth is zero.
	DefaultMaxDepth = 64
)

// Limits bound what a reader accepts. A zero field takes its default.
type Limits struct {
	// MaxBytes is the largest input accepted, in bytes.
	MaxBytes int64
	// MaxDepth is the deepest nesting of objects and arrays accepted; a
	// top-level scalar has depth 0 and "[]" has depth 1.
	MaxDepth int
}

func (l Limits) maxBytes() int64 {
	if l.MaxBytes > 0 {
		return l.MaxBytes
	}
	return DefaultMaxBytes
}

func (l Limits) maxDepth() int {
	if l.MaxDepth > 0 {
		return l.MaxDepth
	}
	return DefaultMaxDepth
}

// scanner states: what the grammar allows next.
const (
	stValue      = iota // a value
	stValueOrEnd        // a value or ']' (just after '[')
	stNameOrEnd         // a member name or '}' (just after '{')
	stName              // a member name (after ',' in an object)
	stColon             // ':' (after a member name)
	stCommaOrEnd        // ',' or the container's end (after a value)
	stDone              // only trailing white space
	stEOF               // End was returned
)

// Scanner tokenizes one JSON text held in memory. It checks the grammar of
// RFC 8259, UTF-8, escapes (no lone surrogates), control characters, the
// range of numbers and the nesting depth, and allocates nothing.
//
// It does not check duplicate member names: a caller that builds a map finds
// them for free, and a canonicaliser that sorts members finds them as equal
// neighbours, so checking here would cost an allocation per object for
// nothing. Every caller must check them; [Parse] does.
type Scanner struct {
	data     []byte
	pos      int
	state    uint8
	stack    []byte // 'o' or 'a' per open container
	maxDepth int

	start, end int  // span of the last token; for strings, between the quotes
	escaped    bool // the last string held at least one escape
	tokOffset  int  // offset of the last token's first byte
}

// NewScanner returns a scanner over data. It fails with a [CodeTooLarge]
// error when data exceeds the limits and with [CodeSyntax] when it starts
// with a UTF-8 byte order mark.
func NewScanner(data []byte, lim Limits) (*Scanner, error) {
	s := &Scanner{}
	if err := s.Reset(data, lim); err != nil {
		return nil, err
	}
	return s, nil
}

// Reset makes s scan data from the start, reusing its memory.
func (s *Scanner) Reset(data []byte, lim Limits) error {
	s.data = data
	s.pos = 0
	s.state = stValue
	s.stack = s.stack[:0]
	s.maxDepth = lim.maxDepth()
	s.start, s.end, s.tokOffset = 0, 0, 0
	s.escaped = false
	if int64(len(data)) > lim.maxBytes() {
		return &Error{Code: CodeTooLarge, Offset: lim.maxBytes(), Msg: "input is larger than the limit of " + strconv.FormatInt(lim.maxBytes(), 10) + " bytes"}
	}
	if len(data) >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF {
		return s.errAt(0, CodeSyntax, "input starts with a UTF-8 byte order mark; expected a JSON value without a BOM")
	}
	return nil
}

// Depth is the number of containers open after the last token.
func (s *Scanner) Depth() int { return len(s.stack) }

// Offset is the byte offset of the last token's first byte.
func (s *Scanner) Offset() int { return s.tokOffset }

// Raw returns the bytes of the last token: for a string or name, its content
// between the quotes with escapes as written; for a number, its digits.
// The slice aliases the input.
func (s *Scanner) Raw() []byte { return s.data[s.start:s.end] }

// Escaped reports whether the last string or name held an escape sequence,
// so that [Scanner.Raw] is not its value.
func (s *Scanner) Escaped() bool { return s.escaped }

// AppendString appends the decoded value of the last string or name to dst.
func (s *Scanner) AppendString(dst []byte) []byte {
	raw := s.data[s.start:s.end]
	if !s.escaped {
		return append(dst, raw...)
	}
	return appendUnescaped(dst, raw)
}

// StringValue returns the decoded value of the last string or name.
func (s *Scanner) StringValue() string {
	if !s.escaped {
		return string(s.data[s.start:s.end])
	}
	return string(appendUnescaped(make([]byte, 0, s.end-s.start), s.data[s.start:s.end]))
}

// Float returns the value of the last number token.
func (s *Scanner) Float() float64 {
	f, _ := strconv.ParseFloat(unsafeString(s.data[s.start:s.end]), 64) // checked when scanned
	return f
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// Next returns the next token. After an error, or after End, it keeps
// returning the same outcome's kind (Invalid with a fresh error, or End).
func (s *Scanner) Next() (Kind, error) {
	data := s.data
	i := s.pos
	for i < len(data) && isSpace(data[i]) {
		i++
	}
	s.pos = i
	if s.state == stEOF {
		return End, nil
	}
	if i >= len(data) {
		if s.state == stDone {
			s.state = stEOF
			s.tokOffset = i
			return End, nil
		}
		return Invalid, s.errAt(i, CodeSyntax, "unexpected end of input; expected "+s.expected())
	}
	c := data[i]
	s.tokOffset = i
	switch s.state {
	case stDone:
		return Invalid, s.errAt(i, CodeSyntax, "unexpected "+describeByte(data, i)+" after the top-level value; expected end of input")
	case stColon:
		if c != ':' {
			return Invalid, s.errAt(i, CodeSyntax, "unexpected "+describeByte(data, i)+" after member name; expected ':'")
		}
		s.pos = i + 1
		s.state = stValue
		return s.Next()
	case stCommaOrEnd:
		top := s.stack[len(s.stack)-1]
		switch {
		case c == ',':
			s.pos = i + 1
			if top == 'o' {
				s.state = stName
			} else {
				s.state = stValue
			}
			return s.Next()
		case c == '}' && top == 'o':
			return s.closeContainer(ObjectEnd)
		case c == ']' && top == 'a':
			return s.closeContainer(ArrayEnd)
		}
		if top == 'o' {
			return Invalid, s.errAt(i, CodeSyntax, "unexpected "+describeByte(data, i)+" after object member; expected ',' or '}'")
		}
		return Invalid, s.errAt(i, CodeSyntax, "unexpected "+describeByte(data, i)+" after array element; expected ',' or ']'")
	case stNameOrEnd, stName:
		if c == '}' && s.state == stNameOrEnd {
			return s.closeContainer(ObjectEnd)
		}
		if c != '"' {
			return Invalid, s.errAt(i, CodeSyntax, "unexpected "+describeByte(data, i)+"; expected "+s.expected())
		}
		if err := s.scanString(i); err != nil {
			return Invalid, err
		}
		s.state = stColon
		return Name, nil
	case stValueOrEnd:
		if c == ']' {
			return s.closeContainer(ArrayEnd)
		}
	}
	// A value.
	switch c {
	case '{':
		if err := s.open('o'); err != nil {
			return Invalid, err
		}
		s.state = stNameOrEnd
		return ObjectStart, nil
	case '[':
		if err := s.open('a'); err != nil {
			return Invalid, err
		}
		s.state = stValueOrEnd
		return ArrayStart, nil
	case '"':
		if err := s.scanString(i); err != nil {
			return Invalid, err
		}
		s.afterValue()
		return String, nil
	case 't':
		return s.literal(i, "true", True)
	case 'f':
		return s.literal(i, "false", False)
	case 'n':
		return s.literal(i, "null", Null)
	}
	if c == '-' || (c >= '0' && c <= '9') {
		if err := s.scanNumber(i); err != nil {
			return Invalid, err
		}
		s.afterValue()
		return Number, nil
	}
	return Invalid, s.errAt(i, CodeSyntax, "unexpected "+describeByte(data, i)+"; expected "+s.expected())
}

func (s *Scanner) expected() string {
	switch s.state {
	case stValue:
		return "a value"
	case stValueOrEnd:
		return "a value or ']'"
	case stNameOrEnd:
		return "a member name (a string in double quotes) or '}'"
	case stName:
		return "a member name (a string in double quotes)"
	case stColon:
		return "':'"
	case stCommaOrEnd:
		if s.stack[len(s.stack)-1] == 'o' {
			return "',' or '}'"
		}
		return "',' or ']'"
	}
	return "end of input"
}

func (s *Scanner) open(kind byte) error {
	if len(s.stack) >= s.maxDepth {
		return s.errAt(s.pos, CodeTooDeep, "nesting is deeper than the limit of "+strconv.Itoa(s.maxDepth)+" levels")
	}
	s.stack = append(s.stack, kind)
	s.start, s.end = s.pos, s.pos+1
	s.pos++
	return nil
}

func (s *Scanner) closeContainer(k Kind) (Kind, error) {
	s.stack = s.stack[:len(s.stack)-1]
	s.start, s.end = s.pos, s.pos+1
	s.pos++
	s.afterValue()
	return k, nil
}

func (s *Scanner) afterValue() {
	if len(s.stack) == 0 {
		s.state = stDone
	} else {
		s.state = stCommaOrEnd
	}
}

func (s *Scanner) literal(i int, word string, k Kind) (Kind, error) {
	if len(s.data)-i < len(word) || string(s.data[i:i+len(word)]) != word {
		return Invalid, s.errAt(i, CodeSyntax, "invalid literal; expected "+word)
	}
	end := i + len(word)
	if end < len(s.data) && isIdentByte(s.data[end]) {
		return Invalid, s.errAt(i, CodeSyntax, "invalid literal; expected "+word)
	}
	s.start, s.end = i, end
	s.pos = end
	s.afterValue()
	return k, nil
}

func isIdentByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_' || b >= 0x80
}

// special marks the bytes that end the fast path of a string scan.
var special = func() (t [256]bool) {
	for i := 0; i < 0x20; i++ {
		t[i] = true
	}
	t['"'] = true
	t['\\'] = true
	return t
}()

// scanString scans the string whose opening quote is at q.
func (s *Scanner) scanString(q int) error {
	data := s.data
	i := q + 1
	var high byte
	escaped := false
	for {
		for i < len(data) && !special[data[i]] {
			high |= data[i]
			i++
		}
		if i >= len(data) {
			return s.errAt(q, CodeSyntax, "unterminated string; expected a closing '\"'")
		}
		switch c := data[i]; {
		case c == '"':
			if high >= 0x80 && !utf8.Valid(data[q+1:i]) {
				return s.errAt(firstInvalidUTF8(data, q+1, i), CodeInvalidUTF8, "invalid UTF-8 in string; expected UTF-8 text")
			}
			s.start, s.end, s.escaped = q+1, i, escaped
			s.pos = i + 1
			return nil
		case c == '\\':
			escaped = true
			n, err := s.checkEscape(i)
			if err != nil {
				return err
			}
			i += n
		default:
			return s.errAt(i, CodeSyntax, "control character U+00"+hex2(c)+" in string; expected it escaped (for example \\n or \\u00"+hex2(c)+")")
		}
	}
}

func hex2(c byte) string {
	const digits = "0123456789ABCDEF"
	return string([]byte{digits[c>>4], digits[c&15]})
}

// checkEscape checks the escape sequence at data[i] == '\\' and returns its
// length in bytes.
func (s *Scanner) checkEscape(i int) (int, error) {
	data := s.data
	if i+1 >= len(data) {
		return 0, s.errAt(i, CodeSyntax, "unterminated escape sequence; expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX")
	}
	switch data[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2, nil
	case 'u':
		r, ok := hex4(data, i+2)
		if !ok {
			return 0, s.errAt(i, CodeSyntax, "invalid \\u escape; expected \\u followed by four hexadecimal digits")
		}
		switch {
		case r >= 0xDC00 && r <= 0xDFFF:
			return 0, s.errAt(i, CodeLoneSurrogate, "\\u"+string(data[i+2:i+6])+" is a lone low surrogate; expected a Unicode scalar value or a surrogate pair")
		case r >= 0xD800 && r <= 0xDBFF:
			if i+8 <= len(data) && data[i+6] == '\\' && data[i+7] == 'u' {
				if r2, ok := hex4(data, i+8); ok && r2 >= 0xDC00 && r2 <= 0xDFFF {
					return 12, nil
				}
			}
			return 0, s.errAt(i, CodeLoneSurrogate, "\\u"+string(data[i+2:i+6])+" is a high surrogate not followed by a low surrogate escape; expected a surrogate pair")
		}
		return 6, nil
	}
	return 0, s.errAt(i, CodeSyntax, "invalid escape sequence; expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX")
}

func hex4(data []byte, i int) (rune, bool) {
	if i+4 > len(data) {
		return 0, false
	}
	var r rune
	for _, c := range data[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// appendUnescaped decodes raw, already checked by scanString.
func appendUnescaped(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			j := i + 1
			for j < len(raw) && raw[j] != '\\' {
				j++
			}
			dst = append(dst, raw[i:j]...)
			i = j
			continue
		}
		switch raw[i+1] {
		case '"', '\\', '/':
			dst = append(dst, raw[i+1])
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, _ := hex4(raw, i+2)
			if r >= 0xD800 && r <= 0xDBFF {
				r2, _ := hex4(raw, i+8)
				r = utf16.DecodeRune(r, r2)
				i += 6
			}
			dst = utf8.AppendRune(dst, r)
			i += 4
		}
		i += 2
	}
	return dst
}

// scanNumber scans the number starting at i per RFC 8259 §6 and checks that
// it fits an IEEE-754 double (I-JSON, RFC 7493 §2.2).
func (s *Scanner) scanNumber(i int) error {
	data := s.data
	start := i
	if data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
		if i < len(data) && data[i] >= '0' && data[i] <= '9' {
			return s.errAt(i-1, CodeSyntax, "invalid number: leading zero; expected no leading zeros")
		}
	case i < len(data) && data[i] >= '1' && data[i] <= '9':
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
	default:
		return s.errAt(i, CodeSyntax, "invalid number; expected a digit")
	}
	simple := true
	if i < len(data) && data[i] == '.' {
		simple = false
		i++
		d := i
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
		if i == d {
			return s.errAt(i, CodeSyntax, "invalid number; expected a digit after the decimal point")
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		simple = false
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		d := i
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
		if i == d {
			return s.errAt(i, CodeSyntax, "invalid number; expected a digit in the exponent")
		}
	}
	if i < len(data) && (isIdentByte(data[i]) || data[i] == '.' || data[i] == '+' || data[i] == '-') {
		return s.errAt(i, CodeSyntax, "invalid number; expected digits, '.', 'e' or a separator")
	}
	// Integers of up to 15 digits are exact in a double; the rest are checked.
	if !simple || i-start > 15 {
		if _, err := strconv.ParseFloat(unsafeString(data[start:i]), 64); err != nil {
			return s.errAt(start, CodeNumberRange, "number "+truncate(string(data[start:i]), 40)+" is outside the range of an IEEE-754 double; expected a magnitude below 1.8e308")
		}
	}
	s.start, s.end = start, i
	s.pos = i
	return nil
}

// unsafeString views b as a string without copying, for read-only calls
// that do not retain it.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func describeByte(data []byte, i int) string {
	c := data[i]
	switch {
	case c >= 0x20 && c < 0x7f:
		return "'" + string(c) + "'"
	case c < 0x80:
		return "byte 0x" + hex2(c)
	}
	r, n := utf8.DecodeRune(data[i:])
	if r == utf8.RuneError && n <= 1 {
		return "invalid UTF-8 byte 0x" + hex2(c)
	}
	return "character " + strconv.QuoteRune(r)
}

func firstInvalidUTF8(data []byte, from, to int) int {
	for i := from; i < to; {
		r, n := utf8.DecodeRune(data[i:to])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return from
}

func (s *Scanner) errAt(offset int, code Code, msg string) *Error {
	line, col := position(s.data, offset)
	return &Error{Code: code, Offset: int64(offset), Line: line, Column: col, Msg: msg}
}

// position returns the 1-based line and byte column of offset.
func position(data []byte, offset int) (line, col int) {
	if offset > len(data) {
		offset = len(data)
	}
	line, lineStart := 1, 0
	for i := 0; i < offset; i++ {
		if data[i] == '\n' {
			line++
			lineStart = i + 1
		}
	}
	return line, offset - lineStart + 1
}
