// Package jcs produces the canonical form of JSON text defined by RFC 8785,
// the JSON Canonicalization Scheme (JCS), so that two systems that hold the
// same JSON data hash and sign the same bytes whatever the member order,
// white space or escaping of the text they received.
//
// The rules, and where they come from:
//
//   - The input is I-JSON (RFC 8785 §3.1, RFC 7493) read strictly by
//     egovkit's shared reader: invalid UTF-8, a lone surrogate in a \u
//     escape, a number that does not fit an IEEE-754 double (1e400) and a
//     duplicate member name are errors, never silently repaired. Two readers
//     that disagree on such input could be made to see different documents
//     behind one signature; here there is nothing to disagree about.
//   - White space between tokens is removed (§3.2.1).
//   - Literals true, false and null are kept (§3.2.2.1).
//   - Strings are written with the minimal escaping of §3.2.2.2: '"' and
//     '\\' are escaped, U+0008, U+0009, U+000A, U+000C and U+000D use their
//     two-character escapes, the other control characters below U+0020 are
//     written as \u00xx with lower-case hex, and every other character,
//     including U+2028, U+2029 and U+007F, is written as itself in UTF-8.
//     (Go's encoding/json differs: it escapes <, > and & and U+2028.)
//   - Numbers are written as ECMAScript's Number.prototype.toString writes
//     the double they denote (§3.2.2.3): the shortest digits that read back
//     to the same double, fixed notation for magnitudes in [1e-6, 1e21),
//     exponent notation ("1e+21", "1.5e-7") outside it, and -0 as 0.
//   - Object members are sorted by their names compared as arrays of UTF-16
//     code units (§3.2.3), not by UTF-8 bytes: "\ud83d\ude00" (U+1F600)
//     sorts before "\uff5e" (U+FF5E) although its UTF-8 bytes are larger.
//     Array order is kept.
//
// [Canonicalize] and [Append] are the whole API for most callers; a
// [Canonicalizer] sets limits and reuses its memory across calls, and
// [Canonicalizer.AppendWithout] removes one top-level member while
// canonicalising, which is how a document's own signatures are left out of
// what they sign.
//
// The implementation canonicalises in a single pass into one output buffer:
// each object's members are written in input order and then reordered in
// place by sorting their spans, so no tree of maps and interfaces is built.
// On invalid input the error is an [*Error] carrying the code, the byte
// offset, the line and column and the JSON Pointer of the offending value.
package jcs
