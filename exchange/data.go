package exchange

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/egovkit/egovkit/docdoc"
)

// MaxDataPayload is the largest data request or response, in bytes: a data
// call is answered at once, in memory; bulk data travels as documents.
const MaxDataPayload = 16 << 20

// DataRequest is what a resource handler receives: the verified envelope
// (who calls, which resource) and the request body.
type DataRequest struct {
	Envelope  *Envelope
	MediaType string
	Body      []byte
}

// DataResponse is what a resource handler answers.
type DataResponse struct {
	MediaType string
	Body      []byte
}

// ResourceHandler answers calls of one data resource (数据资源). It runs only
// after the node has verified the caller and found the caller's grant in
// the directory.
type ResourceHandler func(ctx context.Context, req DataRequest) (DataResponse, error)

// ErrNoSuchResource is returned when the directory lists no such resource,
// or this node does not serve it.
var ErrNoSuchResource = errors.New("exchange: no such data resource here")

// Publish registers the handler of a data resource this node serves. The
// directory must list the resource with this node as its provider;
// publishing grants nothing: only the directory's grants let others call.
func (n *Transport) Publish(resource string, h ResourceHandler) error {
	dir, err := n.cfg.Directory()
	if err != nil {
		return err
	}
	if _, provider, ok := dir.Resource(resource); !ok || provider != n.cfg.Self {
		return fmt.Errorf("%w: the directory does not list %q as served by %s", ErrNoSuchResource, resource, n.cfg.Self)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.resources[resource] = h
	return nil
}

// serveData answers a verified dataRequest: it checks that this node serves
// the resource and that the directory grants the caller, stores the request
// (so that a replayed request id is refused), runs the handler and answers
// with a signed dataResponse. Its final refusals come with a negative
// receipt, as the message endpoint's do.
func (n *Transport) serveData(w http.ResponseWriter, r *http.Request, m refusedMessage, dir *Directory, payload *checkedReader) {
	env := m.env
	_, provider, ok := dir.Resource(env.Resource)
	n.mu.Lock()
	h := n.resources[env.Resource]
	n.mu.Unlock()
	if !ok || provider != n.cfg.Self || h == nil {
		n.refuse(w, m, Problem{Status: http.StatusNotFound, Rule: "exchange.refused.unknown-resource", Detail: fmt.Sprintf("this node serves no resource %q", env.Resource)})
		return
	}
	if !dir.MayCall(env.Sender.OrgID, env.Resource) {
		n.refuse(w, m, Problem{Status: http.StatusForbidden, Rule: "exchange.refused.not-granted", Detail: fmt.Sprintf("the directory grants %s no call of %s", env.Sender.OrgID, env.Resource)})
		return
	}
	if env.Payload.Size > MaxDataPayload {
		n.refuse(w, m, Problem{Status: http.StatusRequestEntityTooLarge, Rule: "exchange.refused.payload-size", Detail: fmt.Sprintf("data request of %d bytes; expected at most %d", env.Payload.Size, MaxDataPayload)})
		return
	}
	body, err := io.ReadAll(payload)
	if err != nil {
		m.sum = payload.sum
		n.refuse(w, m, Problem{Status: http.StatusUnprocessableEntity, Rule: "exchange.refused.payload", Detail: err.Error()})
		return
	}
	dup, err := n.cfg.Receiver.Receive(r.Context(), env, bytes.NewReader(body))
	switch {
	case err != nil:
		writeProblem(w, Problem{Status: http.StatusInternalServerError, Rule: "exchange.store", Detail: "the request could not be recorded; retry later"})
		return
	case dup:
		writeProblem(w, Problem{Status: http.StatusConflict, Rule: "exchange.refused.replay", Detail: fmt.Sprintf("request %s was already answered; expected a new id for a new call", env.ID)})
		return
	}
	resp, err := h(r.Context(), DataRequest{Envelope: env, MediaType: env.Payload.MediaType, Body: body})
	if err != nil {
		writeProblem(w, Problem{Status: http.StatusBadGateway, Rule: "exchange.data.handler", Detail: err.Error()})
		return
	}
	out, err := n.dataResponse(env, resp)
	if err != nil {
		writeProblem(w, Problem{Status: http.StatusInternalServerError, Rule: "exchange.internal", Detail: err.Error()})
		return
	}
	w.Header().Set("Content-Type", MessageMediaType)
	_, _ = w.Write(out)
}

func (n *Transport) dataResponse(req *Envelope, resp DataResponse) ([]byte, error) {
	if resp.MediaType == "" {
		resp.MediaType = "application/json"
	}
	re := req.Reply(KindDataResponse, n.cfg.Self, n.now())
	d, _, err := docdoc.ComputeDigest(bytes.NewReader(resp.Body), docdoc.SHA256)
	if err != nil {
		return nil, err
	}
	re.Payload = Payload{MediaType: resp.MediaType, Size: int64(len(resp.Body)), Digest: d}
	if err := SignEnvelope(re, n.cfg.Signer); err != nil {
		return nil, err
	}
	line, err := Marshal(re)
	if err != nil {
		return nil, err
	}
	return append(append(line, '\n'), resp.Body...), nil
}

// Call calls a data resource (publish once, call with a grant): it finds
// the resource's provider in the directory, sends a signed dataRequest with
// body, and returns the provider's verified dataResponse. The provider's
// node checks the grant before its handler runs; a refusal is a
// [*SendError], with the provider's verified negative receipt when the
// refusal is final (an unknown resource, no grant, a payload too large or
// not matching its envelope).
func (n *Transport) Call(ctx context.Context, resource, mediaType string, body []byte) (*Envelope, []byte, error) {
	dir, err := n.cfg.Directory()
	if err != nil {
		return nil, nil, err
	}
	_, provider, ok := dir.Resource(resource)
	if !ok {
		return nil, nil, fmt.Errorf("%w: %q is not in the directory", ErrNoSuchResource, resource)
	}
	node := dir.Node(provider)
	if node == nil {
		return nil, nil, fmt.Errorf("%w: %s", ErrUnknownRecipient, provider)
	}
	req := NewEnvelope(KindDataRequest, n.cfg.Self, n.now())
	req.Recipients = []Party{provider}
	req.Resource = resource
	d, _, err := docdoc.ComputeDigest(bytes.NewReader(body), docdoc.SHA256)
	if err != nil {
		return nil, nil, err
	}
	req.Payload = Payload{MediaType: mediaType, Size: int64(len(body)), Digest: d}
	if err := n.Sign(req); err != nil {
		return nil, nil, err
	}
	line, err := Marshal(req)
	if err != nil {
		return nil, nil, err
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(node.Endpoint, "/")+MessagePath, io.MultiReader(bytes.NewReader(append(line, '\n')), bytes.NewReader(body)))
	if err != nil {
		return nil, nil, err
	}
	hreq.ContentLength = int64(len(line)) + 1 + int64(len(body))
	hreq.Header.Set("Content-Type", MessageMediaType)
	client := n.clientFor(node.TLSCertificate)
	resp, err := client.Do(hreq)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	rb := bufio.NewReader(io.LimitReader(resp.Body, MaxEnvelopeSize+MaxDataPayload+1))
	if resp.StatusCode != http.StatusOK {
		return nil, nil, n.sendError(ctx, resp.StatusCode, rb, dir, req, line, provider)
	}
	rl, err := readLine(rb, MaxEnvelopeSize)
	if err != nil {
		return nil, nil, fmt.Errorf("exchange: reading the data response: %w", err)
	}
	re, err := ParseEnvelopeBytes(rl)
	if err != nil {
		return nil, nil, fmt.Errorf("exchange: the data response envelope: %w", err)
	}
	if err := VerifyEnvelope(ctx, re, dir, n.cfg.Verifier, n.cfg.Self, n.now()); err != nil {
		return nil, nil, fmt.Errorf("exchange: the data response: %w", err)
	}
	if re.Kind != KindDataResponse || re.ReplyTo != req.ID || re.Sender != provider || re.Resource != resource {
		return nil, nil, fmt.Errorf("exchange: the answer is a %s from %s to %s; expected a dataResponse from %s to %s", re.Kind, re.Sender, re.ReplyTo, provider, req.ID)
	}
	if re.Payload.Size > MaxDataPayload {
		return nil, nil, fmt.Errorf("exchange: data response of %d bytes; expected at most %d", re.Payload.Size, MaxDataPayload)
	}
	h, err := docdoc.NewHash(re.Payload.Digest.Alg)
	if err != nil {
		return nil, nil, err
	}
	out, err := io.ReadAll(&checkedReader{r: io.LimitReader(rb, re.Payload.Size+1), size: re.Payload.Size, h: h, want: re.Payload.Digest.Value})
	if err != nil {
		return nil, nil, fmt.Errorf("exchange: the data response payload: %w", err)
	}
	return re, out, nil
}
