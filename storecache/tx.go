package storecache

import (
	"errors"
	"time"

	"github.com/carillonhq/carillon"
)

// tx is the decorator's transaction: the store's, with the reads of the
// rows the cache keeps served from memory and every write that changes
// one of them marked. The methods it does not declare go to the store's
// transaction unchanged; TestEveryTxMethodIsClassified lists why each may.
type tx struct {
	carillon.Tx
	c *Cache
	// u is the Update's state; nil in a View.
	u *update
	// start is the clock when the View began (unused in an Update).
	start uint64
	// pinned: the View has read the store, which fixed its snapshot.
	pinned bool
}

// get reads the row k through the cache. load reads it from the store's
// transaction; clone copies a row deeply.
func get[T any](t *tx, k key, clone func(*T) *T, load func(itx carillon.Tx, a, b string) (*T, error)) (*T, error) {
	c := t.c
	// A View's snapshot is taken by its first read of the store, which
	// may come after the View began: a row from memory, right as of start,
	// could differ from a row the store gives later in the same View,
	// changed in between. So its first read goes to the store, and the
	// later ones may come from memory: a row that changes after the
	// snapshot is in flight or changed after start, and is read from the
	// store.
	first := t.u == nil && !t.pinned
	t.pinned = true
	c.mu.Lock()
	if c.global.inflight > 0 {
		c.reads[k.k][bypass]++
		c.mu.Unlock()
		return loadBypass(t, k, clone, load)
	}
	r := c.row(k)
	if t.u != nil && r.latest != nil && r.inflight > 0 && !r.scopeBusy() {
		// Written by an Update before this one in the open transaction,
		// which is what the store would answer.
		c.touch(r)
		c.reads[k.k][hit]++
		c.latestReads++
		v := r.latest
		c.mu.Unlock()
		t.notePre(k, v)
		return clone(v.(*T)), nil
	}
	if r.busy() || (t.u == nil && (r.changedAfter(t.start) || c.global.lastChange > t.start)) {
		// A write is in flight, or the row changed since this View's
		// snapshot may have been taken.
		c.reads[k.k][bypass]++
		c.mu.Unlock()
		return loadBypass(t, k, clone, load)
	}
	switch {
	case first:
		c.reads[k.k][snapshot]++
	case c.valid(r):
		c.touch(r)
		c.reads[k.k][hit]++
		v := r.val
		var err error
		if r.absent {
			err = (*notFound)(&r.key)
		}
		c.mu.Unlock()
		if err != nil {
			t.notePre(k, nil)
			return nil, err
		}
		t.notePre(k, v)
		return clone(v.(*T)), nil
	default:
		c.reads[k.k][miss]++
	}
	// What this read may keep must not have changed after bound: for an
	// Update, which sees everything committed, now; for a View, its start.
	bound := c.clock.Load()
	if t.u == nil {
		bound = t.start
	}
	c.mu.Unlock()

	v, err := load(t.Tx, k.a, k.b)
	if err != nil && !errors.Is(err, carillon.ErrNotFound) {
		t.notePre(k, nil)
		return v, err
	}
	var private any
	if err == nil {
		private = clone(v)
	} else {
		v = nil
	}
	c.mu.Lock()
	if !r.evicted && !r.busy() && !r.changedAfter(bound) && c.global.inflight == 0 && c.global.lastChange <= bound {
		r.has, r.val, r.absent, r.validFrom = true, private, err != nil, c.clock.Load()
	}
	c.mu.Unlock()
	t.notePre(k, private)
	return v, err
}

// loadBypass reads from the store without the cache.
func loadBypass[T any](t *tx, k key, clone func(*T) *T, load func(itx carillon.Tx, a, b string) (*T, error)) (*T, error) {
	v, err := load(t.Tx, k.a, k.b)
	if keepsPre(k.k) {
		if err == nil {
			t.notePre(k, clone(v))
		} else {
			t.notePre(k, nil)
		}
	}
	return v, err
}

// keepsPre reports whether an Update remembers the rows of kind k it
// reads: those of the writes the cache writes through.
func keepsPre(k kind) bool { return k == kChannel || k == kMembership }

// notePre remembers v (private to the cache, never mutated) as the row k
// as this Update's function last saw it; nil: absent or unknown.
func (t *tx) notePre(k key, v any) {
	if t.u == nil || !keepsPre(k.k) {
		return
	}
	for i := range t.u.pre {
		if t.u.pre[i].key == k {
			t.u.pre[i].val = v
			return
		}
	}
	if v != nil {
		t.u.pre = append(t.u.pre, preRow{key: k, val: v})
	}
}

// takePre returns the row k as this Update's function last saw it, or
// nil, and forgets it.
func (t *tx) takePre(k key) any {
	for i := range t.u.pre {
		if t.u.pre[i].key == k {
			v := t.u.pre[i].val
			t.u.pre[i].val = nil
			return v
		}
	}
	return nil
}

// Marks. In a View the writes go straight to the store, which refuses
// them (ErrReadOnly) without changing anything.

// markRow marks a write of the row k and forgets what the function saw
// of it; it returns the mark's index.
func (t *tx) markRow(k key) int {
	t.takePre(k)
	return t.c.mark(t.u, k)
}

// markScope marks a write of rows of a scope. What the function saw of
// any row may be changed by it.
func (t *tx) markScope(k key) {
	t.u.pre = t.u.pre[:0]
	t.c.mark(t.u, k)
}

// writeThrough records the row as the write at mark i left it.
func (t *tx) writeThrough(i int, k key, v any) {
	t.u.marks[i].val = v
	t.c.setLatest(t.u, i, v)
	t.notePre(k, v)
}

// Reads.

func (t *tx) GetUser(arn string) (*carillon.AppInstanceUser, error) {
	return get(t, key{k: kUser, a: arn}, cloneUser, func(itx carillon.Tx, a, _ string) (*carillon.AppInstanceUser, error) {
		return itx.GetUser(a)
	})
}

func (t *tx) GetBot(arn string) (*carillon.AppInstanceBot, error) {
	return get(t, key{k: kBot, a: arn}, cloneBot, func(itx carillon.Tx, a, _ string) (*carillon.AppInstanceBot, error) {
		return itx.GetBot(a)
	})
}

func (t *tx) GetAdmin(appInstanceARN, adminARN string) (*carillon.AppInstanceAdmin, error) {
	return get(t, key{k: kAdmin, a: appInstanceARN, b: adminARN}, cloneAdmin, func(itx carillon.Tx, a, b string) (*carillon.AppInstanceAdmin, error) {
		return itx.GetAdmin(a, b)
	})
}

func (t *tx) GetChannel(arn string) (*carillon.Channel, error) {
	return get(t, key{k: kChannel, a: arn}, cloneChannel, func(itx carillon.Tx, a, _ string) (*carillon.Channel, error) {
		return itx.GetChannel(a)
	})
}

func (t *tx) GetMembership(channelARN, memberARN string) (*carillon.Membership, error) {
	return get(t, key{k: kMembership, a: channelARN, b: memberARN}, cloneMembership, func(itx carillon.Tx, a, b string) (*carillon.Membership, error) {
		return itx.GetMembership(a, b)
	})
}

func (t *tx) GetModerator(channelARN, moderatorARN string) (*carillon.Moderator, error) {
	return get(t, key{k: kModerator, a: channelARN, b: moderatorARN}, cloneModerator, func(itx carillon.Tx, a, b string) (*carillon.Moderator, error) {
		return itx.GetModerator(a, b)
	})
}

func (t *tx) GetBan(channelARN, memberARN string) (*carillon.Ban, error) {
	return get(t, key{k: kBan, a: channelARN, b: memberARN}, cloneBan, func(itx carillon.Tx, a, b string) (*carillon.Ban, error) {
		return itx.GetBan(a, b)
	})
}

// Writes of users and bots: the row, and the admin roles, memberships,
// moderator roles and bans that name the bearer (DeleteUser deletes them,
// and the member name in them is the user's or bot's).

func (t *tx) CreateUser(u *carillon.AppInstanceUser) error {
	if t.u != nil {
		t.markScope(key{k: sBearer, a: u.ARN})
	}
	return t.Tx.CreateUser(u)
}

func (t *tx) UpdateUser(u *carillon.AppInstanceUser) error {
	if t.u != nil {
		t.markScope(key{k: sBearer, a: u.ARN})
	}
	return t.Tx.UpdateUser(u)
}

func (t *tx) DeleteUser(arn string) error {
	if t.u != nil {
		t.markScope(key{k: sBearer, a: arn})
	}
	return t.Tx.DeleteUser(arn)
}

func (t *tx) CreateBot(b *carillon.AppInstanceBot) error {
	if t.u != nil {
		t.markScope(key{k: sBearer, a: b.ARN})
	}
	return t.Tx.CreateBot(b)
}

func (t *tx) UpdateBot(b *carillon.AppInstanceBot) error {
	if t.u != nil {
		t.markScope(key{k: sBearer, a: b.ARN})
	}
	return t.Tx.UpdateBot(b)
}

func (t *tx) DeleteBot(arn string) error {
	if t.u != nil {
		t.markScope(key{k: sBearer, a: arn})
	}
	return t.Tx.DeleteBot(arn)
}

// DeleteAppInstance deletes everything under the AppInstance: every kind
// of row the cache keeps.
func (t *tx) DeleteAppInstance(arn string) error {
	if t.u != nil {
		t.u.pre = t.u.pre[:0]
		t.c.markGlobal(t.u)
	}
	return t.Tx.DeleteAppInstance(arn)
}

func (t *tx) CreateAdmin(a *carillon.AppInstanceAdmin) error {
	if t.u != nil {
		t.markRow(key{k: kAdmin, a: a.AppInstanceARN, b: a.AdminARN})
	}
	return t.Tx.CreateAdmin(a)
}

func (t *tx) DeleteAdmin(appInstanceARN, adminARN string) error {
	if t.u != nil {
		t.markRow(key{k: kAdmin, a: appInstanceARN, b: adminARN})
	}
	return t.Tx.DeleteAdmin(appInstanceARN, adminARN)
}

// Writes of channels.

func (t *tx) CreateChannel(ch *carillon.Channel) error {
	if t.u != nil {
		t.markRow(key{k: kChannel, a: ch.ARN})
	}
	return t.Tx.CreateChannel(ch)
}

// UpdateChannel: the row it leaves is written through, so that the next
// request on the channel finds it in memory.
func (t *tx) UpdateChannel(ch *carillon.Channel) error {
	if t.u == nil {
		return t.Tx.UpdateChannel(ch)
	}
	k := key{k: kChannel, a: ch.ARN}
	pre := t.takePre(k)
	i := t.c.mark(t.u, k)
	if err := t.Tx.UpdateChannel(ch); err != nil {
		return err
	}
	if pre != nil {
		t.writeThrough(i, k, updatedChannel(pre.(*carillon.Channel), ch))
	}
	return nil
}

// SetChannelLastMessageAt is the write of every persistent message: the
// row it leaves is written through, as UpdateChannel's is.
func (t *tx) SetChannelLastMessageAt(arn string, at time.Time) error {
	if t.u == nil {
		return t.Tx.SetChannelLastMessageAt(arn, at)
	}
	k := key{k: kChannel, a: arn}
	pre := t.takePre(k)
	i := t.c.mark(t.u, k)
	if err := t.Tx.SetChannelLastMessageAt(arn, at); err != nil {
		return err
	}
	if pre != nil {
		n := cloneChannel(pre.(*carillon.Channel))
		n.LastMessageAt = storedTime(at)
		t.writeThrough(i, k, n)
	}
	return nil
}

// DeleteChannel deletes the channel with its memberships, moderator roles
// and bans.
func (t *tx) DeleteChannel(arn string) error {
	if t.u != nil {
		t.markRow(key{k: kChannel, a: arn})
		t.markScope(key{k: sChannel, a: arn})
	}
	return t.Tx.DeleteChannel(arn)
}

// Writes of memberships, moderator roles and bans.

func (t *tx) CreateMembership(m *carillon.Membership) error {
	if t.u != nil {
		t.markRow(key{k: kMembership, a: m.ChannelARN, b: m.MemberARN})
	}
	return t.Tx.CreateMembership(m)
}

// UpdateMembership is the write of UpdateChannelReadMarker: written
// through like UpdateChannel.
func (t *tx) UpdateMembership(m *carillon.Membership) error {
	if t.u == nil {
		return t.Tx.UpdateMembership(m)
	}
	k := key{k: kMembership, a: m.ChannelARN, b: m.MemberARN}
	pre := t.takePre(k)
	i := t.c.mark(t.u, k)
	if err := t.Tx.UpdateMembership(m); err != nil {
		return err
	}
	if pre != nil {
		t.writeThrough(i, k, updatedMembership(pre.(*carillon.Membership), m))
	}
	return nil
}

func (t *tx) DeleteMembership(channelARN, memberARN string) error {
	if t.u != nil {
		t.markRow(key{k: kMembership, a: channelARN, b: memberARN})
	}
	return t.Tx.DeleteMembership(channelARN, memberARN)
}

func (t *tx) CreateModerator(m *carillon.Moderator) error {
	if t.u != nil {
		t.markRow(key{k: kModerator, a: m.ChannelARN, b: m.ModeratorARN})
	}
	return t.Tx.CreateModerator(m)
}

func (t *tx) DeleteModerator(channelARN, moderatorARN string) error {
	if t.u != nil {
		t.markRow(key{k: kModerator, a: channelARN, b: moderatorARN})
	}
	return t.Tx.DeleteModerator(channelARN, moderatorARN)
}

func (t *tx) CreateBan(b *carillon.Ban) error {
	if t.u != nil {
		t.markRow(key{k: kBan, a: b.ChannelARN, b: b.MemberARN})
	}
	return t.Tx.CreateBan(b)
}

func (t *tx) DeleteBan(channelARN, memberARN string) error {
	if t.u != nil {
		t.markRow(key{k: kBan, a: channelARN, b: memberARN})
	}
	return t.Tx.DeleteBan(channelARN, memberARN)
}

// The rows as the Tx contract says a write leaves them.

// storedTime is t as the store gives it back: millisecond precision, UTC,
// the zero time as itself.
func storedTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return time.UnixMilli(t.UnixMilli()).UTC()
}

// updatedChannel is the row after UpdateChannel(ch) of the row pre: every
// field replaced but the ARN, the AppInstance, the creator and the
// creation time.
func updatedChannel(pre, ch *carillon.Channel) *carillon.Channel {
	n := cloneChannel(ch)
	n.ARN, n.AppInstanceARN, n.CreatedBy, n.Created = pre.ARN, pre.AppInstanceARN, pre.CreatedBy, pre.Created
	n.Updated = storedTime(ch.Updated)
	n.LastMessageAt = storedTime(ch.LastMessageAt)
	return n
}

// updatedMembership is the row after UpdateMembership(m) of the row pre:
// Type, SubChannelID, ReadMarker, Preferences and Updated replaced.
func updatedMembership(pre, m *carillon.Membership) *carillon.Membership {
	n := cloneMembership(pre)
	n.Type, n.SubChannelID = m.Type, m.SubChannelID
	n.ReadMarker, n.Updated = storedTime(m.ReadMarker), storedTime(m.Updated)
	n.Preferences = nil
	if m.Preferences != nil {
		p := *m.Preferences
		n.Preferences = &p
	}
	return n
}

// Deep copies: the services change the rows they read and write them back.

func cloneUser(u *carillon.AppInstanceUser) *carillon.AppInstanceUser {
	n := *u
	if u.Expiration != nil {
		e := *u.Expiration
		n.Expiration = &e
	}
	return &n
}

func cloneBot(b *carillon.AppInstanceBot) *carillon.AppInstanceBot {
	n := *b
	if b.Lex.InvokedBy != nil {
		i := *b.Lex.InvokedBy
		n.Lex.InvokedBy = &i
	}
	return &n
}

func cloneAdmin(a *carillon.AppInstanceAdmin) *carillon.AppInstanceAdmin {
	n := *a
	return &n
}

func cloneChannel(c *carillon.Channel) *carillon.Channel {
	n := *c
	if c.Elastic != nil {
		e := *c.Elastic
		n.Elastic = &e
	}
	if c.Expiration != nil {
		e := *c.Expiration
		n.Expiration = &e
	}
	return &n
}

func cloneMembership(m *carillon.Membership) *carillon.Membership {
	n := *m
	if m.Preferences != nil {
		p := *m.Preferences
		n.Preferences = &p
	}
	return &n
}

func cloneModerator(m *carillon.Moderator) *carillon.Moderator {
	n := *m
	return &n
}

func cloneBan(b *carillon.Ban) *carillon.Ban {
	n := *b
	return &n
}
