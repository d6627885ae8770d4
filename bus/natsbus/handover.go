package natsbus

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/carillonhq/carillon/bus"
)

// Handing messaging sessions over between servers (package hub,
// handover.go): a request on <Prefix>.handover names the session and the
// server asking; the server that gave the session up answers, the others
// stay silent, so the asking server takes the first answer and otherwise
// waits until its context ends.

type handoverRequest struct {
	From      string `json:"from"`
	User      string `json:"user"`
	SessionID string `json:"sessionId"`
}

// HandleHandovers sets the function that answers the other servers'
// handover requests. Set it once, before sessions connect; until then
// requests go unanswered.
func (b *Bus) HandleHandovers(fn bus.HandoverFunc) { b.handover.Store(&fn) }

// RequestHandover asks the other servers to give the session up, and
// reports whether one did before ctx ended.
func (b *Bus) RequestHandover(ctx context.Context, user, sessionID string) (bool, error) {
	data, err := json.Marshal(handoverRequest{From: b.id, User: user, SessionID: sessionID})
	if err != nil {
		return false, err
	}
	_, err = b.nc.RequestWithContext(ctx, b.o.Prefix+".handover", data)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled), errors.Is(err, nats.ErrNoResponders):
		return false, nil
	default:
		return false, err
	}
}

func (b *Bus) onHandover(m *nats.Msg) {
	var req handoverRequest
	fn := b.handover.Load()
	if fn == nil || json.Unmarshal(m.Data, &req) != nil || req.From == b.id || m.Reply == "" {
		return
	}
	// Giving up a session writes to the store: not on the connection's
	// dispatch goroutine, which every subscription of the bus shares.
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if (*fn)(ctx, req.User, req.SessionID) {
			_ = m.Respond([]byte("ok"))
		}
	}()
}
