package storecache

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/storetest"
)

// TestRandomized runs transactions on many goroutines that write
// memberships, moderator roles, bans, channels, users and admin roles,
// and delete and recreate whole AppInstances, some of them rolled back
// or panicking, and that read through Updates and Views; every read
// through the cache must equal what the store answers in the same
// transaction. It runs over the SQLite store as it is, and over a stand-in
// for group commit that runs concurrent Updates in one transaction, with
// room for every row and with room for a few.
func TestRandomized(t *testing.T) {
	for _, batched := range []bool{false, true} {
		for _, size := range []int{0, 12} {
			t.Run(fmt.Sprintf("batched=%v/size=%d", batched, size), func(t *testing.T) {
				clock := storetest.NewFakeClock(storetest.Start)
				var inner carillon.Store = openSQLite(t, clock)
				if batched {
					b := newBatcher(inner)
					defer b.close()
					inner = b
				}
				c := New(inner, Options{Size: size})
				defer c.Close()
				runRandomized(t, c, clock)
				s := c.Stats()
				total := s.Total()
				t.Logf("reads %+v, channel %+v, membership %+v, evictions %d", total, s.Reads["channel"], s.Reads["membership"], s.Evictions)
				if total.Hits == 0 || total.Misses == 0 || total.Bypasses == 0 {
					t.Errorf("the test did not exercise hits, misses and bypasses: %+v", total)
				}
				c.mu.Lock()
				defer c.mu.Unlock()
				// Over the SQLite store's group commit, Updates read rows
				// that the Updates before them in the batch wrote.
				t.Logf("%d reads of rows written in flight", c.latestReads)
				if !batched && c.latestReads == 0 {
					t.Errorf("the test read no row written by an earlier Update of its batch")
				}
				if c.global.inflight != 0 {
					t.Errorf("global scope left in flight: %d", c.global.inflight)
				}
				for k, r := range c.recs {
					if r.inflight != 0 {
						t.Errorf("%v left in flight: %d", k, r.inflight)
					}
				}
			})
		}
	}
}

// The world of the test: two AppInstances, A with users, bots and
// channels, B (deleted and recreated now and then) with one of each.
const (
	appA = "arn:aws:chime:us-east-1:111122223333:app-instance/a"
	appB = "arn:aws:chime:us-east-1:111122223333:app-instance/b"
)

type world struct {
	bearers  []string // of A, then of B
	bots     map[string]bool
	channels []string
	appOf    map[string]string
}

func newWorld() *world {
	w := &world{bots: map[string]bool{}, appOf: map[string]string{}}
	for i := range 5 {
		w.bearers = append(w.bearers, fmt.Sprintf("%s/user/u%d", appA, i))
	}
	for i := range 2 {
		b := fmt.Sprintf("%s/bot/b%d", appA, i)
		w.bearers = append(w.bearers, b)
		w.bots[b] = true
	}
	for i := range 3 {
		w.channels = append(w.channels, fmt.Sprintf("%s/channel/c%d", appA, i))
	}
	w.bearers = append(w.bearers, appB+"/user/ub")
	w.channels = append(w.channels, appB+"/channel/cb")
	for _, a := range append(append([]string{}, w.bearers...), w.channels...) {
		w.appOf[a] = appA
		if len(a) > len(appB) && a[:len(appB)] == appB {
			w.appOf[a] = appB
		}
	}
	return w
}

// createApp creates an AppInstance with its bearers and channels.
func (w *world) createApp(tx carillon.Tx, app string) error {
	if err := tx.CreateAppInstance(&carillon.AppInstance{ARN: app, Name: app}); err != nil {
		return err
	}
	for _, b := range w.bearers {
		if w.appOf[b] == app {
			if err := w.createBearer(tx, b, "first"); err != nil {
				return err
			}
		}
	}
	for _, ch := range w.channels {
		if w.appOf[ch] == app {
			if err := tx.CreateChannel(&carillon.Channel{ARN: ch, AppInstanceARN: app, Name: "first", Mode: "RESTRICTED", Privacy: "PRIVATE",
				Elastic: &carillon.ElasticConfig{MaximumSubChannels: 2}}); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *world) createBearer(tx carillon.Tx, arn, name string) error {
	if w.bots[arn] {
		return tx.CreateBot(&carillon.AppInstanceBot{ARN: arn, AppInstanceARN: w.appOf[arn], Name: name})
	}
	return tx.CreateUser(&carillon.AppInstanceUser{ARN: arn, AppInstanceARN: w.appOf[arn], Name: name})
}

func runRandomized(t *testing.T, c *Cache, clock *storetest.FakeClock) {
	ctx := t.Context()
	w := newWorld()
	if err := c.Update(ctx, func(tx carillon.Tx) error {
		if err := w.createApp(tx, appA); err != nil {
			return err
		}
		return w.createApp(tx, appB)
	}); err != nil {
		t.Fatal(err)
	}
	const workers, rounds = 8, 120
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	var wg sync.WaitGroup
	for g := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), seed))
			for round := range rounds {
				if t.Failed() {
					return
				}
				clock.Advance(time.Duration(r.IntN(1_000_000)) * time.Microsecond)
				var err error
				if r.IntN(2) == 0 {
					err = c.View(ctx, func(tx carillon.Tx) error {
						for range 1 + r.IntN(12) {
							w.checkRead(t, r, tx)
							if r.IntN(4) == 0 {
								time.Sleep(time.Duration(r.IntN(200)) * time.Microsecond)
							}
						}
						return nil
					})
				} else {
					err = w.randomUpdate(t, ctx, c, r)
				}
				if err != nil && !errors.Is(err, errRolledBack) {
					t.Errorf("worker %d round %d: %v", g, round, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

var errRolledBack = errors.New("rolled back on purpose")

// randomUpdate runs an Update of a few random writes, with reads checked
// between them, that commits, fails or panics.
func (w *world) randomUpdate(t *testing.T, ctx context.Context, c *Cache, r *rand.Rand) (err error) {
	panicking := r.IntN(40) == 0
	defer func() {
		if p := recover(); p != nil {
			if !panicking {
				panic(p)
			}
			err = nil
		}
	}()
	return c.Update(ctx, func(tx carillon.Tx) error {
		for range 1 + r.IntN(4) {
			if err := w.randomWrite(tx, r); err != nil && !errors.Is(err, carillon.ErrNotFound) && !errors.Is(err, carillon.ErrExists) {
				return err
			}
			for range r.IntN(4) {
				w.checkRead(t, r, tx)
			}
		}
		switch {
		case panicking:
			panic("on purpose")
		case r.IntN(5) == 0:
			return errRolledBack
		}
		return nil
	})
}

func (w *world) pick(r *rand.Rand, from []string) string { return from[r.IntN(len(from))] }

func (w *world) randomWrite(tx carillon.Tx, r *rand.Rand) error {
	ch, b := w.pick(r, w.channels), w.pick(r, w.bearers)
	now := tx.Now()
	switch n := r.IntN(100); {
	case n < 12:
		return tx.CreateMembership(&carillon.Membership{ChannelARN: ch, MemberARN: b, Type: "DEFAULT", InvitedBy: w.pick(r, w.bearers), Created: now, Updated: now})
	case n < 24: // UpdateChannelReadMarker
		m, err := tx.GetMembership(ch, b)
		if err != nil {
			return err
		}
		m.ReadMarker, m.Updated = now.Add(time.Duration(r.IntN(1000))*time.Microsecond), now
		if r.IntN(2) == 0 {
			m.Type = "HIDDEN"
			m.Preferences = &carillon.MembershipPreferences{AllowNotifications: "NONE"}
		}
		return tx.UpdateMembership(m)
	case n < 30:
		return tx.DeleteMembership(ch, b)
	case n < 36:
		return tx.CreateModerator(&carillon.Moderator{ChannelARN: ch, ModeratorARN: b, Created: now})
	case n < 40:
		return tx.DeleteModerator(ch, b)
	case n < 46:
		return tx.CreateBan(&carillon.Ban{ChannelARN: ch, MemberARN: b, Created: now})
	case n < 50:
		return tx.DeleteBan(ch, b)
	case n < 60: // SendChannelMessage
		if _, err := tx.GetChannel(ch); err != nil {
			return err
		}
		return tx.SetChannelLastMessageAt(ch, now.Add(time.Duration(r.IntN(1000))*time.Microsecond))
	case n < 70: // UpdateChannel
		c, err := tx.GetChannel(ch)
		if err != nil {
			return err
		}
		c.LastMessageAt = now.Add(time.Duration(r.IntN(1000)) * time.Microsecond)
		if r.IntN(4) == 0 {
			c.Name = fmt.Sprint("name ", r.IntN(100))
			c.Elastic = nil
		}
		return tx.UpdateChannel(c)
	case n < 73:
		if err := tx.DeleteChannel(ch); err != nil {
			return err
		}
		return tx.CreateChannel(&carillon.Channel{ARN: ch, AppInstanceARN: w.appOf[ch], Name: "again", Mode: "UNRESTRICTED", Privacy: "PUBLIC", Created: now})
	case n < 80:
		if w.bots[b] {
			return tx.UpdateBot(&carillon.AppInstanceBot{ARN: b, Name: fmt.Sprint("bot ", r.IntN(100)), Updated: now})
		}
		return tx.UpdateUser(&carillon.AppInstanceUser{ARN: b, Name: fmt.Sprint("user ", r.IntN(100)), Updated: now})
	case n < 84:
		if w.bots[b] {
			if err := tx.DeleteBot(b); err != nil {
				return err
			}
		} else if err := tx.DeleteUser(b); err != nil {
			return err
		}
		if r.IntN(3) == 0 {
			return nil // recreated by a later round, or not
		}
		return w.createBearer(tx, b, "again")
	case n < 86:
		return w.createBearer(tx, b, "again")
	case n < 92:
		return tx.CreateAdmin(&carillon.AppInstanceAdmin{AppInstanceARN: w.appOf[b], AdminARN: b, Created: now})
	case n < 96:
		return tx.DeleteAdmin(w.appOf[b], b)
	case n < 98:
		// A write the cache does not mark: it must change nothing kept.
		return tx.CreateSubChannel(&carillon.SubChannel{ChannelARN: ch, ID: fmt.Sprint(r.IntN(3)), Created: now})
	default:
		if err := tx.DeleteAppInstance(appB); err != nil {
			return err
		}
		return w.createApp(tx, appB)
	}
}

// checkRead reads a random row through the cache and through the store,
// in tx, and fails the test when they differ.
func (w *world) checkRead(t *testing.T, r *rand.Rand, x carillon.Tx) {
	t.Helper()
	itx := inner(x)
	ch, b := w.pick(r, w.channels), w.pick(r, w.bearers)
	var got, want any
	var err, werr error
	var what string
	switch r.IntN(7) {
	case 0:
		what = "bearer " + b
		if w.bots[b] {
			got, err = x.GetBot(b)
			want, werr = itx.GetBot(b)
		} else {
			got, err = x.GetUser(b)
			want, werr = itx.GetUser(b)
		}
	case 1:
		what = "admin " + b
		got, err = x.GetAdmin(w.appOf[b], b)
		want, werr = itx.GetAdmin(w.appOf[b], b)
	case 2, 3:
		what = "channel " + ch
		got, err = x.GetChannel(ch)
		want, werr = itx.GetChannel(ch)
	case 4:
		what = "membership " + ch + " " + b
		got, err = x.GetMembership(ch, b)
		want, werr = itx.GetMembership(ch, b)
	case 5:
		what = "moderator " + ch + " " + b
		got, err = x.GetModerator(ch, b)
		want, werr = itx.GetModerator(ch, b)
	default:
		what = "ban " + ch + " " + b
		got, err = x.GetBan(ch, b)
		want, werr = itx.GetBan(ch, b)
	}
	if err != nil && !errors.Is(err, carillon.ErrNotFound) {
		t.Errorf("%s: %v", what, err)
		return
	}
	kind := "View"
	if x.(*tx).u != nil {
		kind = "Update"
	}
	sameRead(t, kind+": "+what, got, err, want, werr)
}

// batcher stands in for group commit: it runs the functions of the
// Updates that queue while a batch runs in one transaction of the store,
// one after the other, and answers them all once it committed. Without
// savepoints, a function that fails fails its whole batch, which is the
// rule of a batch that fails to commit.
type batcher struct {
	carillon.Store
	queue chan *batchRequest
	done  chan struct{}
}

type batchRequest struct {
	ctx   context.Context
	fn    func(carillon.Tx) error
	err   error
	panic any
	done  chan struct{}
}

func newBatcher(inner carillon.Store) *batcher {
	b := &batcher{Store: inner, queue: make(chan *batchRequest, 64), done: make(chan struct{})}
	go b.run()
	return b
}

func (b *batcher) close() { close(b.queue); <-b.done }

func (b *batcher) Update(ctx context.Context, fn func(carillon.Tx) error) error {
	req := &batchRequest{ctx: ctx, fn: fn, done: make(chan struct{})}
	b.queue <- req
	<-req.done
	if req.panic != nil {
		panic(req.panic)
	}
	return req.err
}

func (b *batcher) run() {
	defer close(b.done)
	for first := range b.queue {
		batch := []*batchRequest{first}
		// Whatever queued meanwhile, after a moment for more to come.
		time.Sleep(50 * time.Microsecond)
	drain:
		for len(batch) < 8 {
			select {
			case req, ok := <-b.queue:
				if !ok {
					break drain
				}
				batch = append(batch, req)
			default:
				break drain
			}
		}
		err := b.Store.Update(first.ctx, func(tx carillon.Tx) error {
			for _, req := range batch {
				if err := b.runOne(req, tx); err != nil {
					return err
				}
			}
			return nil
		})
		for _, req := range batch {
			if req.err == nil && req.panic == nil && err != nil {
				req.err = fmt.Errorf("%w: the batch failed: %v", errRolledBack, err)
			}
			close(req.done)
		}
	}
}

func (b *batcher) runOne(req *batchRequest, tx carillon.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			req.panic = p
			err = fmt.Errorf("%w: panic: %v", errRolledBack, p)
		}
	}()
	req.err = req.fn(tx)
	return req.err
}
