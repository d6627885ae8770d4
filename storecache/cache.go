package storecache

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"

	"github.com/carillonhq/carillon"
)

// DefaultSize is the number of row records a Cache keeps by default. A
// record holds one row (or its absence) of a few hundred bytes.
const DefaultSize = 100_000

// Options configure a Cache.
type Options struct {
	// Size bounds the row records kept; 0 means DefaultSize.
	Size int
}

// kind is the kind of a record: a row the cache keeps, or a scope.
type kind uint8

const (
	kUser       kind = iota // a: user ARN
	kBot                    // a: bot ARN
	kAdmin                  // a: AppInstance ARN, b: admin ARN
	kChannel                // a: channel ARN
	kMembership             // a: channel ARN, b: member ARN
	kModerator              // a: channel ARN, b: moderator ARN
	kBan                    // a: channel ARN, b: member ARN
	numRowKinds

	sBearer  = numRowKinds     // a: user or bot ARN
	sChannel = numRowKinds + 1 // a: channel ARN
)

var kindNames = [numRowKinds]string{"user", "bot", "admin", "channel", "membership", "moderator", "ban"}

// key names a record.
type key struct {
	k    kind
	a, b string
}

// record is what the cache knows of one row key, or of one scope.
type record struct {
	key key
	// inflight counts the transactions that wrote the row (or, for a
	// scope, rows of the scope) and whose Update has not returned.
	inflight int32
	// Scopes only: the row records that point to this one. A scope
	// record lives while a row record points to it or a write marks it.
	refs int32
	// lastChange is the clock when the last change completed: the
	// release of a write's mark, or an invalidation. A new record starts
	// at its floor.
	lastChange uint64
	// lastTicket is the clock of the latest write marked on the record.
	lastTicket uint64

	// Rows only. The fields are ordered to pack the record into 144
	// bytes: most rows a cache holds are absent ones, a few per user.
	has       bool // val and absent hold the row as of validFrom
	absent    bool // the row does not exist (val is nil)
	evicted   bool
	val       any // a private *T the cache never hands out; nil when absent
	validFrom uint64
	// latest is the row as the latest write in flight on it left it, in
	// the store's open transaction; nil when unknown. It is known when
	// that write's value is (write-through) and the engine tells the
	// cache if the write is undone (carillon.UndoNotifier): an Update
	// may then read the row from here even while writes are in flight,
	// since the engine runs Updates' functions one after the other, each
	// seeing the writes before it (the next request of a group-commit
	// batch reads the channel row the one before it wrote).
	latest any
	scopes [2]*record // the scope records the row depends on; nil: none
	prev   *record    // LRU list, the most recently used first
	next   *record
}

// notFound is the error a read of a row the cache holds as absent returns:
// ErrNotFound, naming the row by the record's key, with its text made
// only when asked for. Most rows the cache holds are absent (no ban, no
// moderator role), and the store's own error, formatted at the miss, was
// a quarter of their records (BenchmarkAbsentRowMemory).
type notFound key

func (k *notFound) Error() string {
	if k.b == "" {
		return fmt.Sprintf("storecache: %s %q: %v", kindNames[k.k], k.a, carillon.ErrNotFound)
	}
	return fmt.Sprintf("storecache: %s %q of %q: %v", kindNames[k.k], k.b, k.a, carillon.ErrNotFound)
}

func (k *notFound) Unwrap() error { return carillon.ErrNotFound }

func (r *record) isScope() bool { return r.key.k >= numRowKinds }

// busy reports whether a write of the row, or of a scope it belongs to,
// is in flight.
func (r *record) busy() bool {
	if r.inflight > 0 {
		return true
	}
	for _, s := range r.scopes {
		if s != nil && s.inflight > 0 {
			return true
		}
	}
	return false
}

// changedAfter reports whether the row or one of its scopes changed after
// clock t.
func (r *record) changedAfter(t uint64) bool {
	if r.lastChange > t {
		return true
	}
	for _, s := range r.scopes {
		if s != nil && s.lastChange > t {
			return true
		}
	}
	return false
}

// floorShards is the number of floors evicted records leave their last
// change time in: one would do, several keep an eviction from holding back
// the Views that read unrelated rows.
const floorShards = 64

// Cache is the decorator. It is safe for concurrent use.
type Cache struct {
	inner carillon.Store
	max   int
	seed  maphash.Seed

	// clock orders marks, releases and fills. It is written under mu
	// and read without it by View.
	clock atomic.Uint64

	mu     sync.Mutex
	recs   map[key]*record
	lru    record // sentinel of the row records' list
	rows   int
	floors [floorShards]uint64
	// global is the scope of every row: DeleteAppInstance and
	// InvalidateAppInstance.
	global record

	reads     [numRowKinds][numOutcomes]uint64
	evictions uint64
	// latestReads counts the hits served from record.latest (for the
	// tests: the metrics count them as hits).
	latestReads uint64
}

var _ carillon.Store = (*Cache)(nil)

// New returns inner with the cache in front of it.
func New(inner carillon.Store, o Options) *Cache {
	if o.Size <= 0 {
		o.Size = DefaultSize
	}
	c := &Cache{inner: inner, max: o.Size, seed: maphash.MakeSeed(), recs: make(map[key]*record)}
	c.lru.next, c.lru.prev = &c.lru, &c.lru
	return c
}

// Inner is the store under the cache.
func (c *Cache) Inner() carillon.Store { return c.inner }

// View runs fn in a read-only transaction of the store. The View's reads
// are served from memory only where the row has not changed since the
// View began, which its snapshot therefore shows.
func (c *Cache) View(ctx context.Context, fn func(tx carillon.Tx) error) error {
	start := c.clock.Load()
	return c.inner.View(ctx, func(itx carillon.Tx) error {
		return fn(&tx{Tx: itx, c: c, start: start})
	})
}

// Update runs fn in a read-write transaction of the store, and releases
// the marks of fn's writes once the store's Update returns, whatever it
// returns (or if fn panics).
func (c *Cache) Update(ctx context.Context, fn func(tx carillon.Tx) error) error {
	u := &update{}
	committed := false
	defer func() { c.release(u, committed) }()
	err := c.inner.Update(ctx, func(itx carillon.Tx) error {
		u.attempts++
		u.pre = u.pre[:0]
		if u.attempts > 1 {
			// The engine runs fn again: the last run's writes are gone.
			c.forgetLatest(u)
		}
		n, ok := itx.(carillon.UndoNotifier)
		u.undoable = ok && u.attempts == 1
		if u.undoable {
			n.OnUndo(func() { c.forgetLatest(u) })
		}
		return fn(&tx{Tx: itx, c: c, u: u})
	})
	committed = err == nil
	return err
}

// Ping pings the store.
func (c *Cache) Ping(ctx context.Context) error { return c.inner.Ping(ctx) }

// TryLock takes a lock of the store: locks guard work, not rows, so the
// cache has nothing to do with them.
func (c *Cache) TryLock(ctx context.Context, name string) (carillon.Lease, bool, error) {
	return c.inner.TryLock(ctx, name)
}

// Close closes the store.
func (c *Cache) Close() error { return c.inner.Close() }

// tick advances the clock and returns its new value. c.mu is held.
func (c *Cache) tick() uint64 { return c.clock.Add(1) }

func (c *Cache) shard(k key) int {
	var h maphash.Hash
	h.SetSeed(c.seed)
	h.WriteByte(byte(k.k))
	h.WriteString(k.a)
	h.WriteByte(0)
	h.WriteString(k.b)
	return int(h.Sum64() % floorShards)
}

// scopesOf returns the keys of the scopes a row depends on.
func scopesOf(k key) (s [2]key, n int) {
	switch k.k {
	case kUser, kBot:
		return [2]key{{k: sBearer, a: k.a}}, 1
	case kAdmin:
		return [2]key{{k: sBearer, a: k.b}}, 1
	case kMembership, kModerator, kBan:
		return [2]key{{k: sChannel, a: k.a}, {k: sBearer, a: k.b}}, 2
	}
	return s, 0
}

// row returns the record of a row key, making it if need be. c.mu is held.
func (c *Cache) row(k key) *record {
	if r := c.recs[k]; r != nil {
		return r
	}
	// Room first, so that the new record is not the one evicted.
	for c.rows >= c.max && c.evictOne() {
	}
	var scopes [2]*record
	sk, n := scopesOf(k)
	for i := range n {
		s := c.scope(sk[i])
		s.refs++
		scopes[i] = s
	}
	// The record keeps the ARNs of its key as long as it lives. Each
	// request parses its own copies, so the rows of one user or one
	// channel would each keep another copy of the same ARN: they share
	// their scope's instead (BenchmarkAbsentRowMemory). A channel row
	// depends on no scope, but shares the channel scope's ARN if there
	// is one.
	share := scopes
	if k.k == kChannel {
		share[0] = c.recs[key{k: sChannel, a: k.a}]
	}
	for _, s := range share {
		if s == nil {
			continue
		}
		if k.a == s.key.a {
			k.a = s.key.a
		}
		if k.b == s.key.a {
			k.b = s.key.a
		}
	}
	r := &record{key: k, lastChange: c.floors[c.shard(k)], scopes: scopes}
	c.recs[k] = r
	c.rows++
	c.pushFront(r)
	return r
}

// scope returns the record of a scope, making it if need be. c.mu is held.
func (c *Cache) scope(k key) *record {
	if s := c.recs[k]; s != nil {
		return s
	}
	s := &record{key: k, lastChange: c.floors[c.shard(k)]}
	c.recs[k] = s
	return s
}

// dropScope forgets a scope that no row points to and no write marks.
func (c *Cache) dropScope(s *record) {
	if s.refs > 0 || s.inflight > 0 {
		return
	}
	delete(c.recs, s.key)
	c.raiseFloor(s)
}

func (c *Cache) raiseFloor(r *record) {
	i := c.shard(r.key)
	c.floors[i] = max(c.floors[i], r.lastChange)
}

// evictOne evicts the least recently used row record that no write
// marks; false if there is none. c.mu is held.
func (c *Cache) evictOne() bool {
	for r := c.lru.prev; r != &c.lru; r = r.prev {
		if r.inflight > 0 {
			continue
		}
		c.unlink(r)
		delete(c.recs, r.key)
		c.rows--
		c.evictions++
		r.evicted = true
		r.has, r.val, r.absent = false, nil, false
		c.raiseFloor(r)
		for i, s := range r.scopes {
			if s != nil {
				s.refs--
				c.dropScope(s)
				r.scopes[i] = nil
			}
		}
		return true
	}
	return false
}

func (c *Cache) pushFront(r *record) {
	r.prev, r.next = &c.lru, c.lru.next
	r.next.prev = r
	c.lru.next = r
}

func (c *Cache) unlink(r *record) {
	r.prev.next, r.next.prev = r.next, r.prev
	r.prev, r.next = nil, nil
}

func (c *Cache) touch(r *record) {
	if c.lru.next != r {
		c.unlink(r)
		c.pushFront(r)
	}
}

// valid reports whether r's value is the row as it stands now (nothing
// in flight is checked by the caller).
func (c *Cache) valid(r *record) bool {
	return r.has && !r.changedAfter(r.validFrom) && c.global.lastChange <= r.validFrom
}

// update is the state of one Update across the runs of its function.
type update struct {
	attempts int
	// undoable: the engine tells u when its writes are undone, so
	// record.latest may hold them.
	undoable bool
	marks    []mark
	index    map[*record]int // marks by record, once there are many
	global   bool            // marked the global scope
	// pre holds the rows the current run of the function read or wrote
	// (channels and memberships), for write-through.
	pre []preRow
}

type mark struct {
	rec    *record
	ticket uint64
	// val is the row as the transaction's last write to it left it, when
	// known (write-through); nil otherwise.
	val any
}

type preRow struct {
	key key
	val any
}

// markIndexAfter is the number of marks past which update.index is kept.
const markIndexAfter = 16

// mark records a write of the row or scope k by u before the store sees
// it, and returns the mark's index in u.marks. c.mu is not held.
func (c *Cache) mark(u *update, k key) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	var r *record
	if k.k >= numRowKinds {
		r = c.scope(k)
	} else {
		r = c.row(k)
	}
	i, ok := u.find(r)
	if !ok {
		r.inflight++
		i = len(u.marks)
		u.marks = append(u.marks, mark{rec: r})
		if u.index != nil {
			u.index[r] = i
		} else if len(u.marks) > markIndexAfter {
			u.index = make(map[*record]int, 2*len(u.marks))
			for j, m := range u.marks {
				u.index[m.rec] = j
			}
		}
	}
	t := c.tick()
	r.lastTicket = t
	r.latest = nil // until the write's value is known
	u.marks[i].ticket = t
	u.marks[i].val = nil
	return i
}

// setLatest records v as the row mark i of u left it (writeThrough), for
// the Updates after u to read while the mark is held. c.mu is not held.
func (c *Cache) setLatest(u *update, i int, v any) {
	if !u.undoable {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if m := u.marks[i]; m.rec.lastTicket == m.ticket {
		m.rec.latest = v
	}
}

// forgetLatest forgets the values u's writes left: they were undone.
func (c *Cache) forgetLatest(u *update) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range u.marks {
		m.rec.latest = nil
	}
}

// scopeBusy reports whether a scope of r is in flight.
func (r *record) scopeBusy() bool {
	for _, s := range r.scopes {
		if s != nil && s.inflight > 0 {
			return true
		}
	}
	return false
}

func (u *update) find(r *record) (int, bool) {
	if u.index != nil {
		i, ok := u.index[r]
		return i, ok
	}
	for i, m := range u.marks {
		if m.rec == r {
			return i, true
		}
	}
	return 0, false
}

// markGlobal marks the global scope for u.
func (c *Cache) markGlobal(u *update) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !u.global {
		u.global = true
		c.global.inflight++
	}
	c.tick()
}

// release ends u's marks: the store's Update returned, committed or not.
// A row whose new value u knows is written through when u committed,
// ran its function once, made the last write to the row, and nothing it
// depends on changed since.
func (c *Cache) release(u *update, committed bool) {
	if len(u.marks) == 0 && !u.global {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.tick()
	if u.global {
		c.global.inflight--
		c.global.lastChange = now
	}
	for _, m := range u.marks {
		m.rec.inflight--
		m.rec.lastChange = now
		if m.rec.inflight == 0 {
			m.rec.latest = nil
		}
	}
	for _, m := range u.marks {
		r := m.rec
		if r.isScope() {
			c.dropScope(r)
			continue
		}
		r.has, r.val, r.absent = false, nil, false
		if committed && u.attempts == 1 && m.val != nil && r.inflight == 0 && r.lastTicket == m.ticket &&
			c.global.inflight == 0 && c.global.lastChange < m.ticket && !r.scopesChangedSince(m.ticket) {
			r.has, r.val, r.validFrom = true, m.val, now
		}
	}
}

// scopesChangedSince reports whether a scope of r is in flight or changed
// after clock t.
func (r *record) scopesChangedSince(t uint64) bool {
	for _, s := range r.scopes {
		if s != nil && (s.inflight > 0 || s.lastChange > t) {
			return true
		}
	}
	return false
}

// Invalidation from outside: the writes of other nodes of a cluster,
// which do not pass through this decorator.

// InvalidateChannel forgets a channel row and every membership, moderator
// role and ban of the channel.
func (c *Cache) InvalidateChannel(channelARN string) {
	c.invalidate(key{k: kChannel, a: channelARN}, key{k: sChannel, a: channelARN})
}

// InvalidateBearer forgets a user or bot (by ARN) and its admin roles,
// memberships, moderator roles and bans.
func (c *Cache) InvalidateBearer(arn string) {
	c.invalidate(key{k: sBearer, a: arn})
}

// InvalidateAppInstance forgets everything kept: the rows under an
// AppInstance are every kind the cache keeps, and dropping them all is as
// good as finding them.
func (c *Cache) InvalidateAppInstance(string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.global.lastChange = c.tick()
}

func (c *Cache) invalidate(keys ...key) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.tick()
	for _, k := range keys {
		// A record that is not here has nothing kept that depends on
		// it; its floor keeps the reads that began before now from
		// keeping what they read.
		if r := c.recs[k]; r != nil {
			r.lastChange = now
			r.has, r.val, r.absent, r.latest = false, nil, false, nil
		} else {
			c.floors[c.shard(k)] = now
		}
	}
}
