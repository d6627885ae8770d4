package storetest

// The conformance of JobsTx. Beyond what jobs.go (at the module root) documents, the
// suite checks these choices, which the jobs rely on:
//
//   - Expiry is an instant to the millisecond: due at exactly Days × 24 h
//     after the time counted from, not a millisecond before.
//   - Settings with Days <= 0 and channels or users with a zero Created
//     time never expire; an AppInstanceUser counts from Created whatever
//     its criterion says.
//   - Every write of a channel or user moves its expiry at once: new
//     settings, removed settings, a later LastMessageAt.
//   - DeleteMessagesBefore's limit counts across sub-channels; the
//     oldest messages of a sub-channel go first; "before" is strict.

import (
	"fmt"
	"time"

	"github.com/carillonhq/carillon"
)

// day is the unit of expiration and retention settings: 24 hours, whatever
// the calendar.
const day = 24 * time.Hour

func (e *env) expiredChannels(now time.Time, limit int) []string {
	e.t.Helper()
	return read(e, func(tx carillon.Tx) ([]string, error) { return tx.ExpiredChannels(now, limit) })
}

func (e *env) expiredUsers(now time.Time, limit int) []string {
	e.t.Helper()
	return read(e, func(tx carillon.Tx) ([]string, error) { return tx.ExpiredUsers(now, limit) })
}

func expiring(days int, criterion string) *carillon.ExpirationSettings {
	return &carillon.ExpirationSettings{Days: days, Criterion: criterion}
}

const (
	byCreated     = "CREATED_TIMESTAMP"
	byLastMessage = "LAST_MESSAGE_TIMESTAMP"
)

func testExpiredChannels(e *env) {
	t := e.t
	e.create(newApp(appA), newApp(appB))
	mk := func(app, id string, exp *carillon.ExpirationSettings, created, lastMessage time.Time) *carillon.Channel {
		c := newChannel(app, id)
		c.Expiration, c.Created, c.Updated, c.LastMessageAt = exp, created, created, lastMessage
		return c
	}
	hour := Start.Add(time.Hour)
	e.create(
		mk(appA, "never", nil, Start, time.Time{}),
		mk(appA, "created-1", expiring(1, byCreated), Start, Start.Add(5*day)), // the last message does not count
		mk(appA, "created-2", expiring(2, byCreated), Start, time.Time{}),
		mk(appB, "created-1b", expiring(1, byCreated), Start, time.Time{}),   // same instant as created-1: by ARN
		mk(appA, "last-none", expiring(1, byLastMessage), hour, time.Time{}), // no message: from Created
		mk(appA, "last-msg", expiring(1, byLastMessage), Start, Start.Add(day)),
		mk(appA, "zero-days", expiring(0, byCreated), Start, time.Time{}),
		mk(appA, "negative-days", expiring(-1, byCreated), Start, time.Time{}),
		mk(appA, "zero-created", expiring(1, byCreated), time.Time{}, time.Time{}),
		mk(appA, "zero-created-last", expiring(1, byLastMessage), time.Time{}, Start), // a message: from it
	)
	arn := func(app, id string) string { return channelARN(app, id) }

	check(t, "ExpiredChannels before any is due", e.expiredChannels(Start.Add(day-time.Millisecond), 0), []string{})
	check(t, "ExpiredChannels at the zero time", e.expiredChannels(time.Time{}, 0), []string{})
	atDay := []string{arn(appA, "created-1"), arn(appA, "zero-created-last"), arn(appB, "created-1b")}
	check(t, "ExpiredChannels exactly one day on", e.expiredChannels(Start.Add(day), 0), atDay)
	check(t, "ExpiredChannels half a millisecond later", e.expiredChannels(Start.Add(day+time.Millisecond/2), 0), atDay)
	check(t, "ExpiredChannels an hour later", e.expiredChannels(hour.Add(day), 0), append(atDay, arn(appA, "last-none")))
	all := append(atDay, arn(appA, "last-none"), arn(appA, "created-2"), arn(appA, "last-msg"))
	check(t, "ExpiredChannels two days on", e.expiredChannels(Start.Add(2*day), 0), all)
	check(t, "ExpiredChannels much later", e.expiredChannels(Start.Add(10000*day), -1), all)
	for n := 1; n <= len(all)+1; n++ {
		check(t, fmt.Sprintf("ExpiredChannels with limit %d", n), e.expiredChannels(Start.Add(2*day), n), all[:min(n, len(all))])
	}

	// Writes move the expiry: removed settings, longer ones, a later
	// message, settings that appear.
	e.update(func(tx carillon.Tx) error {
		for _, c := range []*carillon.Channel{
			mk(appA, "created-1", nil, Start, time.Time{}),
			mk(appB, "created-1b", expiring(3, byCreated), Start, time.Time{}),
			mk(appA, "never", expiring(1, byLastMessage), Start, Start.Add(time.Minute)),
		} {
			if err := tx.UpdateChannel(c); err != nil {
				return err
			}
		}
		// A message's write of LastMessageAt alone.
		return tx.SetChannelLastMessageAt(arn(appA, "last-msg"), Start.Add(5*day))
	})
	check(t, "ExpiredChannels after updates", e.expiredChannels(Start.Add(2*day), 0),
		[]string{arn(appA, "zero-created-last"), arn(appA, "never"), arn(appA, "last-none"), arn(appA, "created-2")})
	check(t, "ExpiredChannels after updates, later", e.expiredChannels(Start.Add(6*day), 0),
		[]string{arn(appA, "zero-created-last"), arn(appA, "never"), arn(appA, "last-none"), arn(appA, "created-2"),
			arn(appB, "created-1b"), arn(appA, "last-msg")})

	// Deleted channels are gone, one by one or with their AppInstance.
	e.update(func(tx carillon.Tx) error {
		if err := tx.DeleteChannel(arn(appA, "never")); err != nil {
			return err
		}
		return tx.DeleteAppInstance(appB)
	})
	check(t, "ExpiredChannels after deletes", e.expiredChannels(Start.Add(6*day), 0),
		[]string{arn(appA, "zero-created-last"), arn(appA, "last-none"), arn(appA, "created-2"), arn(appA, "last-msg")})
	// An Update sees what it wrote.
	e.update(func(tx carillon.Tx) error {
		if err := tx.CreateChannel(mk(appA, "new", expiring(1, byCreated), Start, time.Time{})); err != nil {
			return err
		}
		got, err := tx.ExpiredChannels(Start.Add(day), 0)
		check(t, "ExpiredChannels in the Update that created one", got, []string{arn(appA, "new"), arn(appA, "zero-created-last")})
		return err
	})
}

func testExpiredUsers(e *env) {
	t := e.t
	e.create(newApp(appA), newApp(appB))
	mk := func(app, id string, exp *carillon.ExpirationSettings, created time.Time) *carillon.AppInstanceUser {
		u := newUser(app, id)
		u.Expiration, u.Created, u.Updated = exp, created, created
		return u
	}
	e.create(
		mk(appA, "never", nil, Start),
		mk(appA, "one", expiring(1, byCreated), Start),
		mk(appB, "one-b", expiring(1, byCreated), Start),
		mk(appA, "two", expiring(2, byCreated), Start),
		mk(appA, "later", expiring(1, byCreated), Start.Add(time.Hour)),
		mk(appA, "other-criterion", expiring(1, byLastMessage), Start.Add(time.Minute)), // counts from Created
		mk(appA, "zero-days", expiring(0, byCreated), Start),
		mk(appA, "zero-created", expiring(1, byCreated), time.Time{}),
	)
	e.create(newBot(appA, "one")) // bots do not expire
	arn := userARN
	check(t, "ExpiredUsers a millisecond early", e.expiredUsers(Start.Add(day-time.Millisecond), 0), []string{})
	check(t, "ExpiredUsers exactly one day on", e.expiredUsers(Start.Add(day), 0), []string{arn(appA, "one"), arn(appB, "one-b")})
	all := []string{arn(appA, "one"), arn(appB, "one-b"), arn(appA, "other-criterion"), arn(appA, "later"), arn(appA, "two")}
	check(t, "ExpiredUsers two days on", e.expiredUsers(Start.Add(2*day), 0), all)
	for n := 1; n <= len(all)+1; n++ {
		check(t, fmt.Sprintf("ExpiredUsers with limit %d", n), e.expiredUsers(Start.Add(2*day), n), all[:min(n, len(all))])
	}

	e.update(func(tx carillon.Tx) error {
		for _, u := range []*carillon.AppInstanceUser{
			mk(appA, "one", nil, Start),
			mk(appA, "two", expiring(1, byCreated), Start),
			mk(appA, "never", expiring(5, byCreated), Start),
		} {
			if err := tx.UpdateUser(u); err != nil {
				return err
			}
		}
		return tx.DeleteUser(arn(appB, "one-b"))
	})
	check(t, "ExpiredUsers after updates", e.expiredUsers(Start.Add(2*day), 0),
		[]string{arn(appA, "two"), arn(appA, "other-criterion"), arn(appA, "later")})
	check(t, "ExpiredUsers after updates, later", e.expiredUsers(Start.Add(5*day), 0),
		[]string{arn(appA, "two"), arn(appA, "other-criterion"), arn(appA, "later"), arn(appA, "never")})
	e.update(func(tx carillon.Tx) error { return tx.DeleteAppInstance(appA) })
	check(t, "ExpiredUsers after DeleteAppInstance", e.expiredUsers(Start.Add(5*day), 0), []string{})
}

func testAppInstancesWithRetention(e *env) {
	t := e.t
	apps := []string{appA, appA + "-x", appA + "d", appB, appB + "2"}
	for _, a := range apps {
		e.create(newApp(a))
	}
	put := func(app string, s *carillon.RetentionSettings) {
		t.Helper()
		e.update(func(tx carillon.Tx) error { return tx.PutRetentionSettings(app, s) })
	}
	put(appA, &carillon.RetentionSettings{ChannelDays: 30, InitiatedAt: Start})
	put(appA+"-x", &carillon.RetentionSettings{ChannelDays: 1, InitiatedAt: Start.Add(time.Minute)})
	put(appA+"d", &carillon.RetentionSettings{ChannelDays: 0, InitiatedAt: Start}) // keeps messages forever
	put(appB, &carillon.RetentionSettings{ChannelDays: 5475, InitiatedAt: Start.Add(time.Hour)})
	list := func(tx carillon.Tx, p carillon.Page) ([]carillon.AppInstanceRetention, error) {
		return tx.AppInstancesWithRetention(p)
	}
	key := func(r carillon.AppInstanceRetention) string { return r.AppInstanceARN }
	checkPaging(e, "AppInstancesWithRetention", []string{appA, appA + "-x", appB}, list, key)
	check(t, "AppInstancesWithRetention rows", read(e, func(tx carillon.Tx) ([]carillon.AppInstanceRetention, error) {
		return tx.AppInstancesWithRetention(carillon.Page{})
	}), []carillon.AppInstanceRetention{
		{AppInstanceARN: appA, Settings: carillon.RetentionSettings{ChannelDays: 30, InitiatedAt: Start}},
		{AppInstanceARN: appA + "-x", Settings: carillon.RetentionSettings{ChannelDays: 1, InitiatedAt: Start.Add(time.Minute)}},
		{AppInstanceARN: appB, Settings: carillon.RetentionSettings{ChannelDays: 5475, InitiatedAt: Start.Add(time.Hour)}},
	})

	put(appA, nil)
	put(appB+"2", &carillon.RetentionSettings{ChannelDays: 2, InitiatedAt: Start})
	put(appB, &carillon.RetentionSettings{ChannelDays: 0, InitiatedAt: Start})
	e.update(func(tx carillon.Tx) error { return tx.DeleteAppInstance(appA + "-x") })
	checkPaging(e, "AppInstancesWithRetention after changes", []string{appB + "2"}, list, key)
}

func testDeleteMessagesBefore(e *env) {
	t := e.t
	e.create(newApp(appA))
	c1, c2 := channelARN(appA, "c1"), channelARN(appA, "c2")
	ch := newChannel(appA, "c1")
	ch.LastMessageAt = Start.Add(time.Hour)
	e.create(ch, newChannel(appA, "c2"))
	at := func(ms int) time.Time { return Start.Add(time.Duration(ms) * time.Millisecond) }
	var msgs []any
	add := func(channel, sub, id string, ms int) {
		m := newMessage(channel, id)
		m.SubChannelID, m.Created, m.Updated = sub, at(ms), at(ms)
		msgs = append(msgs, m)
	}
	// c1: its own messages, and two sub-channels; the ids tell the
	// sub-channel and the time. Inserted out of time order.
	for _, ms := range []int{30, 10, 20, 40, 10} {
		add(c1, "", fmt.Sprintf("main-%d-%d", ms, len(msgs)), ms)
		add(c1, "s1", fmt.Sprintf("s1-%d-%d", ms, len(msgs)), ms)
	}
	add(c1, "s2", "s2-5", 5)
	add(c1, "s2", "s2-50", 50)
	add(c2, "", "other-1", 1)
	add(c2, "s1", "other-2", 1)
	e.create(msgs...)
	remaining := func(channel, sub string) []string {
		t.Helper()
		return listAll(e, carillon.MessageQuery{Channel: channel, SubChannel: sub}, 100)
	}
	del := func(channel string, before time.Time, limit int) int {
		t.Helper()
		var n int
		e.update(func(tx carillon.Tx) error {
			var err error
			n, err = tx.DeleteMessagesBefore(channel, before, limit)
			return err
		})
		return n
	}

	// Strictly before: the messages of 10 ms go, those of 20 ms stay; half
	// a millisecond past 20 takes them too.
	check(t, "DeleteMessagesBefore 20ms", del(c1, at(20), 0), 5) // main 10 ×2, s1 10 ×2, s2 5
	check(t, "c1 after DeleteMessagesBefore 20ms", remaining(c1, ""), []string{"main-20-4", "main-30-0", "main-40-6"})
	check(t, "s1 after DeleteMessagesBefore 20ms", remaining(c1, "s1"), []string{"s1-20-5", "s1-30-1", "s1-40-7"})
	check(t, "s2 after DeleteMessagesBefore 20ms", remaining(c1, "s2"), []string{"s2-50"})
	check(t, "DeleteMessagesBefore 20ms again", del(c1, at(20), 0), 0)

	// The limit counts across sub-channels, the oldest of each first.
	check(t, "DeleteMessagesBefore 41ms, limit 2", del(c1, at(40).Add(time.Millisecond/2), 2), 2)
	check(t, "c1 after limit 2", remaining(c1, ""), []string{"main-40-6"})
	check(t, "s1 after limit 2", remaining(c1, "s1"), []string{"s1-20-5", "s1-30-1", "s1-40-7"})
	check(t, "DeleteMessagesBefore 41ms, limit 2 again", del(c1, at(40).Add(time.Millisecond/2), 2), 2)
	check(t, "c1 after limit 2 again", remaining(c1, ""), []string{})
	check(t, "s1 after limit 2 again", remaining(c1, "s1"), []string{"s1-30-1", "s1-40-7"})
	check(t, "DeleteMessagesBefore 41ms, limit 3", del(c1, at(40).Add(time.Millisecond/2), 3), 2) // fewer: done
	check(t, "s2 untouched", remaining(c1, "s2"), []string{"s2-50"})

	// Zero: every message, whatever its age. The other channel and c1
	// itself are untouched.
	check(t, "DeleteMessagesBefore zero", del(c1, time.Time{}, 10), 1)
	check(t, "s2 after DeleteMessagesBefore zero", remaining(c1, "s2"), []string{})
	check(t, "other channel", remaining(c2, ""), []string{"other-1"})
	check(t, "other channel's sub-channel", remaining(c2, "s1"), []string{"other-2"})
	check(t, "the channel after its messages were deleted",
		read(e, func(tx carillon.Tx) (*carillon.Channel, error) { return tx.GetChannel(c1) }), ch)
	check(t, "DeleteMessagesBefore of a missing channel", del(channelARN(appA, "nope"), time.Time{}, 0), 0)
	check(t, "DeleteMessagesBefore of the other channel, no limit", del(c2, Start.Add(time.Hour), -1), 2)
	check(t, "other channel after", remaining(c2, ""), []string{})

	e.view(func(tx carillon.Tx) error {
		_, err := tx.DeleteMessagesBefore(c1, time.Time{}, 0)
		wantErr(t, "DeleteMessagesBefore in a View", err, carillon.ErrReadOnly)
		return nil
	})
}
