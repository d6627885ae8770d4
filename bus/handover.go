package bus

import (
	"context"
	"sync"
)

// HandoverFunc answers another server's request for a messaging session
// (package hub, handover.go): it gives the session up if this server
// holds it, and reports whether it did.
type HandoverFunc func(ctx context.Context, user, sessionID string) bool

// LocalHandovers passes handover requests between servers in one process
// (tests, and embedders running several hubs on one store). NATS's bus
// does the same across processes (natsbus.Bus.RequestHandover).
type LocalHandovers struct {
	mu    sync.Mutex
	peers map[*HandoverPeer]HandoverFunc
}

// HandoverPeer is one server's side of LocalHandovers.
type HandoverPeer struct{ l *LocalHandovers }

// Join adds a server that answers requests with fn.
func (l *LocalHandovers) Join(fn HandoverFunc) *HandoverPeer {
	p := &HandoverPeer{l: l}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.peers == nil {
		l.peers = map[*HandoverPeer]HandoverFunc{}
	}
	l.peers[p] = fn
	return p
}

// Leave removes the server.
func (p *HandoverPeer) Leave() {
	p.l.mu.Lock()
	defer p.l.mu.Unlock()
	delete(p.l.peers, p)
}

// RequestHandover asks every other server for the session, and reports
// whether one gave it up before ctx ended.
func (p *HandoverPeer) RequestHandover(ctx context.Context, user, sessionID string) (bool, error) {
	p.l.mu.Lock()
	var others []HandoverFunc
	for q, fn := range p.l.peers {
		if q != p {
			others = append(others, fn)
		}
	}
	p.l.mu.Unlock()
	answers := make(chan bool, len(others))
	for _, fn := range others {
		go func() { answers <- fn(ctx, user, sessionID) }()
	}
	for range others {
		select {
		case ok := <-answers:
			if ok {
				return true, nil
			}
		case <-ctx.Done():
			return false, nil
		}
	}
	return false, nil
}
