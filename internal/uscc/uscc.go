// Package uscc computes the check character of a unified social credit
// identifier (统一社会信用代码), GB 32100-2015 《法人和其他组织统一社会信用代码编码
// 规则》: 18 characters from the code character set, the 18th a check
// character over the first 17. docdoc, signature and exchange all check
// identifiers with it.
package uscc

import "fmt"

// Alphabet is the code character set, valued 0 to 30 in this order: the
// digits and the capital letters without I, O, S, V and Z.
const Alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// weights are the weights of positions 1 to 17, 3^(i-1) mod 31.
var weights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

var values = func() (v [256]int8) {
	for i := range v {
		v[i] = -1
	}
	for i := 0; i < len(Alphabet); i++ {
		v[Alphabet[i]] = int8(i)
	}
	return v
}()

// CharError reports a character outside the code character set.
type CharError struct {
	Position int // from 1
	Char     byte
}

// Error implements error.
func (e *CharError) Error() string {
	return fmt.Sprintf("character %d (%q) is not in the code character set %s", e.Position, e.Char, Alphabet)
}

// InAlphabet reports whether c is in the code character set.
func InAlphabet(c byte) bool { return values[c] >= 0 }

// CheckCharacter returns the check character for the first 17 characters
// of an identifier: C18 = 31 − (Σ Ci·Wi mod 31), with 31 written as 0.
func CheckCharacter(first17 string) (byte, error) {
	if len(first17) != 17 {
		return 0, fmt.Errorf("%d characters before the check character; expected 17", len(first17))
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := values[first17[i]]
		if v < 0 {
			return 0, &CharError{Position: i + 1, Char: first17[i]}
		}
		sum += int(v) * weights[i]
	}
	return Alphabet[(31-sum%31)%31], nil
}
