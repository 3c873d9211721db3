package signature_test

import (
	"crypto/ecdsa"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"testing"

	"github.com/stretchr/testify/require"
)

func derSig(t *testing.T, r, s *big.Int) []byte {
	t.Helper()
	der, err := asn1.Marshal(struct{ R, S *big.Int }{r, s})
	require.NoError(t, err)
	return der
}

// textbookSM2Verify is GB/T 32918.2 §7 verification written from the
// standard with math/big over the curve's parameters (a = p - 3), sharing
// no code with gmsm: t = (r + s) mod n, (x1, y1) = [s]G + [t]P_A, and the
// signature is valid iff (e + x1) mod n = r.
func textbookSM2Verify(pub *ecdsa.PublicKey, spki []byte, e []byte, r, s *big.Int) bool {
	p := pub.Curve.Params()
	px, py := pointFromSPKI(spki)
	if px == nil {
		return false
	}
	n := p.N
	if r.Sign() <= 0 || s.Sign() <= 0 || r.Cmp(n) >= 0 || s.Cmp(n) >= 0 {
		return false
	}
	tt := new(big.Int).Add(r, s)
	tt.Mod(tt, n)
	if tt.Sign() == 0 {
		return false
	}
	c := affineCurve{p: p.P, a: new(big.Int).Sub(p.P, big.NewInt(3))}
	x1, y1 := c.mul(p.Gx, p.Gy, s)
	x2, y2 := c.mul(px, py, tt)
	x, _ := c.add(x1, y1, x2, y2)
	if x == nil {
		return false
	}
	ei := new(big.Int).SetBytes(e)
	R := new(big.Int).Add(ei, x)
	R.Mod(R, n)
	return R.Cmp(r) == 0
}

// pointFromSPKI reads the uncompressed public point 04‖X‖Y from a
// SubjectPublicKeyInfo.
func pointFromSPKI(spki []byte) (*big.Int, *big.Int) {
	var info struct {
		Algorithm pkix.AlgorithmIdentifier
		Key       asn1.BitString
	}
	if _, err := asn1.Unmarshal(spki, &info); err != nil || len(info.Key.Bytes) != 65 || info.Key.Bytes[0] != 4 {
		return nil, nil
	}
	return new(big.Int).SetBytes(info.Key.Bytes[1:33]), new(big.Int).SetBytes(info.Key.Bytes[33:])
}

// affineCurve is y² = x³ + ax + b over GF(p); nil coordinates are the
// point at infinity.
type affineCurve struct{ p, a *big.Int }

func (c affineCurve) add(x1, y1, x2, y2 *big.Int) (*big.Int, *big.Int) {
	if x1 == nil {
		return x2, y2
	}
	if x2 == nil {
		return x1, y1
	}
	var l *big.Int
	if x1.Cmp(x2) == 0 {
		if new(big.Int).Add(y1, y2).Mod(new(big.Int).Add(y1, y2), c.p).Sign() == 0 {
			return nil, nil
		}
		num := new(big.Int).Mul(x1, x1)
		num.Mul(num, big.NewInt(3)).Add(num, c.a)
		den := new(big.Int).Lsh(y1, 1)
		l = num.Mul(num, den.ModInverse(den, c.p))
	} else {
		num := new(big.Int).Sub(y2, y1)
		den := new(big.Int).Sub(x2, x1)
		den.Mod(den, c.p)
		l = num.Mul(num, den.ModInverse(den, c.p))
	}
	l.Mod(l, c.p)
	x3 := new(big.Int).Mul(l, l)
	x3.Sub(x3, x1).Sub(x3, x2).Mod(x3, c.p)
	y3 := new(big.Int).Sub(x1, x3)
	y3.Mul(y3, l).Sub(y3, y1).Mod(y3, c.p)
	return x3, y3
}

func (c affineCurve) mul(x, y, k *big.Int) (*big.Int, *big.Int) {
	var rx, ry *big.Int
	for i := k.BitLen() - 1; i >= 0; i-- {
		rx, ry = c.add(rx, ry, rx, ry)
		if k.Bit(i) == 1 {
			rx, ry = c.add(rx, ry, x, y)
		}
	}
	return rx, ry
}
