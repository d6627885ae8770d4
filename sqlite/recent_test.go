package sqlite

import (
	"errors"
	"reflect"
	"testing"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/storetest"
)

// viewEvents reads Events in a View, from memory when it can (fromMemory
// false first runs a statement, which makes Events read the outbox), and
// reports whether the memory answered.
func viewEvents(t *testing.T, db *DB, after int64, n int, fromMemory bool) ([]carillon.Event, bool) {
	t.Helper()
	var events []carillon.Event
	var memory bool
	if err := db.View(t.Context(), func(ctx carillon.Tx) error {
		if !fromMemory {
			if _, err := ctx.LastEventSeq(); err != nil {
				return err
			}
		}
		var err error
		events, err = ctx.Events(after, n)
		memory = !ctx.(*tx).read
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return events, memory
}

// TestRecentEvents checks that Events answered from the memory of recent
// events is what the outbox holds: the same events, field for field,
// never one rolled back, none deleted, and none past a Seq another
// process took.
func TestRecentEvents(t *testing.T) {
	path := tempPath(t)
	db := openTest(t, path, storetest.NewFakeClock(storetest.Start))
	defer db.Close()
	ctx := t.Context()

	payload := []byte(`{"a":1}`)
	data := []byte(`{"v":1}`)
	if err := db.Update(ctx, func(tx carillon.Tx) error {
		for _, e := range []*carillon.Event{
			{Type: "A", Channel: "c", ToMembers: true, MessageType: "STANDARD", Payload: payload, Data: data},
			{Type: "B", Recipients: []string{"x", "y"}, Member: "m", MemberChange: -1, Reason: "r"},
			{Type: "C", Recipients: []string{}, Payload: []byte{}, Data: []byte{}},
		} {
			if err := tx.AppendEvent(e); err != nil {
				return err
			}
		}
		payload[0], data[0] = 'X', 'X' // the caller reuses its buffers
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// A request that fails, alone and in a batch, leaves nothing behind.
	fail := errors.New("fail")
	appendFail := func(tx carillon.Tx) error {
		if err := tx.AppendEvent(&carillon.Event{Type: "ROLLED BACK"}); err != nil {
			return err
		}
		return fail
	}
	if err := db.Update(ctx, appendFail); !errors.Is(err, fail) {
		t.Fatalf("Update: %v, want %v", err, fail)
	}
	out := inOneBatch(t, db, writeApp("one", nil, nil), appendFail, writeApp("two", nil, nil))
	if out[0].err != nil || !errors.Is(out[1].err, fail) || out[2].err != nil || out[3].err != nil {
		t.Fatalf("batch: %+v", out)
	}

	check := func(after int64, n int, wantMemory bool) []carillon.Event {
		t.Helper()
		got, memory := viewEvents(t, db, after, n, true)
		want, _ := viewEvents(t, db, after, n, false)
		if memory != wantMemory {
			t.Errorf("Events(%d, %d) from memory: %v, want %v", after, n, memory, wantMemory)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Events(%d, %d) = %#v\nthe outbox holds %#v", after, n, got, want)
		}
		return got
	}
	all := check(0, 100, true)
	if len(all) != 6 {
		t.Fatalf("%d events, want 6: %+v", len(all), all)
	}
	for _, e := range all {
		if e.Type == "ROLLED BACK" {
			t.Errorf("a rolled back event is listed: %+v", e)
		}
	}
	check(2, 2, true)
	check(all[5].Seq, 10, false) // nothing after: the outbox is asked

	// Another process takes the next Seq: this one's memory holds a run
	// that stops before it, and is not asked past it.
	other := openTest(t, path, storetest.NewFakeClock(storetest.Start))
	defer other.Close()
	if err := other.Update(ctx, func(tx carillon.Tx) error {
		return tx.AppendEvent(&carillon.Event{Type: "OTHER"})
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Update(ctx, func(tx carillon.Tx) error {
		return tx.AppendEvent(&carillon.Event{Type: "AFTER"})
	}); err != nil {
		t.Fatal(err)
	}
	check(all[5].Seq, 10, false)
	if got := check(0, 100, false); len(got) != 8 || got[6].Type != "OTHER" || got[7].Type != "AFTER" {
		t.Errorf("events after another process's: %+v", got)
	}
	check(all[5].Seq+1, 10, true)

	// Deleted events are forgotten.
	if err := db.Update(ctx, func(tx carillon.Tx) error {
		if err := tx.AppendEvent(&carillon.Event{Type: "KEPT"}); err != nil {
			return err
		}
		return tx.DeleteEventsThrough(all[5].Seq + 2)
	}); err != nil {
		t.Fatal(err)
	}
	if got := check(0, 100, false); len(got) != 1 || got[0].Type != "KEPT" {
		t.Errorf("events after the delete: %+v", got)
	}
	check(all[5].Seq+1, 10, false)
	check(all[5].Seq+2, 10, true)
}

// TestRecentEventsBound checks that the memory keeps a bounded run of the
// newest events and still answers for them.
func TestRecentEventsBound(t *testing.T) {
	var r recentEvents
	for seq := int64(1); seq <= 3*maxRecentEvents; seq++ {
		r.add([]carillon.Event{{Seq: seq}})
	}
	if len(r.events) > maxRecentEvents {
		t.Fatalf("%d events kept, at most %d", len(r.events), maxRecentEvents)
	}
	if _, ok := r.get(1, 10); ok {
		t.Errorf("an event long gone answered from memory")
	}
	got, ok := r.get(3*maxRecentEvents-3, 10)
	if !ok || len(got) != 3 || got[0].Seq != 3*maxRecentEvents-2 || got[2].Seq != 3*maxRecentEvents {
		t.Errorf("the newest events: %+v, %v", got, ok)
	}
	r.add([]carillon.Event{{Seq: 3*maxRecentEvents + 2}}) // a gap
	if _, ok := r.get(3*maxRecentEvents-3, 10); ok {
		t.Errorf("events before a gap answered from memory")
	}
}
