package flows

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/carillonhq/carillon/api/messagingapi"
	"github.com/carillonhq/carillon/webhook"
)

// maxAnswer bounds the body of a processor's answer.
const maxAnswer = 1 << 20

// httpInvoker POSTs processor events to HTTP processors, signed with the
// processor secret (package webhook).
type httpInvoker struct {
	client webhook.Client
}

func newHTTPInvoker(client *http.Client, secret string) *httpInvoker {
	return &httpInvoker{client: webhook.Client{HTTP: client, Secret: secret, UserAgent: "Carillon channel flows", MaxAnswer: maxAnswer}}
}

// invoke POSTs the event to url. A 200 answer with a body is the
// processor's callback, given synchronously (a Carillon extension);
// 202, 204, and any other 2xx answer (200 without a body included) mean
// the processor will call ChannelFlowCallback itself.
func (h *httpInvoker) invoke(ctx context.Context, url string, event []byte) (*messagingapi.ChannelFlowCallbackRequest, error) {
	answer, err := h.client.Post(ctx, url, event)
	switch {
	case errors.Is(err, webhook.ErrRequest):
		return nil, permanent(fmt.Errorf("processor URL %s: %w", url, err))
	case err != nil && answer != nil:
		return nil, fmt.Errorf("reading the processor's answer: %w", errors.Unwrap(err))
	case err != nil:
		return nil, err
	}
	switch {
	case answer.StatusCode == http.StatusOK && len(bytes.TrimSpace(answer.Body)) > 0:
		var cb messagingapi.ChannelFlowCallbackRequest
		if err := json.Unmarshal(answer.Body, &cb); err != nil {
			return nil, fmt.Errorf("the processor answered 200 with a body that is not a callback: %v", err)
		}
		return &cb, nil
	case answer.OK():
		return nil, nil
	}
	return nil, fmt.Errorf("the processor answered %s: %s", answer.Status, snippet(answer.Body))
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
