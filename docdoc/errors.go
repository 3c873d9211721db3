package docdoc

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/egovkit/egovkit/internal/schemacheck"
)

// ErrInvalid matches, with errors.Is, every error that reports an invalid
// document: a [*ValidationError] and a [*PackageError] whose cause is one.
var ErrInvalid = errors.New("docdoc: invalid document")

// Violation is one broken rule: where (a JSON Pointer into the document),
// which rule (a stable id listed in RULES.md) and what was expected.
type Violation struct {
	// Pointer is the RFC 6901 JSON Pointer of the offending value; for a
	// missing member it points at where the member belongs. "" is the
	// whole document.
	Pointer string `json:"pointer"`
	// Rule is the stable rule id, such as "docdoc.request.single-recipient".
	Rule string `json:"rule"`
	// Message says what is wrong and what was expected, in English.
	Message string `json:"message"`
}

// String formats the violation as "POINTER: RULE: MESSAGE".
func (v Violation) String() string {
	return v.Pointer + ": " + v.Rule + ": " + v.Message
}

// ValidationError holds every violation found in one document, in document
// order (by pointer, then rule).
type ValidationError struct {
	Violations []Violation
}

// Error implements error, listing the violations one per line.
func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "docdoc: invalid document: %d violation", len(e.Violations))
	if len(e.Violations) != 1 {
		b.WriteByte('s')
	}
	for _, v := range e.Violations {
		b.WriteString("\n  ")
		b.WriteString(v.String())
	}
	return b.String()
}

// Is reports whether target is [ErrInvalid].
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// Has reports whether a violation of rule is among the violations.
func (e *ValidationError) Has(rule string) bool {
	for _, v := range e.Violations {
		if v.Rule == rule {
			return true
		}
	}
	return false
}

// Rules returns the distinct rule ids of the violations, sorted.
func (e *ValidationError) Rules() []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range e.Violations {
		if !seen[v.Rule] {
			seen[v.Rule] = true
			out = append(out, v.Rule)
		}
	}
	sort.Strings(out)
	return out
}

// violations collects violations while a document is checked.
type violations = schemacheck.List

// validationError returns nil or the violations, sorted into document
// order and with exact duplicates dropped, as a *ValidationError.
func validationError(vs violations) error {
	if len(vs) == 0 {
		return nil
	}
	return &ValidationError{Violations: schemacheck.Sorted[Violation](vs)}
}
