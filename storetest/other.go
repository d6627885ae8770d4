package storetest

import (
	"fmt"
	"time"

	"github.com/carillonhq/carillon"
)

func testTags(e *env) {
	t := e.t
	x, y := userARN(appA, "x"), userARN(appA, "y")
	tags := func(arn string) []carillon.Tag {
		t.Helper()
		return read(e, func(tx carillon.Tx) ([]carillon.Tag, error) { return tx.Tags(arn) })
	}
	// Tags are stored for any ARN: whether the resource exists is for the
	// services to check.
	check(t, "Tags of an untagged resource", tags(x), []carillon.Tag{})

	e.update(func(tx carillon.Tx) error {
		return tx.PutTags(x, []carillon.Tag{{Key: "b", Value: "1"}, {Key: "a", Value: "2"}, {Key: "B", Value: ""}})
	})
	check(t, "Tags, sorted by key", tags(x), []carillon.Tag{{Key: "B", Value: ""}, {Key: "a", Value: "2"}, {Key: "b", Value: "1"}})

	e.update(func(tx carillon.Tx) error {
		if err := tx.PutTags(x, []carillon.Tag{{Key: "a", Value: "3"}, {Key: "c", Value: "4"}}); err != nil {
			return err
		}
		if err := tx.PutTags(y, []carillon.Tag{{Key: "a", Value: "y"}}); err != nil {
			return err
		}
		return tx.PutTags(x, nil)
	})
	check(t, "Tags after PutTags replacing a value", tags(x),
		[]carillon.Tag{{Key: "B", Value: ""}, {Key: "a", Value: "3"}, {Key: "b", Value: "1"}, {Key: "c", Value: "4"}})
	check(t, "Tags of another resource", tags(y), []carillon.Tag{{Key: "a", Value: "y"}})

	e.update(func(tx carillon.Tx) error {
		if err := tx.DeleteTags(x, []string{"a", "absent", "B"}); err != nil {
			return err
		}
		if err := tx.DeleteTags(x, nil); err != nil {
			return err
		}
		return tx.DeleteTags(userARN(appA, "untagged"), []string{"a"})
	})
	check(t, "Tags after DeleteTags", tags(x), []carillon.Tag{{Key: "b", Value: "1"}, {Key: "c", Value: "4"}})
	check(t, "Tags of another resource after DeleteTags", tags(y), []carillon.Tag{{Key: "a", Value: "y"}})

	// Within a transaction, a write is visible to the reads after it.
	e.update(func(tx carillon.Tx) error {
		if err := tx.DeleteTags(x, []string{"b", "c"}); err != nil {
			return err
		}
		got, err := tx.Tags(x)
		check(t, "Tags in the transaction that deleted them", got, []carillon.Tag{})
		return err
	})
}

func testIdempotency(e *env) {
	t := e.t
	e.view(func(tx carillon.Tx) error {
		r, found, err := tx.Idempotent("scope", "token")
		if r != "" || found || err != nil {
			t.Errorf("Idempotent of an unknown token = %q, %v, %v; want \"\", false, nil", r, found, err)
		}
		return nil
	})
	e.update(func(tx carillon.Tx) error {
		if err := tx.PutIdempotent("scope", "token", "first"); err != nil {
			return err
		}
		r, found, err := tx.Idempotent("scope", "token")
		if r != "first" || !found || err != nil {
			t.Errorf("Idempotent in the transaction that put it = %q, %v, %v", r, found, err)
		}
		return tx.PutIdempotent("scope", "empty", "")
	})
	// The first result is kept.
	e.update(func(tx carillon.Tx) error { return tx.PutIdempotent("scope", "token", "second") })
	e.view(func(tx carillon.Tx) error {
		for _, c := range []struct {
			scope, token, want string
			found              bool
		}{
			{"scope", "token", "first", true},
			{"scope", "empty", "", true},
			{"other", "token", "", false},
			{"scope", "other", "", false},
			// Where the scope ends and the token begins is part of
			// the key.
			{"scopet", "oken", "", false},
			{"scop", "etoken", "", false},
		} {
			r, found, err := tx.Idempotent(c.scope, c.token)
			if r != c.want || found != c.found || err != nil {
				t.Errorf("Idempotent(%q, %q) = %q, %v, %v; want %q, %v, nil", c.scope, c.token, r, found, err, c.want, c.found)
			}
		}
		return nil
	})

	// Results expire by the time they were stored: "token" and "empty"
	// at Start, then one an hour later and one two hours later.
	for i, token := range []string{"hour-1", "hour-2"} {
		e.clock.Advance(time.Hour)
		e.update(func(tx carillon.Tx) error { return tx.PutIdempotent("scope", token, fmt.Sprint(i)) })
	}
	remaining := func() []string {
		t.Helper()
		var left []string
		e.view(func(tx carillon.Tx) error {
			for _, token := range []string{"token", "empty", "hour-1", "hour-2"} {
				if _, found, err := tx.Idempotent("scope", token); err != nil {
					return err
				} else if found {
					left = append(left, token)
				}
			}
			return nil
		})
		return left
	}
	deleteBefore := func(at time.Time, limit int) int {
		t.Helper()
		var n int
		e.update(func(tx carillon.Tx) (err error) {
			n, err = tx.DeleteIdempotentBefore(at, limit)
			return err
		})
		return n
	}
	check(t, "DeleteIdempotentBefore the first result", deleteBefore(Start, 10), 0)
	check(t, "DeleteIdempotentBefore an hour on, one at most", deleteBefore(Start.Add(time.Hour), 1), 1)
	check(t, "results after deleting one of the two oldest", len(remaining()), 3)
	check(t, "DeleteIdempotentBefore an hour and a half on", deleteBefore(Start.Add(90*time.Minute), 10), 2)
	check(t, "results left", remaining(), []string{"hour-2"})

	// ClaimIdempotent stores a result the first time, and afterwards
	// returns the stored one and keeps it, in the same transaction and in
	// later ones.
	claim := func(tx carillon.Tx, token, result, want string, wantFound bool) {
		t.Helper()
		prev, found, err := tx.ClaimIdempotent("claims", token, result)
		if prev != want || found != wantFound || err != nil {
			t.Errorf("ClaimIdempotent(%q, %q) = %q, %v, %v; want %q, %v, nil", token, result, prev, found, err, want, wantFound)
		}
	}
	e.update(func(tx carillon.Tx) error {
		claim(tx, "a", "first", "", false)
		claim(tx, "a", "second", "first", true)
		claim(tx, "empty", "", "", false)
		return nil
	})
	e.update(func(tx carillon.Tx) error {
		claim(tx, "a", "third", "first", true)
		claim(tx, "empty", "x", "", true)
		claim(tx, "b", "other", "", false)
		return nil
	})
	e.view(func(tx carillon.Tx) error {
		for token, want := range map[string]string{"a": "first", "empty": "", "b": "other"} {
			if r, found, err := tx.Idempotent("claims", token); r != want || !found || err != nil {
				t.Errorf("Idempotent of claimed %q = %q, %v, %v; want %q, true, nil", token, r, found, err, want)
			}
		}
		return nil
	})
}

func testAccessKey(e *env) {
	t := e.t
	u1, u2 := userARN(appA, "u1"), userARN(appA, "u2")
	k1 := newKey("AKID3", u1) // never expires
	k2 := newKey("AKID1", u1)
	k2.Expires, k2.SessionID = Start.Add(12*time.Hour), "session"
	k3 := newKey("AKID2", u2)
	// Keys are stored for any bearer: whether it exists is for the
	// services to check.
	e.create(k1, k2, k3)

	get := func(id string) *carillon.AccessKey {
		t.Helper()
		return read(e, func(tx carillon.Tx) (*carillon.AccessKey, error) { return tx.GetAccessKey(id) })
	}
	check(t, "GetAccessKey", get(k1.ID), k1)
	check(t, "GetAccessKey with expiry and session", get(k2.ID), k2)
	if got := get(k1.ID); !got.Expires.IsZero() {
		t.Errorf("GetAccessKey: Expires %v, want the zero time", got.Expires)
	}
	wantErr(t, "CreateAccessKey twice", e.write(func(tx carillon.Tx) error {
		return tx.CreateAccessKey(newKey(k1.ID, u2))
	}), carillon.ErrExists)
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetAccessKey("nope")
		wantErr(t, "GetAccessKey of a missing one", err, carillon.ErrNotFound)
		return nil
	})

	list := func(bearer string) []carillon.AccessKey {
		t.Helper()
		return read(e, func(tx carillon.Tx) ([]carillon.AccessKey, error) { return tx.ListAccessKeys(bearer) })
	}
	check(t, "ListAccessKeys, in ID order", list(u1), []carillon.AccessKey{*k2, *k1})
	check(t, "ListAccessKeys of another bearer", list(u2), []carillon.AccessKey{*k3})
	check(t, "ListAccessKeys of a bearer without keys", list(userARN(appA, "u3")), []carillon.AccessKey{})
	all := func(p carillon.Page) []carillon.AccessKey {
		t.Helper()
		return read(e, func(tx carillon.Tx) ([]carillon.AccessKey, error) { return tx.ListAllAccessKeys(p) })
	}
	check(t, "ListAllAccessKeys, in ID order", all(carillon.Page{}), []carillon.AccessKey{*k2, *k3, *k1})
	check(t, "ListAllAccessKeys, a page", all(carillon.Page{Limit: 2}), []carillon.AccessKey{*k2, *k3})
	check(t, "ListAllAccessKeys, the next page", all(carillon.Page{After: k3.ID, Limit: 2}), []carillon.AccessKey{*k1})

	e.update(func(tx carillon.Tx) error { return tx.DeleteAccessKey(k1.ID) })
	wantErr(t, "DeleteAccessKey twice", e.write(func(tx carillon.Tx) error {
		return tx.DeleteAccessKey(k1.ID)
	}), carillon.ErrNotFound)
	check(t, "ListAccessKeys after DeleteAccessKey", list(u1), []carillon.AccessKey{*k2})
}

func testOutbox(e *env) {
	t := e.t
	events := func(after int64, limit int) []carillon.Event {
		t.Helper()
		return read(e, func(tx carillon.Tx) ([]carillon.Event, error) { return tx.Events(after, limit) })
	}
	check(t, "Events of an empty outbox", events(0, 0), []carillon.Event{})

	ch := appA + "/channel/c1"
	e1 := &carillon.Event{
		Type: "CREATE_CHANNEL_MESSAGE", Channel: ch, Recipients: []string{userARN(appA, "u1"), userARN(appA, "u2")},
		MessageType: "STANDARD", Payload: []byte(`{"MessageId":"m1","Content":"hé \u0000"}`),
		Data: []byte("{\"v\":1}\x00\xff"), // bytes, kept as they are
	}
	e2 := &carillon.Event{Type: "CREATE_CHANNEL", Channel: ch, MessageType: "CONTROL"} // no recipients, no payload, no data
	var now1 time.Time
	e.update(func(tx carillon.Tx) error {
		now1 = tx.Now()
		if err := tx.AppendEvent(e1); err != nil {
			return err
		}
		return tx.AppendEvent(e2)
	})
	if e1.Seq <= 0 || e2.Seq <= e1.Seq {
		t.Errorf("Seq of two events of one transaction: %d, %d; want positive and increasing", e1.Seq, e2.Seq)
	}
	if !e1.At.Equal(now1) || !e2.At.Equal(now1) {
		t.Errorf("At = %v, %v; want the transaction's time %v", e1.At, e2.At, now1)
	}

	e.clock.Advance(time.Second)
	e3 := &carillon.Event{Type: "DELETE_CHANNEL", Recipients: []string{"r"}, MessageType: "SYSTEM", Payload: []byte("{}")}
	e.update(func(tx carillon.Tx) error { return tx.AppendEvent(e3) })
	if e3.Seq <= e2.Seq {
		t.Errorf("Seq of a later transaction's event: %d after %d", e3.Seq, e2.Seq)
	}
	if !e3.At.After(now1) {
		t.Errorf("At of a later transaction's event: %v, not after %v", e3.At, now1)
	}

	all := []carillon.Event{*e1, *e2, *e3}
	check(t, "Events(0, 0)", events(0, 0), all)
	check(t, "Events(0, -1)", events(0, -1), all)
	check(t, "Events(0, 2)", events(0, 2), all[:2])
	check(t, "Events after the first", events(e1.Seq, 0), all[1:])
	check(t, "Events after the first, limit 1", events(e1.Seq, 1), all[1:2])
	check(t, "Events after the last", events(e3.Seq, 0), []carillon.Event{})

	// Events appended in a transaction that rolls back never show.
	_ = e.write(func(tx carillon.Tx) error {
		if err := tx.AppendEvent(&carillon.Event{Type: "ROLLED_BACK"}); err != nil {
			return err
		}
		return errRollback
	})
	check(t, "Events after a rolled-back append", events(0, 0), all)

	e.update(func(tx carillon.Tx) error { return tx.DeleteEventsThrough(e2.Seq) })
	check(t, "Events after DeleteEventsThrough", events(0, 0), all[2:])
	e.update(func(tx carillon.Tx) error {
		if err := tx.DeleteEventsThrough(e1.Seq); err != nil { // nothing left to delete
			return err
		}
		return tx.DeleteEventsThrough(e3.Seq + 1000)
	})
	check(t, "Events after deleting them all", events(0, 0), []carillon.Event{})
}

// testOutboxSeqNeverReused: once events are deleted, their sequence
// numbers are not handed out again, even when the outbox is empty (a
// rowid without AUTOINCREMENT, or a sequence reset, would).
func testOutboxSeqNeverReused(e *env) {
	t := e.t
	var last int64
	for round := range 3 {
		ev := &carillon.Event{Type: "T", MessageType: "SYSTEM"}
		e.update(func(tx carillon.Tx) error {
			if err := tx.AppendEvent(ev); err != nil {
				return err
			}
			return tx.DeleteEventsThrough(ev.Seq)
		})
		if ev.Seq <= last {
			t.Errorf("round %d: Seq %d after %d was deleted", round, ev.Seq, last)
		}
		last = ev.Seq
		check(t, "Events after deleting them", read(e, func(tx carillon.Tx) ([]carillon.Event, error) {
			return tx.Events(0, 0)
		}), []carillon.Event{})
	}
}

// testLock: a named lock is held by one holder at a time until Release;
// other names are independent.
func testLock(e *env) {
	t := e.t
	l1, ok, err := e.s.TryLock(e.ctx, "jobs")
	if err != nil || !ok {
		t.Fatalf("TryLock = %v, %v", ok, err)
	}
	if l, ok, err := e.s.TryLock(e.ctx, "jobs"); ok || err != nil {
		if ok {
			l.Release()
		}
		t.Errorf("TryLock of a held lock = %v, %v", ok, err)
	}
	l2, ok, err := e.s.TryLock(e.ctx, "jobs/2")
	if err != nil || !ok {
		t.Fatalf("TryLock of another name = %v, %v", ok, err)
	}
	select {
	case <-l1.Lost():
		t.Errorf("a held lock is lost")
	default:
	}
	l1.Release()
	l1.Release() // again: nothing
	l3, ok, err := e.s.TryLock(e.ctx, "jobs")
	if err != nil || !ok {
		t.Fatalf("TryLock after Release = %v, %v", ok, err)
	}
	l3.Release()
	l2.Release()
}
