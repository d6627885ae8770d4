package storetest

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/carillonhq/carillon"
)

// errRollback is what test transactions return to be rolled back.
var errRollback = errors.New("storetest: roll back")

func testNow(e *env) {
	t := e.t
	// A clock in another zone, with a sub-millisecond fraction.
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	t0 := time.Date(2025, 6, 7, 8, 9, 10, 123_456_789, zone)
	e.clock.Set(t0)
	want := t0.UTC().Truncate(time.Millisecond)

	var first, second time.Time
	e.update(func(tx carillon.Tx) error {
		first = tx.Now()
		e.clock.Advance(time.Hour) // the transaction's time does not move
		second = tx.Now()
		a := newApp(appA)
		a.Created, a.Updated = tx.Now(), tx.Now()
		return tx.CreateAppInstance(a)
	})
	if !first.Equal(want) || first.Location() != time.UTC {
		t.Errorf("tx.Now() = %v, want the clock's time in UTC truncated to the millisecond, %v", first, want)
	}
	if !second.Equal(first) {
		t.Errorf("tx.Now() moved within a transaction: %v then %v", first, second)
	}
	// What is written with tx.Now() reads back exactly.
	a := read(e, func(tx carillon.Tx) (*carillon.AppInstance, error) { return tx.GetAppInstance(appA) })
	if !a.Created.Equal(want) {
		t.Errorf("Created written from tx.Now() reads back as %v, want %v", a.Created, want)
	}

	// The next transaction reads the clock again.
	e.update(func(tx carillon.Tx) error {
		if got, want := tx.Now(), t0.Add(time.Hour).UTC().Truncate(time.Millisecond); !got.Equal(want) {
			t.Errorf("tx.Now() of the next Update = %v, want %v", got, want)
		}
		return nil
	})
	e.clock.Advance(time.Minute)
	e.view(func(tx carillon.Tx) error {
		if got, want := tx.Now(), t0.Add(time.Hour+time.Minute).UTC().Truncate(time.Millisecond); !got.Equal(want) {
			t.Errorf("tx.Now() of a View = %v, want %v", got, want)
		}
		return nil
	})
}

func testTimestamps(e *env) {
	t := e.t
	zone := time.FixedZone("UTC-8", -8*3600)
	cases := []struct {
		name string
		in   time.Time
	}{
		{"milliseconds", time.Date(2024, 2, 29, 23, 59, 59, 999_000_000, time.UTC)},
		{"another zone", time.Date(2024, 2, 29, 23, 59, 59, 1_000_000, zone)},
		{"before the epoch", time.Date(1969, 12, 31, 23, 59, 59, 999_000_000, time.UTC)},
		{"the epoch", time.Unix(0, 0)},
		{"far future", time.Date(2200, 1, 1, 0, 0, 0, 7_000_000, time.UTC)},
		{"zero", time.Time{}},
	}
	for i, c := range cases {
		k := newKey(fmt.Sprintf("k%d", i), userARN(appA, "u1"))
		k.Expires, k.Created = c.in, c.in
		e.create(k)
		got := read(e, func(tx carillon.Tx) (*carillon.AccessKey, error) { return tx.GetAccessKey(k.ID) })
		for _, tm := range []time.Time{got.Expires, got.Created} {
			if !tm.Equal(c.in) || tm.IsZero() != c.in.IsZero() {
				t.Errorf("%s: %v reads back as %v", c.name, c.in, tm)
			}
			if tm.Location() != time.UTC {
				t.Errorf("%s: %v reads back in %v, want UTC", c.name, c.in, tm.Location())
			}
		}
	}

	// Below the millisecond, precision may be lost, but no more.
	in := time.Date(2024, 1, 1, 0, 0, 0, 123_456_789, time.UTC)
	a := newApp(appA)
	a.Created = in
	e.create(a)
	got := read(e, func(tx carillon.Tx) (*carillon.AppInstance, error) { return tx.GetAppInstance(appA) })
	if d := got.Created.Sub(in); d <= -time.Millisecond || d >= time.Millisecond {
		t.Errorf("%v reads back as %v, more than a millisecond away", in, got.Created)
	}
}

func testRollback(e *env) {
	t := e.t
	e.create(newApp(appB))
	err := e.write(func(tx carillon.Tx) error {
		if err := tx.CreateAppInstance(newApp(appA)); err != nil {
			return err
		}
		if err := tx.CreateUser(newUser(appA, "u1")); err != nil {
			return err
		}
		if err := tx.UpdateAppInstance(&carillon.AppInstance{ARN: appB, Name: "changed"}); err != nil {
			return err
		}
		if err := tx.PutTags(appA, []carillon.Tag{{Key: "k", Value: "v"}}); err != nil {
			return err
		}
		if err := tx.PutIdempotent("s", "t", "r"); err != nil {
			return err
		}
		if err := tx.AppendEvent(&carillon.Event{Type: "T"}); err != nil {
			return err
		}
		return fmt.Errorf("wrapped: %w", errRollback)
	})
	if !errors.Is(err, errRollback) {
		t.Errorf("Update returned %v, want the error of its function", err)
	}
	checkNothingWritten(e)

	// A store error returned by the function is returned by Update too.
	err = e.write(func(tx carillon.Tx) error {
		if err := tx.CreateAppInstance(newApp(appA)); err != nil {
			return err
		}
		_, err := tx.GetUser(userARN(appA, "nope"))
		return err
	})
	wantErr(t, "Update whose function failed with ErrNotFound", err, carillon.ErrNotFound)
	checkNothingWritten(e)

	// The store goes on working.
	e.create(newApp(appA))
}

// checkNothingWritten checks that what testRollback's transactions wrote
// was rolled back.
func checkNothingWritten(e *env) {
	t := e.t
	e.t.Helper()
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetAppInstance(appA)
		wantErr(t, "GetAppInstance after a rollback", err, carillon.ErrNotFound)
		_, err = tx.GetUser(userARN(appA, "u1"))
		wantErr(t, "GetUser after a rollback", err, carillon.ErrNotFound)
		b, err := tx.GetAppInstance(appB)
		noErr(t, "GetAppInstance", err)
		check(t, "AppInstance updated in a rolled-back transaction", b, newApp(appB))
		tags, err := tx.Tags(appA)
		noErr(t, "Tags", err)
		check(t, "Tags after a rollback", tags, []carillon.Tag{})
		if _, found, err := tx.Idempotent("s", "t"); found || err != nil {
			t.Errorf("Idempotent after a rollback = %v, %v; want false, nil", found, err)
		}
		evs, err := tx.Events(0, 0)
		noErr(t, "Events", err)
		check(t, "Events after a rollback", evs, []carillon.Event{})
		return nil
	})
}

func testRollbackOnPanic(e *env) {
	t := e.t
	func() {
		defer func() {
			if p := recover(); p != "storetest panic" {
				t.Errorf("Update recovered %v; want the panic to go on", p)
			}
		}()
		_ = e.s.Update(e.ctx, func(tx carillon.Tx) error {
			if err := tx.CreateAppInstance(newApp(appA)); err != nil {
				return err
			}
			panic("storetest panic")
		})
	}()
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetAppInstance(appA)
		wantErr(t, "GetAppInstance after a panic", err, carillon.ErrNotFound)
		return nil
	})
	// The panic did not keep the transaction (or its lock) open.
	e.create(newApp(appA))
}

// testGoesOnAfterError: ErrExists and ErrNotFound leave the transaction
// usable, so a service may insert and act on the conflict, and commit what
// it wrote before and after.
func testGoesOnAfterError(e *env) {
	t := e.t
	e.create(newApp(appA))
	e.update(func(tx carillon.Tx) error {
		if err := tx.CreateUser(newUser(appA, "u1")); err != nil {
			return err
		}
		wantErr(t, "CreateAppInstance of a taken ARN", tx.CreateAppInstance(newApp(appA)), carillon.ErrExists)
		wantErr(t, "CreateUser of a taken ARN", tx.CreateUser(newUser(appA, "u1")), carillon.ErrExists)
		wantErr(t, "CreateUser of a missing AppInstance", tx.CreateUser(newUser(appB, "u1")), carillon.ErrNotFound)
		wantErr(t, "DeleteUser of a missing one", tx.DeleteUser(userARN(appA, "nope")), carillon.ErrNotFound)
		_, err := tx.GetBot(botARN(appA, "nope"))
		wantErr(t, "GetBot of a missing one", err, carillon.ErrNotFound)
		return tx.CreateUser(newUser(appA, "u2"))
	})
	got := read(e, func(tx carillon.Tx) ([]carillon.AppInstanceUser, error) { return tx.ListUsers(appA, carillon.Page{}) })
	check(t, "users written around the errors", got, []carillon.AppInstanceUser{*newUser(appA, "u1"), *newUser(appA, "u2")})
}

func testReadOnly(e *env) {
	t := e.t
	u := newUser(appA, "u1")
	b := newBot(appA, "b1")
	admin := &carillon.AppInstanceAdmin{AppInstanceARN: appA, AdminARN: u.ARN, Created: Start}
	ep := newEndpoint(u.ARN, "e1")
	key := newKey("k1", u.ARN)
	e.create(newApp(appA), u, b, admin, ep, key)
	e.update(func(tx carillon.Tx) error {
		return tx.AppendEvent(&carillon.Event{Type: "T"})
	})
	before := snapshot(e, appA)

	// Every write method, each with arguments that would succeed in an
	// Update.
	writes := map[string]func(tx carillon.Tx) error{
		"CreateAppInstance":    func(tx carillon.Tx) error { return tx.CreateAppInstance(newApp(appB)) },
		"UpdateAppInstance":    func(tx carillon.Tx) error { return tx.UpdateAppInstance(newApp(appA)) },
		"DeleteAppInstance":    func(tx carillon.Tx) error { return tx.DeleteAppInstance(appA) },
		"PutRetentionSettings": func(tx carillon.Tx) error { return tx.PutRetentionSettings(appA, &carillon.RetentionSettings{}) },
		"CreateUser":           func(tx carillon.Tx) error { return tx.CreateUser(newUser(appA, "u2")) },
		"UpdateUser":           func(tx carillon.Tx) error { return tx.UpdateUser(u) },
		"DeleteUser":           func(tx carillon.Tx) error { return tx.DeleteUser(u.ARN) },
		"CreateBot":            func(tx carillon.Tx) error { return tx.CreateBot(newBot(appA, "b2")) },
		"UpdateBot":            func(tx carillon.Tx) error { return tx.UpdateBot(b) },
		"DeleteBot":            func(tx carillon.Tx) error { return tx.DeleteBot(b.ARN) },
		"CreateAdmin": func(tx carillon.Tx) error {
			return tx.CreateAdmin(&carillon.AppInstanceAdmin{AppInstanceARN: appA, AdminARN: b.ARN})
		},
		"DeleteAdmin":    func(tx carillon.Tx) error { return tx.DeleteAdmin(appA, u.ARN) },
		"CreateEndpoint": func(tx carillon.Tx) error { return tx.CreateEndpoint(newEndpoint(u.ARN, "e2")) },
		"UpdateEndpoint": func(tx carillon.Tx) error { return tx.UpdateEndpoint(ep) },
		"DeleteEndpoint": func(tx carillon.Tx) error { return tx.DeleteEndpoint(u.ARN, ep.ID) },
		"PutTags":        func(tx carillon.Tx) error { return tx.PutTags(appA, []carillon.Tag{{Key: "k", Value: "v"}}) },
		"DeleteTags":     func(tx carillon.Tx) error { return tx.DeleteTags(appA, []string{"k"}) },
		"PutIdempotent":  func(tx carillon.Tx) error { return tx.PutIdempotent("s", "t", "r") },
		"SetChannelLastMessageAt": func(tx carillon.Tx) error {
			return tx.SetChannelLastMessageAt(channelARN(appA, "c"), Start)
		},
		"ClaimIdempotent": func(tx carillon.Tx) error {
			_, _, err := tx.ClaimIdempotent("s", "t", "r")
			return err
		},
		"DeleteIdempotentBefore": func(tx carillon.Tx) error {
			_, err := tx.DeleteIdempotentBefore(Start.Add(time.Hour), 1)
			return err
		},
		"CreateAccessKey":     func(tx carillon.Tx) error { return tx.CreateAccessKey(newKey("k2", u.ARN)) },
		"DeleteAccessKey":     func(tx carillon.Tx) error { return tx.DeleteAccessKey(key.ID) },
		"AppendEvent":         func(tx carillon.Tx) error { return tx.AppendEvent(&carillon.Event{Type: "T"}) },
		"DeleteEventsThrough": func(tx carillon.Tx) error { return tx.DeleteEventsThrough(1 << 62) },
	}
	e.view(func(tx carillon.Tx) error {
		for name, write := range writes {
			wantErr(t, name+" in a View", write(tx), carillon.ErrReadOnly)
		}
		return nil
	})
	check(t, "the AppInstance after writes in a View", snapshot(e, appA), before)
	e.view(func(tx carillon.Tx) error {
		if _, found, err := tx.Idempotent("s", "t"); found || err != nil {
			t.Errorf("Idempotent after PutIdempotent in a View = %v, %v", found, err)
		}
		evs, err := tx.Events(0, 0)
		noErr(t, "Events", err)
		if len(evs) != 1 {
			t.Errorf("%d events after writes in a View, want 1", len(evs))
		}
		return nil
	})

	// View returns its function's error.
	if err := e.s.View(e.ctx, func(tx carillon.Tx) error { return errRollback }); !errors.Is(err, errRollback) {
		t.Errorf("View returned %v, want the error of its function", err)
	}
}

// testViewSnapshot: a View reads one snapshot, even when an Update commits
// while it runs.
func testViewSnapshot(e *env) {
	t := e.t
	e.create(newApp(appA), newUser(appA, "u1"))
	e.view(func(tx carillon.Tx) error {
		first, err := tx.ListUsers(appA, carillon.Page{})
		if err != nil {
			return err
		}
		done := make(chan error, 1)
		go func() {
			done <- e.s.Update(e.ctx, func(tx carillon.Tx) error {
				if err := tx.CreateUser(newUser(appA, "u2")); err != nil {
					return err
				}
				return tx.UpdateAppInstance(&carillon.AppInstance{ARN: appA, Name: "changed"})
			})
		}()
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("an Update during a View: %w", err)
			}
		case <-time.After(30 * time.Second):
			return errors.New("an Update waited for a View to end")
		}
		second, err := tx.ListUsers(appA, carillon.Page{})
		if err != nil {
			return err
		}
		check(t, "users listed again in the same View", second, first)
		a, err := tx.GetAppInstance(appA)
		if err != nil {
			return err
		}
		check(t, "AppInstance read in a View after an Update committed", a, newApp(appA))
		return nil
	})
	// A new View sees the Update.
	n := read(e, func(tx carillon.Tx) ([]carillon.AppInstanceUser, error) { return tx.ListUsers(appA, carillon.Page{}) })
	check(t, "users in a later View", len(n), 2)
}

// testConcurrentUpdates runs read-modify-write transactions from several
// goroutines at once, with Views beside them: none fails, and no update is
// lost, as serializable transactions promise. Sequence numbers of the
// events they append are unique.
func testConcurrentUpdates(e *env) {
	t := e.t
	e.create(newApp(appA))
	const workers, rounds = 4, 10
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seqs = map[int64]bool{}
	)
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				ev := &carillon.Event{Type: "T"}
				err := e.s.Update(e.ctx, func(tx carillon.Tx) error {
					a, err := tx.GetAppInstance(appA)
					if err != nil {
						return err
					}
					n, _ := strconv.Atoi(a.Metadata)
					a.Metadata = strconv.Itoa(n + 1)
					if err := tx.UpdateAppInstance(a); err != nil {
						return err
					}
					return tx.AppendEvent(ev)
				})
				if err != nil {
					t.Errorf("worker %d round %d: Update: %v", w, r, err)
					return
				}
				mu.Lock()
				if seqs[ev.Seq] {
					t.Errorf("Seq %d handed out twice", ev.Seq)
				}
				seqs[ev.Seq] = true
				mu.Unlock()
				if err := e.s.View(e.ctx, func(tx carillon.Tx) error {
					_, err := tx.GetAppInstance(appA)
					return err
				}); err != nil {
					t.Errorf("worker %d round %d: View: %v", w, r, err)
					return
				}
			}
		})
	}
	wg.Wait()
	a := read(e, func(tx carillon.Tx) (*carillon.AppInstance, error) { return tx.GetAppInstance(appA) })
	if want := strconv.Itoa(workers * rounds); a.Metadata != want {
		t.Errorf("counter = %s after %d increments", a.Metadata, workers*rounds)
	}
	evs := read(e, func(tx carillon.Tx) ([]carillon.Event, error) { return tx.Events(0, 0) })
	if len(evs) != workers*rounds {
		t.Errorf("%d events, want %d", len(evs), workers*rounds)
	}
}
