package storetest

import (
	"fmt"
	"time"

	"github.com/carillonhq/carillon"
)

func testSessionPosition(e *env) {
	t := e.t
	u1, u2 := userARN(appA, "u1"), userARN(appA, "u2")
	get := func(user, id string) (*carillon.SessionPosition, error) {
		var p *carillon.SessionPosition
		err := e.s.View(e.ctx, func(tx carillon.Tx) (err error) {
			p, err = tx.GetSessionPosition(user, id)
			return err
		})
		return p, err
	}
	_, err := get(u1, "s1")
	wantErr(t, "GetSessionPosition of an unknown session", err, carillon.ErrNotFound)

	big := make([]string, 2000) // a user in many channels: a large row
	for i := range big {
		big[i] = fmt.Sprintf("arn:aws:chime:us-east-1:000000000000:app-instance/a/channel/c%05d", i)
	}
	first := &carillon.SessionPosition{UserARN: u1, SessionID: "s1", Seq: 40, Pending: []int64{31, 35},
		Audiences: []string{"arn:c1", "arn:c2#sub"}, Saved: time.Unix(1, 0), Live: true}
	e.update(func(tx carillon.Tx) error {
		if err := tx.PutSessionPosition(first); err != nil {
			return err
		}
		// Same session id, another user: another position.
		return tx.PutSessionPosition(&carillon.SessionPosition{UserARN: u2, SessionID: "s1", Seq: 7, Audiences: big})
	})
	p, err := get(u1, "s1")
	noErr(t, "GetSessionPosition", err)
	want := *first
	want.Saved = Start // the transaction's time, not the argument's
	check(t, "GetSessionPosition after Put", p, &want)
	p, err = get(u2, "s1")
	noErr(t, "GetSessionPosition of another user's session", err)
	check(t, "another user's position with 2000 audiences", p,
		&carillon.SessionPosition{UserARN: u2, SessionID: "s1", Seq: 7, Audiences: big, Saved: Start})

	// Put replaces, at the new transaction's time.
	e.clock.Advance(time.Minute)
	e.update(func(tx carillon.Tx) error {
		return tx.PutSessionPosition(&carillon.SessionPosition{UserARN: u1, SessionID: "s1", Seq: 50})
	})
	p, err = get(u1, "s1")
	noErr(t, "GetSessionPosition after a second Put", err)
	check(t, "the replaced position", p, &carillon.SessionPosition{UserARN: u1, SessionID: "s1", Seq: 50, Saved: Start.Add(time.Minute)})

	// The hold: the lowest Seq, or pending Seq minus one, of the
	// positions saved since a time and not live.
	hold := func(since time.Time) (int64, bool) {
		var seq int64
		var ok bool
		e.view(func(tx carillon.Tx) (err error) {
			seq, ok, err = tx.SessionPositionsHold(since)
			return err
		})
		return seq, ok
	}
	e.update(func(tx carillon.Tx) error {
		if err := tx.PutSessionPosition(&carillon.SessionPosition{UserARN: u1, SessionID: "live", Seq: 3, Live: true}); err != nil {
			return err
		}
		return tx.PutSessionPosition(&carillon.SessionPosition{UserARN: u1, SessionID: "s2", Seq: 60, Pending: []int64{44, 59}})
	})
	if seq, ok := hold(Start); seq != 7 || !ok {
		t.Errorf("SessionPositionsHold(Start) = %d, %v; want 7 (u2's position), true", seq, ok)
	}
	if seq, ok := hold(Start.Add(time.Minute)); seq != 43 || !ok {
		t.Errorf("SessionPositionsHold(a minute on) = %d, %v; want 43 (s2's first pending minus one), true", seq, ok)
	}
	if seq, ok := hold(Start.Add(2 * time.Minute)); ok {
		t.Errorf("SessionPositionsHold(later than every position) = %d, true; want none", seq)
	}

	// Ending the live positions: they count from now on.
	e.clock.Advance(time.Minute)
	e.update(func(tx carillon.Tx) error {
		n, err := tx.EndLiveSessionPositions()
		check(t, "EndLiveSessionPositions", n, 1)
		return err
	})
	p, err = get(u1, "live")
	noErr(t, "GetSessionPosition of the ended live position", err)
	check(t, "the ended live position", p, &carillon.SessionPosition{UserARN: u1, SessionID: "live", Seq: 3, Saved: Start.Add(2 * time.Minute)})
	if seq, ok := hold(Start.Add(2 * time.Minute)); seq != 3 || !ok {
		t.Errorf("SessionPositionsHold after EndLiveSessionPositions = %d, %v; want 3, true", seq, ok)
	}

	// Delete, and delete before a time, oldest first.
	e.update(func(tx carillon.Tx) error {
		if err := tx.DeleteSessionPosition(u1, "s2"); err != nil {
			return err
		}
		return tx.DeleteSessionPosition(u1, "never") // no error for none
	})
	_, err = get(u1, "s2")
	wantErr(t, "GetSessionPosition after Delete", err, carillon.ErrNotFound)
	deleteBefore := func(at time.Time, limit int) int {
		var n int
		e.update(func(tx carillon.Tx) (err error) {
			n, err = tx.DeleteSessionPositionsBefore(at, limit)
			return err
		})
		return n
	}
	// Left: u2/s1 (Start), u1/s1 (Start+1m), u1/live (Start+2m).
	check(t, "DeleteSessionPositionsBefore Start", deleteBefore(Start, 10), 0)
	check(t, "DeleteSessionPositionsBefore Start+2m, one at most", deleteBefore(Start.Add(2*time.Minute), 1), 1)
	_, err = get(u2, "s1")
	wantErr(t, "the oldest position, deleted first", err, carillon.ErrNotFound)
	check(t, "DeleteSessionPositionsBefore Start+2m", deleteBefore(Start.Add(2*time.Minute), 10), 1)
	_, err = get(u1, "live")
	noErr(t, "the position saved at Start+2m is kept", err)

	// Writes are refused in a View.
	err = e.s.View(e.ctx, func(tx carillon.Tx) error {
		return tx.PutSessionPosition(&carillon.SessionPosition{UserARN: u1, SessionID: "x"})
	})
	wantErr(t, "PutSessionPosition in a View", err, carillon.ErrReadOnly)
	err = e.s.View(e.ctx, func(tx carillon.Tx) error { return tx.DeleteSessionPosition(u1, "live") })
	wantErr(t, "DeleteSessionPosition in a View", err, carillon.ErrReadOnly)
	err = e.s.View(e.ctx, func(tx carillon.Tx) error { _, err := tx.EndLiveSessionPositions(); return err })
	wantErr(t, "EndLiveSessionPositions in a View", err, carillon.ErrReadOnly)
}
