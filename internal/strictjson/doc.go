// Package strictjson is egovkit's one strict JSON reader, shared by every
// package that reads JSON crossing a trust boundary (docdoc documents,
// canonical JSON in signature/jcs, envelopes, definitions, calendars).
//
// It is strict where encoding/json is lenient, because two services that read
// the same bytes differently can be made to disagree about what was signed:
//
//   - the input must be valid UTF-8 (RFC 8259 §8.1) and must not start with a
//     byte order mark;
//   - a \u escape must not encode a lone surrogate (RFC 8259 §8.2, I-JSON
//     RFC 7493 §2.1), and raw control characters inside strings are refused;
//   - a number must follow the RFC 8259 §6 grammar and fit an IEEE-754 double
//     (I-JSON RFC 7493 §2.2): 1e400 is an error, not +Inf;
//   - duplicate object member names are refused (I-JSON RFC 7493 §2.3) by
//     [Parse]; a [Scanner] user that builds its own structures checks them
//     itself (see [Scanner] for why);
//   - input size and nesting depth are bounded ([Limits]).
//
// Two layers: [Scanner] is a zero-allocation tokenizer over a byte slice that
// enforces the grammar, UTF-8, escapes, numbers and depth; [Parse] builds the
// generic tree (map[string]any, []any, string, json.Number, bool, nil) that
// the JSON Schema validator consumes, rejecting duplicate names on the way.
// Every error is an [*Error] carrying the byte offset, line and column, the
// JSON Pointer of the value being read, and a [Code] callers branch on.
package strictjson
