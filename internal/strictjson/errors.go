package strictjson

import (
	"errors"
	"strconv"
)

// Code classifies an [Error] so that callers can map it to their own rule
// ids without reading messages.
type Code uint8

// Error codes.
const (
	// CodeSyntax is a violation of the RFC 8259 grammar, including a byte
	// order mark, a raw control character in a string and trailing data.
	CodeSyntax Code = iota + 1
	// CodeInvalidUTF8 is a byte sequence that is not UTF-8 (RFC 8259 §8.1).
	CodeInvalidUTF8
	// CodeLoneSurrogate is a \u escape of an unpaired UTF-16 surrogate.
	CodeLoneSurrogate
	// CodeNumberRange is a number outside the range of an IEEE-754 double.
	CodeNumberRange
	// CodeDuplicateName is an object member name that occurs twice.
	CodeDuplicateName
	// CodeTooLarge is input larger than Limits.MaxBytes.
	CodeTooLarge
	// CodeTooDeep is nesting deeper than Limits.MaxDepth.
	CodeTooDeep
)

var codeNames = [...]string{"", "syntax", "invalid-utf8", "lone-surrogate", "number-range", "duplicate-name", "too-large", "too-deep"}

// String returns the code's stable name, such as "duplicate-name".
func (c Code) String() string {
	if int(c) < len(codeNames) && c != 0 {
		return codeNames[c]
	}
	return "code(" + strconv.Itoa(int(c)) + ")"
}

// ErrInvalid matches every [*Error] with errors.Is.
var ErrInvalid = errors.New("strictjson: invalid JSON")

// Error is a strict-reading failure: what was wrong (Code, Msg), where
// (Offset, Line, Column, Pointer) and, in Msg, what was expected.
type Error struct {
	Code Code
	// Offset is the byte offset of the offending input.
	Offset int64
	// Line and Column are 1-based; Column counts bytes.
	Line, Column int
	// Pointer is the RFC 6901 JSON Pointer of the value being read, when
	// known ("" is the whole document).
	Pointer string
	Msg     string
}

// Error implements error.
func (e *Error) Error() string {
	s := "json: "
	if e.Line > 0 {
		s += "line " + strconv.Itoa(e.Line) + ", column " + strconv.Itoa(e.Column) + " (byte " + strconv.FormatInt(e.Offset, 10) + "): "
	}
	return s + e.Msg
}

// Is reports whether target is [ErrInvalid].
func (e *Error) Is(target error) bool { return target == ErrInvalid }
