package exchange

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A message id that the recipient stored already is a duplicate only with
// the same envelope: the retry gets its delivery receipt again and nothing
// is stored twice. Another envelope under that id (other bytes, signed by
// the same sender) is refused for good with a signed negative receipt, and
// the recipient keeps the first message.
func TestReplayedIDWithAnotherEnvelope(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rn := newRefusalNet(t, TransportLimits{}, nil)
	sender := rn.nodes[ndrc.OrgID]
	first, second := []byte("第一份公文"), []byte("另一份公文，同一编号")

	env := documentEnvelope(sender, finance, first)
	_, rc, err := rn.transport(ndrc).Send(ctx, env, finance, bytes.NewReader(first))
	require.NoError(t, err)
	assert.Equal(t, ReceiptDelivered, rc.Status)

	// The sender retries the same envelope: a receipt again.
	_, rc, err = rn.transport(ndrc).Deliver(ctx, env, finance, bytes.NewReader(first))
	require.NoError(t, err, "a retried duplicate")
	assert.Equal(t, env.Payload.Digest, rc.Digest)

	// Another envelope under the same id.
	other := documentEnvelope(sender, finance, second)
	other.ID = env.ID
	_, _, err = rn.transport(ndrc).Send(ctx, other, finance, bytes.NewReader(second))
	var se *SendError
	require.True(t, errors.As(err, &se), "%v", err)
	assert.Equal(t, http.StatusUnprocessableEntity, se.Status)
	assert.Equal(t, "exchange.refused.replayed-id", se.Problem.Rule)
	assert.False(t, se.Temporary(), "final: retrying cannot help")
	require.NotNil(t, se.Receipt, "a signed negative receipt: %v", se.ReceiptError)
	assert.Equal(t, ReceiptRefused, se.Refusal.Status)
	assert.Equal(t, env.ID, se.Refusal.MessageID)

	in, err := rn.stores[finance].Inbox(ctx, env.ID)
	require.NoError(t, err)
	rd, err := ReadPayload(in)
	require.NoError(t, err)
	kept, err := io.ReadAll(rd)
	rd.Close()
	require.NoError(t, err)
	assert.Equal(t, first, kept, "the first message stands")
	audit, err := rn.stores[finance].Audit(ctx)
	require.NoError(t, err)
	assert.Len(t, audit, 1, "accepted once")
}
