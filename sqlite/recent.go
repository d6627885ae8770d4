package sqlite

import (
	"sync"

	"github.com/carillonhq/carillon"
)

// recentEvents keeps the events of the last batches committed, so that
// Events in a View can answer from memory what it would otherwise read
// back from the outbox: the relay reads every event right after its
// commit (bus.Relay), the hub and the streaming export shortly after.
//
// The memory holds a run of consecutive Seqs, the newest committed by
// this process. Another process writing the same file (the credentials
// command) takes Seqs this process never sees, so a read is answered from
// memory only when the memory holds the Seq right after the one asked
// for, and then only the consecutive run from there: what it returns is
// exactly what the outbox holds, in a snapshot taken a moment earlier.
type recentEvents struct {
	mu     sync.Mutex
	events []carillon.Event // consecutive Seqs, oldest first
}

// maxRecentEvents bounds the memory: a relay behind by more reads the
// outbox.
const maxRecentEvents = 1024

// add appends the events of a committed batch, in Seq order. A gap in the
// Seqs (another process committed in between) starts the run anew.
func (r *recentEvents) add(events []carillon.Event) {
	if len(events) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range events {
		if n := len(r.events); n > 0 && r.events[n-1].Seq+1 != e.Seq {
			clear(r.events)
			r.events = r.events[:0]
		}
		if len(r.events) == maxRecentEvents {
			// Drop the older half at once: one copy per 512 events.
			k := copy(r.events, r.events[maxRecentEvents/2:])
			clear(r.events[k:])
			r.events = r.events[:k]
		}
		r.events = append(r.events, e)
	}
}

// dropThrough forgets the events with Seq <= seq, deleted from the outbox.
func (r *recentEvents) dropThrough(seq int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := 0
	for i < len(r.events) && r.events[i].Seq <= seq {
		i++
	}
	if i == 0 {
		return
	}
	k := copy(r.events, r.events[i:])
	clear(r.events[k:])
	r.events = r.events[:k]
}

// get returns up to limit events after seq after (limit > 0), and whether
// the memory could answer: it holds the event after+1.
func (r *recentEvents) get(after int64, limit int) ([]carillon.Event, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) == 0 {
		return nil, false
	}
	first := r.events[0].Seq
	if after+1 < first || after+1 > r.events[len(r.events)-1].Seq {
		return nil, false
	}
	run := r.events[after+1-first:]
	run = run[:min(len(run), limit)]
	// The events are shared with other readers: their slices are never
	// written after add, and the caller gets its own copy of the structs.
	return append([]carillon.Event(nil), run...), true
}

// keep is the copy of e the memory holds: the caller owns e's slices and
// may reuse them once AppendEvent returns. The slices are as Events would
// scan them from the outbox.
func keep(e *carillon.Event) carillon.Event {
	k := *e
	k.Payload, k.Data = nil, nil // an empty BLOB scans as nil
	if len(e.Payload) > 0 {
		k.Payload = append([]byte(nil), e.Payload...)
	}
	if len(e.Data) > 0 {
		k.Data = append([]byte(nil), e.Data...)
	}
	k.Recipients = nil
	if len(e.Recipients) > 0 {
		k.Recipients = append([]string(nil), e.Recipients...)
	}
	return k
}
