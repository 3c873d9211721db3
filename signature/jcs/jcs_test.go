package jcs

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNumbers checks values whose canonical form follows directly from
// ECMA-262 Number::toString, which RFC 8785 §3.2.2.3 adopts. Rows marked
// "App. B" are values that RFC 8785 Appendix B also lists.
func TestNumbers(t *testing.T) {
	t.Parallel()
	cases := []struct {
		bits uint64
		want string
	}{
		{0x0000000000000000, "0"},                         // App. B: zero
		{0x8000000000000000, "0"},                         // App. B: minus zero
		{0x0000000000000001, "5e-324"},                    // App. B: smallest subnormal
		{0x8000000000000001, "-5e-324"},                   // App. B
		{0x7fefffffffffffff, "1.7976931348623157e+308"},   // App. B: largest double
		{0xffefffffffffffff, "-1.7976931348623157e+308"},  // App. B
		{0x4340000000000000, "9007199254740992"},          // App. B: 2^53
		{0xc340000000000000, "-9007199254740992"},         // App. B
		{0x4430000000000000, "295147905179352830000"},     // App. B: 2^68, fixed below 1e21
		{0x44b52d02c7e14af6, "1e+23"},                     // App. B
		{math.Float64bits(1e21), "1e+21"},                 // first exponent form
		{math.Float64bits(1e20), "100000000000000000000"}, // last fixed form
		{math.Float64bits(1e-6), "0.000001"},              // last fixed fraction
		{math.Float64bits(1e-7), "1e-7"},                  // first negative exponent
		{math.Float64bits(1.5e-7), "1.5e-7"},
		{math.Float64bits(123.456), "123.456"},
		{math.Float64bits(0.1), "0.1"},
		{math.Float64bits(-0.5), "-0.5"},
		{math.Float64bits(1.0 / 3), "0.3333333333333333"},
		{math.Float64bits(4.5), "4.5"},
		{math.Float64bits(2e-3), "0.002"},
		{math.Float64bits(1e30), "1e+30"},
	}
	for _, tc := range cases {
		f := math.Float64frombits(tc.bits)
		assert.Equal(t, tc.want, string(AppendFloat(nil, f)), "%#x", tc.bits)
		// The same through the canonicaliser, from Go's shortest text.
		in, _ := json.Marshal(f)
		out, err := Canonicalize(in)
		require.NoError(t, err)
		assert.Equal(t, tc.want, string(out), "%s", in)
	}
}

func TestNumberSpellings(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"-0": "0", "-0.0e-0": "0", "1.0": "1", "1E2": "100", "1e+2": "100", "0.000001": "0.000001",
		"10e-8": "1e-7", "123456789012345": "123456789012345", "1234567890123456": "1234567890123456",
		"12345678901234567890": "12345678901234567000", "9007199254740993": "9007199254740992",
		"-123": "-123", "1e21": "1e+21", "100000000000000000000": "100000000000000000000",
		"0.1e1": "1", "5e-324": "5e-324", "2.5E-1": "0.25",
	} {
		out, err := Canonicalize([]byte(in))
		require.NoError(t, err, in)
		assert.Equal(t, want, string(out), in)
	}
}

// TestSorting uses the characters of the example in RFC 8785 §3.2.3; the
// expected order follows from comparing UTF-16 code units: U+000D, U+0031,
// U+0080, U+00F6, U+20AC, then U+1F600 (high surrogate D83D) before U+FB33.
func TestSorting(t *testing.T) {
	t.Parallel()
	in := `{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}`
	out, err := Canonicalize([]byte(in))
	require.NoError(t, err)
	want := "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u0080\":\"Control\",\"ö\":\"Latin Small Letter O With Diaeresis\",\"€\":\"Euro Sign\",\"😀\":\"Emoji: Grinning Face\",\"\ufb33\":\"Hebrew Letter Dalet With Dagesh\"}"
	assert.Equal(t, want, string(out))
}

func TestStrings(t *testing.T) {
	t.Parallel()
	in := `["\u0000\u0001\b\t\n\u000b\f\r\u001f", "\"\\\/", "\u007f\u2028\u2029<>&", "\u00e9\u4e2d\ud834\udd1e", "plain 公文"]`
	out, err := Canonicalize([]byte(in))
	require.NoError(t, err)
	want := `["\u0000\u0001\b\t\n\u000b\f\r\u001f","\"\\/","` + "\u007f\u2028\u2029<>&" + `","é中𝄞","plain 公文"]`
	assert.Equal(t, want, string(out))
}

func TestStructure(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		" { \"b\" : [ 1 , { \"d\":null, \"c\":true } ], \"a\" : false } ": `{"a":false,"b":[1,{"c":true,"d":null}]}`,
		`{}`: `{}`, `[]`: `[]`, `[[],{}]`: `[[],{}]`, `"x"`: `"x"`, `true`: `true`,
		`{"b":1,"a":{"z":1,"y":{"x":1,"w":2}},"c":[{"b":1,"a":2}]}`: `{"a":{"y":{"w":2,"x":1},"z":1},"b":1,"c":[{"a":2,"b":1}]}`,
		`{"a\u0062":1,"aa":2}`: `{"aa":2,"ab":1}`,
		`{"":1,"\u0000":2}`:    `{"":1,"\u0000":2}`,
	} {
		out, err := Canonicalize([]byte(in))
		require.NoError(t, err, in)
		assert.Equal(t, want, string(out), in)
	}
}

func TestInvalid(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in      string
		code    Code
		pointer string
	}{
		{`{"a":1,"b":{"c":1,"c":2}}`, CodeDuplicateName, "/b/c"},
		{`{"a":1,"\u0061":2}`, CodeDuplicateName, "/a"},
		{"{\"a\":\"\xff\"}", CodeInvalidUTF8, "/a"},
		{`["\ud800"]`, CodeLoneSurrogate, "/0"},
		{`{"n":[1e400]}`, CodeNumberRange, "/n/0"},
		{`{"a":1,}`, CodeSyntax, ""},
		{`{} {}`, CodeSyntax, ""},
		{``, CodeSyntax, ""},
		{strings.Repeat("[", 65) + strings.Repeat("]", 65), CodeTooDeep, strings.Repeat("/0", 64)},
	}
	for _, tc := range cases {
		_, err := Canonicalize([]byte(tc.in))
		var e *Error
		require.ErrorAs(t, err, &e, tc.in)
		assert.True(t, errors.Is(err, ErrInvalid))
		assert.Equal(t, tc.code, e.Code, "%s: %v", tc.in, err)
		assert.Equal(t, tc.pointer, e.Pointer, tc.in)
	}
	c := Canonicalizer{MaxBytes: 4}
	_, err := c.Append(nil, []byte(`[1,2]`))
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, CodeTooLarge, e.Code)
}

func TestAppendWithout(t *testing.T) {
	t.Parallel()
	var c Canonicalizer
	out, removed, err := c.AppendWithout([]byte("x:"), []byte(`{"b":2,"signatures":[{"z":1, "a":2}],"a":{"signatures":1}}`), "signatures")
	require.NoError(t, err)
	assert.Equal(t, `x:{"a":{"signatures":1},"b":2}`, string(out))
	assert.Equal(t, `[{"a":2,"z":1}]`, string(removed))

	out, removed, err = c.AppendWithout(nil, []byte(`{"signatures":[],"b":2}`), "signatures")
	require.NoError(t, err)
	assert.Equal(t, `{"b":2}`, string(out))
	assert.Equal(t, `[]`, string(removed))

	out, removed, err = c.AppendWithout(nil, []byte(`{"b":2}`), "signatures")
	require.NoError(t, err)
	assert.Equal(t, `{"b":2}`, string(out))
	assert.Nil(t, removed)

	_, _, err = c.AppendWithout(nil, []byte(`{"signatures":[],"b":2,"signatures":[]}`), "signatures")
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, CodeDuplicateName, e.Code)

	_, _, err = c.AppendWithout(nil, []byte(`[1]`), "signatures")
	require.ErrorAs(t, err, &e)
	assert.Equal(t, CodeSyntax, e.Code)
	assert.Contains(t, e.Msg, "expected an object")
}

func TestCompareNames(t *testing.T) {
	t.Parallel()
	// U+FFFF sorts after U+10000 in UTF-16, before it in UTF-8.
	assert.Greater(t, compareNames([]byte("\uffff"), []byte("\U00010000")), 0)
	assert.Less(t, compareNames([]byte("\ud7ff"), []byte("\U00010000")), 0)
	assert.Less(t, compareNames([]byte("\U00010000"), []byte("\U0010ffff")), 0)
	assert.Less(t, compareNames([]byte("a"), []byte("ab")), 0)
	assert.Equal(t, 0, compareNames([]byte("公文"), []byte("公文")))
	assert.Less(t, compareNames([]byte("公文a"), []byte("公文\ue000")), 0)
	assert.Greater(t, compareNames([]byte("x\ue000"), []byte("x\U0001f600")), 0)
}

func TestAllocations(t *testing.T) {
	doc := []byte(`{"title":"关于印发《办法》的通知","n":[1,2.5,-3e2],"e":"\u00e9\n","o":{"t":true,"\u0061":1,"b":[{"z":1,"y":2}]}}`)
	var c Canonicalizer
	buf := make([]byte, 0, 1024)
	_, _ = c.Append(buf[:0], doc)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := c.Append(buf[:0], doc); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
}

// FuzzCanonicalize checks that canonicalisation never panics, accepts
// exactly what the strict parser accepts, is idempotent, and preserves the
// data (the canonical text parses to the same tree, numbers as doubles).
func FuzzCanonicalize(f *testing.F) {
	for _, s := range []string{`{"b":[1,{"d":null,"c":true}],"a":false}`, `"\ud83d\ude00"`, `{"a":1,"a":2}`, `[1e400]`, "[\"\xff\"]",
		`[-0.0e-0, 1e21, 1e-7, 123456789012345678]`, `{"\uffff":1,"\ud800\udc00":2}`, `{"signatures":[1],"x":"\u2028"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var c Canonicalizer
		c.MaxDepth = 32
		out, err := c.Append(nil, data)
		var tree any
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code == 0 || e.Msg == "" {
				t.Fatalf("bad error %T %v", err, err)
			}
			return
		}
		if perr := json.Unmarshal(out, &tree); perr != nil {
			t.Fatalf("canonical output is not JSON: %q -> %q: %v", data, out, perr)
		}
		again, err := c.Append(nil, out)
		if err != nil || string(again) != string(out) {
			t.Fatalf("not idempotent: %q -> %q -> %q (%v)", data, out, again, err)
		}
		var orig any
		if err := json.Unmarshal(data, &orig); err != nil {
			t.Fatalf("accepted what encoding/json refuses: %q: %v", data, err)
		}
		if !sameTree(orig, tree) {
			t.Fatalf("data changed: %q -> %q", data, out)
		}
		_, removed, err := c.AppendWithout(nil, data, "signatures")
		if err == nil && removed != nil {
			if _, err := Canonicalize(removed); err != nil {
				t.Fatalf("removed member not canonical JSON: %q", removed)
			}
		}
	})
}

// sameTree compares two encoding/json trees, numbers as doubles (so -0 == 0).
func sameTree(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if w, ok := y[k]; !ok || !sameTree(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameTree(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}
