package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseValid(t *testing.T) {
	t.Parallel()
	cases := []string{
		`{}`, `[]`, `0`, `-0`, `1.5e10`, `-1E-5`, `"x"`, `true`, `false`, `null`,
		` {"a": [1, 2, {"b": null}], "c": "\u00e9\ud83d\ude00\n\"\\\/"} `,
		`{"公文": "关于印发《办法》的通知", "":""}`,
		`[1.7976931348623157e308, 5e-324, 123456789012345678901234567890]`,
		"\t[\r\n]\n",
	}
	for _, in := range cases {
		t.Run(in, func(t *testing.T) {
			got, err := Parse([]byte(in), Limits{})
			require.NoError(t, err)
			dec := json.NewDecoder(strings.NewReader(in))
			dec.UseNumber()
			var want any
			require.NoError(t, dec.Decode(&want))
			assert.Equal(t, want, got)
		})
	}
}

func TestParseInvalid(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		in      string
		code    Code
		pointer string
		line    int
		column  int
		msg     string
	}{
		{"empty", ``, CodeSyntax, "", 1, 1, "unexpected end of input; expected a value"},
		{"bom", "\xEF\xBB\xBF{}", CodeSyntax, "", 1, 1, "byte order mark"},
		{"trailing", `{} x`, CodeSyntax, "", 1, 4, "after the top-level value"},
		{"two values", `1 2`, CodeSyntax, "", 1, 3, "expected end of input"},
		{"trailing comma object", `{"a":1,}`, CodeSyntax, "", 1, 8, "expected a member name"},
		{"trailing comma array", `[1,]`, CodeSyntax, "/1", 1, 4, "expected a value"},
		{"single quotes", `{'a':1}`, CodeSyntax, "", 1, 2, "expected a member name"},
		{"missing colon", `{"a" 1}`, CodeSyntax, "/a", 1, 6, "expected ':'"},
		{"unterminated", `["abc`, CodeSyntax, "/0", 1, 2, "unterminated string"},
		{"control char", "[\"a\tb\"]", CodeSyntax, "/0", 1, 4, "control character U+0009"},
		{"bad escape", `["\x"]`, CodeSyntax, "/0", 1, 3, "invalid escape"},
		{"short u escape", `["\u12"]`, CodeSyntax, "/0", 1, 3, "four hexadecimal digits"},
		{"lone high", `{"t":"\ud800x"}`, CodeLoneSurrogate, "/t", 1, 7, "high surrogate"},
		{"lone low", `{"t":"\udc00"}`, CodeLoneSurrogate, "/t", 1, 7, "low surrogate"},
		{"high then non-low", `["\ud800\u0041"]`, CodeLoneSurrogate, "/0", 1, 3, "high surrogate"},
		{"invalid utf8", "{\"a\":\"\xff\"}", CodeInvalidUTF8, "/a", 1, 7, "invalid UTF-8"},
		{"utf8 surrogate", "[\"\xed\xa0\x80\"]", CodeInvalidUTF8, "/0", 1, 3, "invalid UTF-8"},
		{"overlong", "[\"\xc0\xaf\"]", CodeInvalidUTF8, "/0", 1, 3, "invalid UTF-8"},
		{"utf8 outside string", "[\xe4\xb8\xad]", CodeSyntax, "/0", 1, 2, "character '中'"},
		{"duplicate", `{"a":1,"b":{"c":1,"c":2}}`, CodeDuplicateName, "/b/c", 1, 19, `duplicate member name "c"`},
		{"duplicate after unescape", `{"a":1,"\u0061":2}`, CodeDuplicateName, "/a", 1, 8, "duplicate"},
		{"number overflow", `{"n":1e400}`, CodeNumberRange, "/n", 1, 6, "outside the range"},
		{"negative overflow", `[-2e308]`, CodeNumberRange, "/0", 1, 2, "outside the range"},
		{"leading zero", `[01]`, CodeSyntax, "/0", 1, 2, "leading zero"},
		{"plus sign", `[+1]`, CodeSyntax, "/0", 1, 2, "expected a value"},
		{"bare dot", `[1.]`, CodeSyntax, "/0", 1, 4, "after the decimal point"},
		{"bad exponent", `[1e]`, CodeSyntax, "/0", 1, 4, "exponent"},
		{"hex", `[0x10]`, CodeSyntax, "/0", 1, 3, "invalid number"},
		{"NaN", `[NaN]`, CodeSyntax, "/0", 1, 2, "expected a value"},
		{"truex", `[truex]`, CodeSyntax, "/0", 1, 2, "expected true"},
		{"multiline position", "{\n  \"a\": [\n    tru\n  ]\n}", CodeSyntax, "/a/0", 3, 5, "expected true"},
		{"escaped pointer", `{"a/b~c": [}`, CodeSyntax, "/a~1b~0c/0", 1, 12, "expected a value or ']'"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in), Limits{})
			require.Error(t, err)
			var e *Error
			require.True(t, errors.As(err, &e), "%T", err)
			assert.True(t, errors.Is(err, ErrInvalid))
			assert.Equal(t, tc.code, e.Code, e.Error())
			assert.Equal(t, tc.pointer, e.Pointer)
			assert.Equal(t, tc.line, e.Line, "line")
			assert.Equal(t, tc.column, e.Column, "column")
			assert.Contains(t, e.Msg, tc.msg)
		})
	}
}

func TestLimits(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("[", 10) + strings.Repeat("]", 10)
	_, err := Parse([]byte(deep), Limits{MaxDepth: 10})
	require.NoError(t, err)
	_, err = Parse([]byte("["+deep+"]"), Limits{MaxDepth: 10})
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, CodeTooDeep, e.Code)
	assert.Equal(t, "/0/0/0/0/0/0/0/0/0/0", e.Pointer)

	_, err = Parse([]byte(`"12345"`), Limits{MaxBytes: 6})
	require.ErrorAs(t, err, &e)
	assert.Equal(t, CodeTooLarge, e.Code)

	_, err = ReadAll(strings.NewReader(strings.Repeat(" ", 100)), Limits{MaxBytes: 99})
	require.ErrorAs(t, err, &e)
	assert.Equal(t, CodeTooLarge, e.Code)
	b, err := ReadAll(strings.NewReader(strings.Repeat(" ", 99)), Limits{MaxBytes: 99})
	require.NoError(t, err)
	assert.Len(t, b, 99)

	// The default depth protects the recursive tree builder.
	_, err = Parse([]byte(strings.Repeat("[", 100000)), Limits{})
	require.ErrorAs(t, err, &e)
	assert.Equal(t, CodeTooDeep, e.Code)
}

func TestScannerTokens(t *testing.T) {
	t.Parallel()
	s, err := NewScanner([]byte(`{"a\n":[1,"x\u00e9",true,false,null]}`), Limits{})
	require.NoError(t, err)
	var kinds []Kind
	var texts []string
	for {
		k, err := s.Next()
		require.NoError(t, err)
		kinds = append(kinds, k)
		switch k {
		case Name, String:
			texts = append(texts, string(s.AppendString(nil)))
		case Number:
			texts = append(texts, string(s.Raw()))
			assert.Equal(t, 1.0, s.Float())
		}
		if k == End {
			break
		}
	}
	assert.Equal(t, []Kind{ObjectStart, Name, ArrayStart, Number, String, True, False, Null, ArrayEnd, ObjectEnd, End}, kinds)
	assert.Equal(t, []string{"a\n", "1", "xé"}, texts)
	k, err := s.Next()
	require.NoError(t, err)
	assert.Equal(t, End, k, "End repeats")
}

func TestScannerAllocatesNothing(t *testing.T) {
	data := []byte(`{"title":"关于印发《办法》的通知","n":[1,2.5,-3e2],"e":"\u00e9\n","o":{"t":true}}`)
	var s Scanner
	allocs := testing.AllocsPerRun(100, func() {
		if err := s.Reset(data, Limits{}); err != nil {
			t.Fatal(err)
		}
		for {
			k, err := s.Next()
			if err != nil {
				t.Fatal(err)
			}
			if k == End {
				return
			}
		}
	})
	assert.Zero(t, allocs)
}

// FuzzParse checks that Parse never panics, agrees with encoding/json on
// what is valid (encoding/json accepts more: invalid UTF-8, lone surrogates,
// duplicates, huge numbers), and returns the same tree where both accept.
func FuzzParse(f *testing.F) {
	for _, s := range []string{`{"a":[1,"b",null,true]}`, `"\ud83d\ude00"`, `{"a":1,"a":2}`, `[1e400]`, "[\"\xff\"]", `[-0.0e-0]`, "\xEF\xBB\xBF1"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := Parse(data, Limits{MaxDepth: 32})
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var want any
		stdErr := dec.Decode(&want)
		if stdErr == nil {
			if _, tail := dec.Token(); tail == nil {
				stdErr = errors.New("trailing data")
			}
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error of type %T", err)
			}
			if e.Msg == "" || e.Code == 0 {
				t.Fatalf("error without code or message: %#v", e)
			}
			return
		}
		if stdErr != nil {
			t.Fatalf("strict parser accepted what encoding/json refuses (%v): %q", stdErr, data)
		}
		if !utf8.Valid(data) {
			t.Fatalf("accepted invalid UTF-8: %q", data)
		}
		if !jsonEqual(want, got) {
			t.Fatalf("trees differ for %q:\n%#v\n%#v", data, want, got)
		}
	})
}

func jsonEqual(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}
