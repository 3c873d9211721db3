package exchange

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/egovkit/egovkit/signature"
)

func TestSignAndVerifyEnvelope(t *testing.T) {
	t.Parallel()
	p := newTestPKI(t)
	dirTime := time.Date(2025, 3, 18, 0, 0, 0, 0, time.UTC)
	data := p.sealed(t, p.directory(1, dirTime))
	v, err := signature.NewVerifier(p.roots)
	require.NoError(t, err)
	dir, err := OpenDirectory(context.Background(), data, v, operatorID, t0)
	require.NoError(t, err)
	ctx := context.Background()

	e := sampleEnvelope()
	require.NoError(t, SignEnvelope(e, p.signers[ndrc.OrgID]))
	require.NotNil(t, e.Signature)
	require.NoError(t, VerifyEnvelope(ctx, e, dir, v, finance, t0))

	// The wire form verifies after parsing, reordered or not.
	raw, err := Marshal(e)
	require.NoError(t, err)
	got, err := ParseEnvelopeBytes(raw)
	require.NoError(t, err)
	require.NoError(t, VerifyEnvelope(ctx, got, dir, v, econ, t0))

	refused := func(err error) string {
		var re *RefusalError
		require.ErrorAs(t, err, &re)
		return re.Rule
	}
	// Not for this node.
	assert.True(t, errors.Is(VerifyEnvelope(ctx, e, dir, v, Party{OrgID: econ.OrgID, Node: "gw9"}, t0), ErrNotForThisNode))
	// Expired.
	assert.Equal(t, "exchange.refused.expired", refused(VerifyEnvelope(ctx, e, dir, v, finance, t0.Add(100*time.Hour))))
	// Tampered: any signed member.
	tampered := *e
	tampered.Recipients = append([]Party(nil), e.Recipients...)
	tampered.Recipients[1] = Party{OrgID: econ.OrgID, Node: "gw3"}
	assert.Equal(t, "exchange.refused.signature", refused(VerifyEnvelope(ctx, &tampered, dir, v, finance, t0)))
	tampered = *e
	tampered.Payload.Size++
	assert.Equal(t, "exchange.refused.signature", refused(VerifyEnvelope(ctx, &tampered, dir, v, finance, t0)))
	// Unknown sender node.
	tampered = *e
	tampered.Sender = Party{OrgID: ndrc.OrgID, Node: "gw7"}
	assert.Equal(t, "exchange.refused.unknown-sender", refused(VerifyEnvelope(ctx, &tampered, dir, v, finance, t0)))
	// Unsigned.
	tampered = *e
	tampered.Signature = nil
	assert.Equal(t, "exchange.refused.unsigned", refused(VerifyEnvelope(ctx, &tampered, dir, v, finance, t0)))

	// Signed with another member's valid certificate, claiming to be NDRC.
	forged := sampleEnvelope()
	require.NoError(t, SignEnvelope(forged, p.signers[econ.OrgID]))
	assert.Equal(t, "exchange.refused.sender-certificate", refused(VerifyEnvelope(ctx, forged, dir, v, finance, t0)))
	assert.True(t, errors.Is(VerifyEnvelope(ctx, forged, dir, v, finance, t0), ErrSenderCert))

	// An invalid envelope is not signed.
	bad := sampleEnvelope()
	bad.Kind = KindReceipt
	assert.ErrorIs(t, SignEnvelope(bad, p.signers[ndrc.OrgID]), ErrInvalidEnvelope)
}
