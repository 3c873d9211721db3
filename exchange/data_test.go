package exchange

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDataSharing(t *testing.T) {
	t.Parallel()
	n := newTestNet(t, TransportLimits{})
	ctx := context.Background()
	provider, consumer, stranger := n.nodes[finance.OrgID], n.nodes[ndrc.OrgID], n.nodes[econ.OrgID]
	var calls atomic.Int32
	require.NoError(t, provider.transport.Publish("finance.budget-execution", func(_ context.Context, req DataRequest) (DataResponse, error) {
		calls.Add(1)
		var q struct {
			Year int `json:"year"`
		}
		if err := json.Unmarshal(req.Body, &q); err != nil {
			return DataResponse{}, err
		}
		body, _ := json.Marshal(map[string]any{"year": q.Year, "caller": req.Envelope.Sender.OrgID, "executed": "87.5%"})
		return DataResponse{MediaType: "application/json", Body: body}, nil
	}))
	assert.ErrorIs(t, consumer.transport.Publish("finance.budget-execution", nil), ErrNoSuchResource, "only the provider the directory names may publish")

	re, body, err := consumer.transport.Call(ctx, "finance.budget-execution", "application/json", []byte(`{"year":2025}`))
	require.NoError(t, err)
	assert.JSONEq(t, `{"year":2025,"caller":"11500000MB16089308","executed":"87.5%"}`, string(body))
	assert.Equal(t, finance, re.Sender)
	assert.Equal(t, KindDataResponse, re.Kind)
	assert.Equal(t, int32(1), calls.Load())

	// Without a grant the handler never runs.
	_, _, err = stranger.transport.Call(ctx, "finance.budget-execution", "application/json", []byte(`{"year":2025}`))
	var se *SendError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, http.StatusForbidden, se.Status)
	assert.Equal(t, "exchange.refused.not-granted", se.Problem.Rule)
	assert.Equal(t, int32(1), calls.Load())
	require.NotNil(t, se.Receipt, "with the provider's verified negative receipt")
	assert.Equal(t, finance, se.Receipt.Sender)
	assert.Empty(t, se.Receipt.Resource, "a receipt calls no resource")
	assert.Equal(t, "exchange.refused.not-granted", se.Refusal.Rule)

	_, _, err = consumer.transport.Call(ctx, "market.registration", "application/json", nil)
	assert.True(t, errors.Is(err, ErrNoSuchResource))

	// A handler's error is a 502 with its reason; a replayed request id is refused.
	_, _, err = consumer.transport.Call(ctx, "finance.budget-execution", "application/json", []byte(`not json`))
	require.ErrorAs(t, err, &se)
	assert.Equal(t, http.StatusBadGateway, se.Status)
	assert.Nil(t, se.Receipt, "not a final refusal")
	assert.Nil(t, se.Problem.Receipt)

	req := NewEnvelope(KindDataRequest, consumer.party, n.now)
	req.Recipients = []Party{finance}
	req.Resource = "finance.budget-execution"
	payload := []byte(`{"year":2024}`)
	env := documentEnvelope(consumer, finance, payload) // for the payload fields
	req.Payload = env.Payload
	require.NoError(t, consumer.transport.Sign(req))
	line, err := Marshal(req)
	require.NoError(t, err)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: consumer.transport.clientTLSConfig(provider.tlsCert.Leaf.Raw)}}
	defer client.CloseIdleConnections()
	post := func() (int, *Problem) {
		resp, err := client.Post("https://"+provider.listener.Addr().String()+MessagePath, MessageMediaType, io.MultiReader(bytes.NewReader(append(line, '\n')), bytes.NewReader(payload)))
		require.NoError(t, err)
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return resp.StatusCode, nil
		}
		var p Problem
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&p))
		return resp.StatusCode, &p
	}
	code, _ := post()
	assert.Equal(t, http.StatusOK, code)
	code, p := post()
	assert.Equal(t, http.StatusConflict, code, "a replayed data request is refused")
	assert.Equal(t, "exchange.refused.replay", p.Rule)
	assert.Nil(t, p.Receipt, "409 is not final: no receipt")
}
