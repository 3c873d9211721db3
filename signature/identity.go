package signature

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"strings"

	"github.com/egovkit/egovkit/internal/uscc"
)

// Identity is the identity of a seal (印章): the issuing organ's name
// (机关名称) and its unified social credit code (统一社会信用代码, GB 32100).
// The JSON names match a docdoc issuer: {"name": ..., "orgId": ...}.
type Identity struct {
	// Name is the organ's full name, such as "某某市人民政府".
	Name string `json:"name"`
	// OrgID is the 18-character unified social credit code.
	OrgID string `json:"orgId"`
}

// String returns "name (orgId)".
func (id Identity) String() string { return fmt.Sprintf("%q (%s)", id.Name, id.OrgID) }

// IsZero reports whether id is empty.
func (id Identity) IsZero() bool { return id.Name == "" && id.OrgID == "" }

// OIDOrganizationIdentifier is the X.520 organizationIdentifier attribute
// (2.5.4.97). A seal certificate carries the organ's unified social credit
// code there, in the ETSI EN 319 412-1 semantics form "NTRCN-" + code
// (national trade register, China), and the organ's name in the Subject's
// Organization (O) attribute.
var OIDOrganizationIdentifier = asn1.ObjectIdentifier{2, 5, 4, 97}

// OrgIDPrefix is the prefix of the organizationIdentifier value.
const OrgIDPrefix = "NTRCN-"

// SubjectFor returns a certificate Subject that carries id: CommonName and
// Organization are the name, organizationIdentifier is "NTRCN-" + OrgID,
// Country is CN.
func SubjectFor(id Identity) pkix.Name {
	return pkix.Name{
		Country:      []string{"CN"},
		Organization: []string{id.Name},
		CommonName:   id.Name,
		ExtraNames:   []pkix.AttributeTypeAndValue{{Type: OIDOrganizationIdentifier, Value: OrgIDPrefix + id.OrgID}},
	}
}

// CertificateIdentity returns the seal identity a certificate carries (see
// [OIDOrganizationIdentifier]). It fails with [ErrIdentity] when the
// certificate has not exactly one Organization and one organizationIdentifier
// of the "NTRCN-" form with a valid code.
func CertificateIdentity(c *x509.Certificate) (Identity, error) {
	if len(c.Subject.Organization) != 1 || c.Subject.Organization[0] == "" {
		return Identity{}, fmt.Errorf("%w: certificate %s has %d Organization (O) values; expected exactly one", ErrIdentity, certName(c), len(c.Subject.Organization))
	}
	var ids []string
	for _, atv := range c.Subject.Names {
		if atv.Type.Equal(OIDOrganizationIdentifier) {
			s, ok := atv.Value.(string)
			if !ok {
				return Identity{}, fmt.Errorf("%w: certificate %s has a non-string organizationIdentifier", ErrIdentity, certName(c))
			}
			ids = append(ids, s)
		}
	}
	if len(ids) != 1 || !strings.HasPrefix(ids[0], OrgIDPrefix) {
		return Identity{}, fmt.Errorf("%w: certificate %s has no single organizationIdentifier of the form %s<统一社会信用代码>", ErrIdentity, certName(c), OrgIDPrefix)
	}
	id := Identity{Name: c.Subject.Organization[0], OrgID: strings.TrimPrefix(ids[0], OrgIDPrefix)}
	if err := CheckOrgID(id.OrgID); err != nil {
		return Identity{}, fmt.Errorf("%w: certificate %s: %v", ErrIdentity, certName(c), err)
	}
	return id, nil
}

// ErrOrgID is returned by [CheckOrgID].
var ErrOrgID = errors.New("signature: invalid unified social credit code")

// CheckOrgID checks a unified social credit code (统一社会信用代码) against
// GB 32100-2015: 18 characters from 0-9 and the upper-case letters other
// than I, O, Z, S and V, the last being the check character computed with
// the weights 3^i mod 31.
func CheckOrgID(code string) error {
	if len(code) != 18 {
		return fmt.Errorf("%w: %q has %d characters; expected 18", ErrOrgID, code, len(code))
	}
	check, err := uscc.CheckCharacter(code[:17])
	if err != nil {
		return fmt.Errorf("%w: %q: %v", ErrOrgID, code, err)
	}
	if code[17] != check {
		return fmt.Errorf("%w: %q has check character %q; expected %q", ErrOrgID, code, code[17], check)
	}
	return nil
}
