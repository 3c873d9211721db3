package docdoc

import (
	"fmt"

	"github.com/egovkit/egovkit/internal/uscc"
)

// OrgIDCheckCharacter computes the check character (校验码) of GB 32100-2015
// for the first 17 characters of a unified social credit identifier:
// C18 = 31 − (Σ Ci·Wi mod 31), with 31 written as 0.
func OrgIDCheckCharacter(first17 string) (byte, error) {
	c, err := uscc.CheckCharacter(first17)
	if err != nil {
		return 0, fmt.Errorf("docdoc: unified social credit identifier: %w", err)
	}
	return c, nil
}

// CheckOrgID checks a unified social credit identifier (统一社会信用代码) by
// GB 32100-2015: 18 characters of its character set, characters 3 to 8 the
// administrative division code (digits), and a correct check character.
func CheckOrgID(id string) error {
	if !orgIDForm(id) {
		return fmt.Errorf("docdoc: %q is not a unified social credit identifier: expected 18 characters from %s with characters 3 to 8 digits", id, uscc.Alphabet)
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
		} else if !uscc.InAlphabet(c) {
			return false
		}
	}
	return true
}
