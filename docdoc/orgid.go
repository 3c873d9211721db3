package docdoc

import (
	"fmt"
	"strings"
)

// The code character set of GB 32100-2015 (法人和其他组织统一社会信用代码编码规则):
// the digits and the capital letters without I, O, S, V and Z, valued 0 to 30
// in this order.
const orgIDAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// orgIDWeights are the weights of GB 32100-2015 for positions 1 to 17
// (3^(i-1) mod 31).
var orgIDWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// OrgIDCheckCharacter computes the check character (校验码) of GB 32100-2015
// for the first 17 characters of a unified social credit identifier:
// C18 = 31 − (Σ Ci·Wi mod 31), with 31 written as 0.
func OrgIDCheckCharacter(first17 string) (byte, error) {
	if len(first17) != 17 {
		return 0, fmt.Errorf("docdoc: a unified social credit identifier has 17 characters before its check character, not %d", len(first17))
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := strings.IndexByte(orgIDAlphabet, first17[i])
		if v < 0 {
			return 0, fmt.Errorf("docdoc: character %d (%q) of a unified social credit identifier is not one of %s", i+1, first17[i], orgIDAlphabet)
		}
		sum += v * orgIDWeights[i]
	}
	return orgIDAlphabet[(31-sum%31)%31], nil
}

// CheckOrgID checks a unified social credit identifier (统一社会信用代码) by
// GB 32100-2015: 18 characters of its character set, characters 3 to 8 the
// administrative division code (digits), and a correct check character.
func CheckOrgID(id string) error {
	if !orgIDForm(id) {
		return fmt.Errorf("docdoc: %q is not a unified social credit identifier: expected 18 characters from %s with characters 3 to 8 digits", id, orgIDAlphabet)
	}
	want, _ := OrgIDCheckCharacter(id[:17])
	if id[17] != want {
		return fmt.Errorf("docdoc: %q has check character %c; GB 32100-2015 gives %c for %s", id, id[17], want, id[:17])
	}
	return nil
}

// orgIDForm reports whether id has the form that the schema's orgId
// pattern describes.
func orgIDForm(id string) bool {
	if len(id) != 18 {
		return false
	}
	for i := 0; i < 18; i++ {
		c := id[i]
		if i >= 2 && i < 8 {
			if c < '0' || c > '9' {
				return false
			}
		} else if strings.IndexByte(orgIDAlphabet, c) < 0 {
			return false
		}
	}
	return true
}
