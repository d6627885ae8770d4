package jobs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api"
	"github.com/carillonhq/carillon/api/identityapi"
	"github.com/carillonhq/carillon/api/messagingapi"
	"github.com/carillonhq/carillon/identity"
	"github.com/carillonhq/carillon/jobs"
	"github.com/carillonhq/carillon/messaging"
	"github.com/carillonhq/carillon/sqlite"
	"github.com/carillonhq/carillon/storetest"
)

var arns = carillon.ARNs{Partition: "aws", Region: "us-east-1", Account: "000000000000"}

const (
	app      = "arn:aws:chime:us-east-1:000000000000:app-instance/app"
	otherApp = "arn:aws:chime:us-east-1:000000000000:app-instance/other"
	alice    = app + "/user/alice"
	bob      = app + "/user/bob"

	day = 24 * time.Hour
	ms  = time.Millisecond
)

func ptr[T any](v T) *T { return &v }

func channelARN(id string) string { return app + "/channel/" + id }

func expiring(days int, criterion string) *carillon.ExpirationSettings {
	return &carillon.ExpirationSettings{Days: days, Criterion: criterion}
}

const (
	byCreated     = "CREATED_TIMESTAMP"
	byLastMessage = "LAST_MESSAGE_TIMESTAMP"
)

// env is a real SQLite store on a FakeClock, the services, and a
// scheduler whose transactions a countingStore records.
type env struct {
	t       *testing.T
	ctx     context.Context
	clock   *storetest.FakeClock
	db      carillon.Store
	counted *countingStore
	sched   *jobs.Scheduler
	metrics *prometheus.Registry
	msg     *messaging.Service
	id      *identity.Service
	log     *logBuffer
}

// logBuffer collects the scheduler's log.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newEnv(t *testing.T, opts jobs.Options) *env {
	t.Helper()
	if opts.IdempotencyWindow == 0 {
		// The tests of the other jobs move the clock by days: keep the
		// idempotency results of their requests out of their reports.
		opts.IdempotencyWindow = 100 * 365 * day
	}
	clock := storetest.NewFakeClock(storetest.Start)
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "carillon.db"), clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &env{
		t: t, ctx: t.Context(), clock: clock, db: db,
		counted: &countingStore{Store: db},
		metrics: prometheus.NewRegistry(),
		msg:     messaging.New(messaging.Config{Store: db, ARNs: arns, Limits: messaging.DefaultLimits}),
		id:      identity.New(db, arns, identity.DefaultLimits),
		log:     &logBuffer{},
	}
	e.id.OnDeleteMember(messaging.ForgetMember) // as the server wires it
	e.sched = jobs.New(jobs.Config{Store: e.counted, Clock: clock, Metrics: e.metrics, Identity: e.id, Options: opts,
		Logger: slog.New(slog.NewTextHandler(e.log, nil))})
	e.update(func(tx carillon.Tx) error {
		for _, a := range []string{app, otherApp} {
			if err := tx.CreateAppInstance(&carillon.AppInstance{ARN: a, Name: "app", Created: tx.Now(), Updated: tx.Now()}); err != nil {
				return err
			}
		}
		for _, u := range []string{alice, bob} {
			if err := tx.CreateUser(&carillon.AppInstanceUser{ARN: u, AppInstanceARN: app, Name: "name of " + u, Created: tx.Now(), Updated: tx.Now()}); err != nil {
				return err
			}
		}
		return nil
	})
	return e
}

func (e *env) update(fn func(tx carillon.Tx) error) {
	e.t.Helper()
	if err := e.db.Update(e.ctx, fn); err != nil {
		e.t.Fatalf("Update: %v", err)
	}
}

func (e *env) view(fn func(tx carillon.Tx) error) {
	e.t.Helper()
	if err := e.db.View(e.ctx, fn); err != nil {
		e.t.Fatalf("View: %v", err)
	}
}

// run runs the jobs once and returns what they did.
func (e *env) run() jobs.Report {
	e.t.Helper()
	r, err := e.sched.RunOnce(e.ctx)
	if err != nil {
		e.t.Fatalf("RunOnce: %v", err)
	}
	return r
}

// channel creates a channel now, created by alice, who moderates it, with
// members, a ban and a tag.
func (e *env) channel(id string, exp *carillon.ExpirationSettings, members ...string) string {
	e.t.Helper()
	arn := channelARN(id)
	e.update(func(tx carillon.Tx) error {
		now := tx.Now()
		if err := tx.CreateChannel(&carillon.Channel{
			ARN: arn, AppInstanceARN: app, Name: "channel " + id, Mode: "UNRESTRICTED", Privacy: "PUBLIC",
			CreatedBy: alice, Expiration: exp, Created: now, Updated: now,
		}); err != nil {
			return err
		}
		if err := tx.CreateModerator(&carillon.Moderator{ChannelARN: arn, ModeratorARN: alice, CreatedBy: alice, Created: now}); err != nil {
			return err
		}
		for _, m := range members {
			if err := tx.CreateMembership(&carillon.Membership{ChannelARN: arn, MemberARN: m, Type: "DEFAULT", InvitedBy: alice, Created: now, Updated: now}); err != nil {
				return err
			}
		}
		if err := tx.CreateBan(&carillon.Ban{ChannelARN: arn, MemberARN: app + "/user/banned", CreatedBy: alice, Created: now}); err != nil {
			return err
		}
		return tx.PutTags(arn, []carillon.Tag{{Key: "k", Value: "v"}})
	})
	return arn
}

// messages stores n messages of channel, in sub-channel sub, created at.
func (e *env) messages(channel, sub, prefix string, n int, at time.Time) {
	e.t.Helper()
	e.update(func(tx carillon.Tx) error {
		for i := range n {
			if err := tx.CreateMessage(&carillon.Message{
				ChannelARN: channel, ID: fmt.Sprintf("%s%04d", prefix, i), SubChannelID: sub, Sender: alice,
				Content: "hello", Type: "STANDARD", Persistence: "PERSISTENT", Status: "SENT", Created: at, Updated: at,
			}); err != nil {
				return err
			}
		}
		return nil
	})
}

// send sends a message as alice through the messaging service.
func (e *env) send(channel string) {
	e.t.Helper()
	_, err := e.msg.SendChannelMessage(e.ctx, &messagingapi.SendChannelMessageRequest{
		ChannelArn: api.String(channel), ChimeBearer: api.String(alice), ClientRequestToken: api.String(fmt.Sprint(e.clock.Now().UnixNano())),
		Content: api.String("hi"), Persistence: ptr(messagingapi.ChannelMessagePersistenceTypePersistent), Type: ptr(messagingapi.ChannelMessageTypeStandard),
	})
	if err != nil {
		e.t.Fatalf("SendChannelMessage: %v", err)
	}
}

func (e *env) channelExists(arn string) bool {
	e.t.Helper()
	var ok bool
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetChannel(arn)
		ok = err == nil
		if errors.Is(err, carillon.ErrNotFound) {
			return nil
		}
		return err
	})
	return ok
}

func (e *env) userExists(arn string) bool {
	e.t.Helper()
	var ok bool
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetUser(arn)
		ok = err == nil
		if errors.Is(err, carillon.ErrNotFound) {
			return nil
		}
		return err
	})
	return ok
}

// messageIDs lists the ids of a sub-channel's messages, oldest first.
func (e *env) messageIDs(channel, sub string) []string {
	e.t.Helper()
	var ids []string
	e.view(func(tx carillon.Tx) error {
		ms, err := tx.ListMessages(carillon.MessageQuery{Channel: channel, SubChannel: sub})
		for _, m := range ms {
			ids = append(ids, m.ID)
		}
		return err
	})
	return ids
}

// events returns the outbox events of a type.
func (e *env) events(typ string) []carillon.Event {
	e.t.Helper()
	var out []carillon.Event
	e.view(func(tx carillon.Tx) error {
		all, err := tx.Events(0, 0)
		for _, ev := range all {
			if ev.Type == typ {
				out = append(out, ev)
			}
		}
		return err
	})
	return out
}

func (e *env) lastEventSeq() int64 {
	e.t.Helper()
	var seq int64
	e.view(func(tx carillon.Tx) error {
		var err error
		seq, err = tx.LastEventSeq()
		return err
	})
	return seq
}

// counter reads a counter of the scheduler's registry.
func (e *env) counter(name string, labels ...string) float64 {
	e.t.Helper()
	families, err := e.metrics.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metric:
		for _, m := range f.GetMetric() {
			for i, l := range m.GetLabel() {
				if i*2+1 >= len(labels) || l.GetName() != labels[i*2] || l.GetValue() != labels[i*2+1] {
					continue metric
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	e.t.Fatalf("no counter %s %v", name, labels)
	return 0
}

func wantReport(t *testing.T, what string, got, want jobs.Report) {
	t.Helper()
	if got != want {
		t.Errorf("%s: report %+v, want %+v", what, got, want)
	}
}

func TestChannelExpiresByCreation(t *testing.T) {
	e := newEnv(t, jobs.Options{})
	c1 := e.channel("c1", expiring(1, byCreated), alice, bob)
	c2 := e.channel("c2", expiring(2, byCreated), alice)
	c3 := e.channel("c3", nil, alice)
	e.messages(c1, "", "m", 3, e.clock.Now())
	e.messages(c1, "sub", "s", 2, e.clock.Now())

	e.clock.Advance(day - ms)
	wantReport(t, "a millisecond before the first is due", e.run(), jobs.Report{})
	for _, c := range []string{c1, c2, c3} {
		if !e.channelExists(c) {
			t.Errorf("%s deleted before it was due", c)
		}
	}

	e.clock.Advance(ms)
	wantReport(t, "one day on", e.run(), jobs.Report{Channels: 1, ChannelMessages: 5})
	if e.channelExists(c1) {
		t.Errorf("%s not deleted once due", c1)
	}
	if !e.channelExists(c2) || !e.channelExists(c3) {
		t.Errorf("channels not due were deleted")
	}
	// Deleted as DeleteChannel deletes: memberships, moderators, bans,
	// messages and tags.
	e.view(func(tx carillon.Tx) error {
		of, err := tx.ListMembershipsOf(bob, carillon.Page{})
		if err != nil {
			return err
		}
		if len(of) != 0 {
			t.Errorf("bob is still a member of %+v", of)
		}
		mod, err := tx.ListChannelsModeratedBy(alice, carillon.Page{})
		if err != nil {
			return err
		}
		if len(mod) != 2 {
			t.Errorf("alice moderates %d channels, want 2", len(mod))
		}
		tags, err := tx.Tags(c1)
		if len(tags) != 0 {
			t.Errorf("tags of the expired channel: %v", tags)
		}
		return err
	})

	// The members hear of it as of a DeleteChannel: one DELETE_CHANNEL to
	// the members, with the channel as its payload.
	evs := e.events(messaging.EventDeleteChannel)
	if len(evs) != 1 {
		t.Fatalf("%d DELETE_CHANNEL events, want 1", len(evs))
	}
	ev := evs[0]
	if ev.Channel != c1 || !ev.ToMembers || ev.MessageType != "SYSTEM" {
		t.Errorf("DELETE_CHANNEL event %+v, want to the members of %s, SYSTEM", ev, c1)
	}
	var p struct {
		ChannelArn, Name   string
		CreatedBy          struct{ Arn, Name string }
		ExpirationSettings struct {
			ExpirationDays      int
			ExpirationCriterion string
		}
	}
	if err := json.Unmarshal(ev.Payload, &p); err != nil {
		t.Fatal(err)
	}
	if p.ChannelArn != c1 || p.Name != "channel c1" || p.CreatedBy.Arn != alice || p.CreatedBy.Name != "name of "+alice ||
		p.ExpirationSettings.ExpirationDays != 1 || p.ExpirationSettings.ExpirationCriterion != byCreated {
		t.Errorf("DELETE_CHANNEL payload %s", ev.Payload)
	}
	if got := e.counter("carillon_jobs_channels_expired_total"); got != 1 {
		t.Errorf("channels_expired_total = %v, want 1", got)
	}
	if got := e.counter("carillon_jobs_messages_deleted_total", "job", "channel_expiration"); got != 5 {
		t.Errorf("messages_deleted_total{channel_expiration} = %v, want 5", got)
	}

	if want := "msg=\"channel expired\" channel=" + c1; !strings.Contains(e.log.String(), want) {
		t.Errorf("log %q, want a line with %s", e.log.String(), want)
	}
	wantReport(t, "again at once", e.run(), jobs.Report{})
	e.clock.Advance(day)
	wantReport(t, "two days on", e.run(), jobs.Report{Channels: 1})
	if e.channelExists(c2) || !e.channelExists(c3) {
		t.Errorf("two days on: c2 exists %v, c3 exists %v; want false, true", e.channelExists(c2), e.channelExists(c3))
	}
	e.clock.Advance(10000 * day)
	wantReport(t, "much later", e.run(), jobs.Report{})
	if got := len(e.events(messaging.EventDeleteChannel)); got != 2 {
		t.Errorf("%d DELETE_CHANNEL events, want 2", got)
	}
}

func TestChannelExpiresByLastMessage(t *testing.T) {
	e := newEnv(t, jobs.Options{})
	talked := e.channel("talked", expiring(1, byLastMessage), alice)
	silent := e.channel("silent", expiring(1, byLastMessage), alice)

	// A message half a day on pushes the expiry of its channel back; a
	// channel without messages counts from its creation.
	e.clock.Advance(day / 2)
	e.send(talked)
	e.clock.Advance(day / 2)
	wantReport(t, "one day on", e.run(), jobs.Report{Channels: 1})
	if e.channelExists(silent) || !e.channelExists(talked) {
		t.Errorf("one day on: silent exists %v, talked exists %v; want false, true", e.channelExists(silent), e.channelExists(talked))
	}
	e.clock.Advance(day/2 - ms)
	wantReport(t, "a millisecond before a day after the message", e.run(), jobs.Report{})
	e.send(talked) // and again
	e.clock.Advance(ms)
	wantReport(t, "a day after the first message", e.run(), jobs.Report{})
	e.clock.Advance(day - ms)
	wantReport(t, "a day after the last message", e.run(), jobs.Report{Channels: 1, ChannelMessages: 2})
	if e.channelExists(talked) {
		t.Errorf("%s not deleted a day after its last message", talked)
	}
}

// TestSettingsChangedBeforeTheRun: settings changed or removed after
// they came due, but before the job ran, are what the job goes by.
func TestSettingsChangedBeforeTheRun(t *testing.T) {
	e := newEnv(t, jobs.Options{})
	longer := e.channel("longer", expiring(1, byCreated), alice)
	removed := e.channel("removed", expiring(1, byCreated), alice)
	kept := e.channel("kept", nil, alice)
	e.messages(kept, "", "old", 2, e.clock.Now())
	var users [2]string
	e.update(func(tx carillon.Tx) error {
		for i, id := range []string{"longer", "removed"} {
			users[i] = app + "/user/" + id
			if err := tx.CreateUser(&carillon.AppInstanceUser{ARN: users[i], AppInstanceARN: app,
				Expiration: expiring(1, byCreated), Created: tx.Now(), Updated: tx.Now()}); err != nil {
				return err
			}
		}
		return nil
	})
	_, err := e.id.PutAppInstanceRetentionSettings(e.ctx, &identityapi.PutAppInstanceRetentionSettingsRequest{
		AppInstanceArn: api.String(app),
		AppInstanceRetentionSettings: &identityapi.AppInstanceRetentionSettings{
			ChannelRetentionSettings: &identityapi.ChannelRetentionSettings{RetentionDays: api.Int32(1)},
		},
	})
	if err != nil {
		t.Fatal(err)
	}

	e.clock.Advance(3 * day) // everything is due; the job has not run
	put := func(channel string, days int32) {
		t.Helper()
		in := &messagingapi.PutChannelExpirationSettingsRequest{ChannelArn: api.String(channel), ChimeBearer: api.String(alice)}
		if days > 0 {
			in.ExpirationSettings = &messagingapi.ExpirationSettings{
				ExpirationDays: api.Int32(days), ExpirationCriterion: ptr(messagingapi.ExpirationCriterionCreatedTimestamp),
			}
		}
		if _, err := e.msg.PutChannelExpirationSettings(e.ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	put(longer, 5)
	put(removed, 0)
	putUser := func(user string, days int32) {
		t.Helper()
		in := &identityapi.PutAppInstanceUserExpirationSettingsRequest{AppInstanceUserArn: api.String(user)}
		if days > 0 {
			in.ExpirationSettings = &identityapi.ExpirationSettings{
				ExpirationDays: api.Int32(days), ExpirationCriterion: ptr(identityapi.ExpirationCriterionCreatedTimestamp),
			}
		}
		if _, err := e.id.PutAppInstanceUserExpirationSettings(e.ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	putUser(users[0], 5)
	putUser(users[1], 0)
	_, err = e.id.PutAppInstanceRetentionSettings(e.ctx, &identityapi.PutAppInstanceRetentionSettingsRequest{
		AppInstanceArn: api.String(app), AppInstanceRetentionSettings: &identityapi.AppInstanceRetentionSettings{},
	})
	if err != nil {
		t.Fatal(err)
	}

	wantReport(t, "after the settings changed", e.run(), jobs.Report{})
	for _, c := range []string{longer, removed, kept} {
		if !e.channelExists(c) {
			t.Errorf("%s deleted by settings that no longer hold", c)
		}
	}
	for _, u := range users {
		if !e.userExists(u) {
			t.Errorf("%s deleted by settings that no longer hold", u)
		}
	}
	if got := e.messageIDs(kept, ""); len(got) != 2 {
		t.Errorf("messages after retention was turned off: %v", got)
	}

	// The new settings hold: five days after creation.
	e.clock.Advance(2*day - ms)
	wantReport(t, "a millisecond before five days", e.run(), jobs.Report{})
	e.clock.Advance(ms)
	wantReport(t, "five days on", e.run(), jobs.Report{Channels: 1, Users: 1})
	if e.channelExists(longer) || e.userExists(users[0]) {
		t.Errorf("five days on, the channel or user given five days still exists")
	}
	if !e.channelExists(removed) || !e.userExists(users[1]) {
		t.Errorf("the channel or user whose settings were removed was deleted")
	}
}

func TestUsersExpire(t *testing.T) {
	e := newEnv(t, jobs.Options{})
	one, two, never := app+"/user/one", app+"/user/two", app+"/user/never"
	bot := app + "/bot/bot"
	e.update(func(tx carillon.Tx) error {
		for _, u := range []*carillon.AppInstanceUser{
			{ARN: one, AppInstanceARN: app, Expiration: expiring(1, byCreated), Created: tx.Now()},
			{ARN: two, AppInstanceARN: app, Expiration: expiring(2, byCreated), Created: tx.Now()},
			{ARN: never, AppInstanceARN: app, Created: tx.Now()},
		} {
			if err := tx.CreateUser(u); err != nil {
				return err
			}
		}
		if err := tx.CreateBot(&carillon.AppInstanceBot{ARN: bot, AppInstanceARN: app, Created: tx.Now()}); err != nil {
			return err
		}
		if err := tx.CreateAdmin(&carillon.AppInstanceAdmin{AppInstanceARN: app, AdminARN: one}); err != nil {
			return err
		}
		return tx.CreateAccessKey(&carillon.AccessKey{ID: "AKIDONE", Secret: "s", Bearer: one})
	})
	ch := e.channel("c", nil, one, two, never)
	e.messages(ch, "", "m", 1, e.clock.Now())

	e.clock.Advance(day - ms)
	wantReport(t, "a millisecond early", e.run(), jobs.Report{})
	e.clock.Advance(ms)
	wantReport(t, "one day on", e.run(), jobs.Report{Users: 1})
	if e.userExists(one) || !e.userExists(two) || !e.userExists(never) {
		t.Errorf("one day on: one, two, never exist: %v %v %v; want false true true", e.userExists(one), e.userExists(two), e.userExists(never))
	}
	// Deleted as DeleteAppInstanceUser deletes.
	e.view(func(tx carillon.Tx) error {
		if _, err := tx.GetMembership(ch, one); !errors.Is(err, carillon.ErrNotFound) {
			t.Errorf("membership of the expired user: %v", err)
		}
		if _, err := tx.GetAdmin(app, one); !errors.Is(err, carillon.ErrNotFound) {
			t.Errorf("admin role of the expired user: %v", err)
		}
		if _, err := tx.GetAccessKey("AKIDONE"); !errors.Is(err, carillon.ErrNotFound) {
			t.Errorf("access key of the expired user: %v", err)
		}
		if _, err := tx.GetBot(bot); err != nil {
			t.Errorf("bot: %v", err)
		}
		return nil
	})
	if !e.channelExists(ch) || len(e.messageIDs(ch, "")) != 1 {
		t.Errorf("the channel or its messages went with the user")
	}
	e.clock.Advance(day)
	wantReport(t, "two days on", e.run(), jobs.Report{Users: 1})
	if e.userExists(two) || !e.userExists(never) {
		t.Errorf("two days on: two, never exist: %v %v; want false true", e.userExists(two), e.userExists(never))
	}
	if want := "msg=\"user expired\" user=" + one; !strings.Contains(e.log.String(), want) {
		t.Errorf("log %q, want a line with %s", e.log.String(), want)
	}
	if got := e.counter("carillon_jobs_users_expired_total"); got != 2 {
		t.Errorf("users_expired_total = %v, want 2", got)
	}
}

// TestRetention: messages created more than RetentionDays × 24 h before
// the run are deleted; one exactly that old stays. The cutoff is
// exclusive: created < now − RetentionDays days.
func TestRetention(t *testing.T) {
	e := newEnv(t, jobs.Options{})
	_, err := e.id.PutAppInstanceRetentionSettings(e.ctx, &identityapi.PutAppInstanceRetentionSettingsRequest{
		AppInstanceArn: api.String(app),
		AppInstanceRetentionSettings: &identityapi.AppInstanceRetentionSettings{
			ChannelRetentionSettings: &identityapi.ChannelRetentionSettings{RetentionDays: api.Int32(2)},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	c1 := e.channel("c1", nil, alice)
	c2 := e.channel("c2", nil, alice)
	var other string
	e.update(func(tx carillon.Tx) error {
		other = otherApp + "/channel/o"
		return tx.CreateChannel(&carillon.Channel{ARN: other, AppInstanceARN: otherApp, Created: tx.Now()})
	})
	now := e.clock.Advance(10 * day)
	cutoff := now.Add(-2 * day)
	e.messages(c1, "", "older-", 1, storetest.Start)
	e.messages(c1, "", "old-", 1, cutoff.Add(-ms))
	e.messages(c1, "", "edge-", 1, cutoff)
	e.messages(c1, "", "new-", 1, cutoff.Add(ms))
	e.messages(c1, "s1", "sub-old-", 2, cutoff.Add(-time.Hour))
	e.messages(c1, "s1", "sub-new-", 1, now)
	e.messages(c2, "", "c2-old-", 3, cutoff.Add(-day))
	e.messages(other, "", "other-", 1, storetest.Start) // no retention there
	var before *carillon.Channel
	e.view(func(tx carillon.Tx) error {
		var err error
		before, err = tx.GetChannel(c1)
		return err
	})
	seq := e.lastEventSeq()

	wantReport(t, "retention", e.run(), jobs.Report{Messages: 7})
	if got, want := e.messageIDs(c1, ""), []string{"edge-0000", "new-0000"}; !slices.Equal(got, want) {
		t.Errorf("c1 keeps %v, want %v", got, want)
	}
	if got, want := e.messageIDs(c1, "s1"), []string{"sub-new-0000"}; !slices.Equal(got, want) {
		t.Errorf("sub-channel s1 keeps %v, want %v", got, want)
	}
	if got := e.messageIDs(c2, ""); len(got) != 0 {
		t.Errorf("c2 keeps %v", got)
	}
	if got := e.messageIDs(other, ""); len(got) != 1 {
		t.Errorf("the AppInstance without retention keeps %v", got)
	}
	// Silently: no event; the channel stays as it was.
	if got := e.lastEventSeq(); got != seq {
		t.Errorf("retention appended events: last seq %d, was %d", got, seq)
	}
	e.view(func(tx carillon.Tx) error {
		after, err := tx.GetChannel(c1)
		if err == nil && (!after.LastMessageAt.Equal(before.LastMessageAt) || !after.Updated.Equal(before.Updated)) {
			t.Errorf("channel after retention %+v, was %+v", after, before)
		}
		return err
	})
	if want := "msg=\"retention deleted messages\" app_instance=" + app + " messages=7"; !strings.Contains(e.log.String(), want) {
		t.Errorf("log %q, want a line with %s", e.log.String(), want)
	}
	if got := e.counter("carillon_jobs_messages_deleted_total", "job", "retention"); got != 7 {
		t.Errorf("messages_deleted_total{retention} = %v, want 7", got)
	}

	// A millisecond later the edge message is older than two days.
	e.clock.Advance(ms)
	wantReport(t, "a millisecond later", e.run(), jobs.Report{Messages: 1})
	if got, want := e.messageIDs(c1, ""), []string{"new-0000"}; !slices.Equal(got, want) {
		t.Errorf("c1 keeps %v, want %v", got, want)
	}
}

// countingStore records, for each committed Update, how many messages
// DeleteMessagesBefore deleted and how many channels and users were
// deleted.
type countingStore struct {
	carillon.Store
	mu  sync.Mutex
	txs []txCount
	err error
}

type txCount struct {
	messages, channels, users int
	// deletedChannels are the channels deleted, in order.
	deletedChannels []string
}

// fail makes every transaction fail with err from now on (nil: succeed).
func (c *countingStore) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.err = err
}

func (c *countingStore) failure() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *countingStore) View(ctx context.Context, fn func(tx carillon.Tx) error) error {
	if err := c.failure(); err != nil {
		return err
	}
	return c.Store.View(ctx, fn)
}

func (c *countingStore) Update(ctx context.Context, fn func(tx carillon.Tx) error) error {
	if err := c.failure(); err != nil {
		return err
	}
	var n txCount
	err := c.Store.Update(ctx, func(tx carillon.Tx) error {
		n = txCount{}
		return fn(&countingTx{Tx: tx, n: &n})
	})
	if err == nil {
		c.mu.Lock()
		c.txs = append(c.txs, n)
		c.mu.Unlock()
	}
	return err
}

func (c *countingStore) reset() []txCount {
	c.mu.Lock()
	defer c.mu.Unlock()
	txs := c.txs
	c.txs = nil
	return txs
}

type countingTx struct {
	carillon.Tx
	n *txCount
}

func (t *countingTx) DeleteMessagesBefore(channelARN string, before time.Time, limit int) (int, error) {
	k, err := t.Tx.DeleteMessagesBefore(channelARN, before, limit)
	t.n.messages += k
	return k, err
}

func (t *countingTx) DeleteChannel(arn string) error {
	t.n.channels++
	t.n.deletedChannels = append(t.n.deletedChannels, arn)
	return t.Tx.DeleteChannel(arn)
}

func (t *countingTx) DeleteUser(arn string) error {
	t.n.users++
	return t.Tx.DeleteUser(arn)
}

// checkBounds checks every transaction against the default batch sizes
// and returns the totals.
func checkBounds(t *testing.T, txs []txCount) (messages, channels, users int) {
	t.Helper()
	for i, n := range txs {
		if n.messages > jobs.DefaultMessageBatch || n.channels > jobs.DefaultChannelBatch || n.users > jobs.DefaultUserBatch {
			t.Errorf("transaction %d deleted %d messages, %d channels, %d users: over the bounds", i, n.messages, n.channels, n.users)
		}
		messages += n.messages
		channels += n.channels
		users += n.users
	}
	return messages, channels, users
}

// TestRetentionBatches: 2,530 old messages go in transactions of at most
// DefaultMessageBatch.
func TestRetentionBatches(t *testing.T) {
	e := newEnv(t, jobs.Options{})
	e.update(func(tx carillon.Tx) error {
		return tx.PutRetentionSettings(app, &carillon.RetentionSettings{ChannelDays: 1, InitiatedAt: tx.Now()})
	})
	big := e.channel("big", nil, alice)
	e.messages(big, "", "m", 2000, e.clock.Now())
	e.messages(big, "s", "s", 500, e.clock.Now())
	for i := range 3 {
		e.messages(e.channel(fmt.Sprint("small", i), nil, alice), "", "m", 10, e.clock.Now())
	}
	e.clock.Advance(2 * day)
	e.counted.reset()
	wantReport(t, "retention", e.run(), jobs.Report{Messages: 2530})
	txs := e.counted.reset()
	messages, _, _ := checkBounds(t, txs)
	if messages != 2530 {
		t.Errorf("transactions deleted %d messages, want 2530", messages)
	}
	deleting := 0
	for _, n := range txs {
		if n.messages > 0 {
			deleting++
		}
	}
	if deleting < 3 {
		t.Errorf("%d transactions deleted messages, want at least 3", deleting)
	}
	if got := e.messageIDs(big, ""); len(got) != 0 {
		t.Errorf("%d messages left", len(got))
	}
}

// TestExpirationBatches: 251 expired channels, one of them with 2,500
// messages, and 250 expired users go in transactions of at most 100
// channels, DefaultMessageBatch messages and 100 users; the big channel's messages go
// before it, and it gets one DELETE_CHANNEL event.
func TestExpirationBatches(t *testing.T) {
	e := newEnv(t, jobs.Options{})
	big := e.channel("big", expiring(1, byCreated), alice, bob)
	e.messages(big, "", "m", 2500, e.clock.Now())
	e.update(func(tx carillon.Tx) error {
		for i := range 250 {
			if err := tx.CreateChannel(&carillon.Channel{ARN: channelARN(fmt.Sprintf("small%03d", i)), AppInstanceARN: app,
				Expiration: expiring(1, byCreated), Created: tx.Now()}); err != nil {
				return err
			}
			if err := tx.CreateUser(&carillon.AppInstanceUser{ARN: fmt.Sprintf("%s/user/u%03d", app, i), AppInstanceARN: app,
				Expiration: expiring(1, byCreated), Created: tx.Now()}); err != nil {
				return err
			}
		}
		return nil
	})
	e.clock.Advance(day)
	e.counted.reset()
	wantReport(t, "expiration", e.run(), jobs.Report{Channels: 251, ChannelMessages: 2500, Users: 250})
	txs := e.counted.reset()
	messages, channels, users := checkBounds(t, txs)
	if messages != 2500 || channels != 251 || users != 250 {
		t.Errorf("transactions deleted %d messages, %d channels, %d users; want 2500, 251, 250", messages, channels, users)
	}
	// The big channel (the first due: its ARN sorts first) loses its
	// messages over several transactions, the last of which deletes it.
	messagesBefore := 0
	for i, n := range txs {
		if slices.Contains(n.deletedChannels, big) {
			if i < 2 || messagesBefore+n.messages != 2500 {
				t.Errorf("the big channel deleted in transaction %d, after %d of its messages and with %d", i, messagesBefore, n.messages)
			}
			break
		}
		messagesBefore += n.messages
	}
	if !slices.ContainsFunc(e.events(messaging.EventDeleteChannel), func(ev carillon.Event) bool { return ev.Channel == big }) {
		t.Errorf("no DELETE_CHANNEL event for the big channel")
	}
	if got := len(e.events(messaging.EventDeleteChannel)); got != 251 {
		t.Errorf("%d DELETE_CHANNEL events, want 251", got)
	}
	wantReport(t, "again", e.run(), jobs.Report{})
}

// TestBudget: a run spends at most MaxBatches transactions per job; the
// next run goes on where it stopped.
func TestBudget(t *testing.T) {
	t.Run("retention", func(t *testing.T) {
		e := newEnv(t, jobs.Options{MessageBatch: 100, ChannelBatch: 2, MaxBatches: 2})
		e.update(func(tx carillon.Tx) error {
			return tx.PutRetentionSettings(app, &carillon.RetentionSettings{ChannelDays: 1, InitiatedAt: tx.Now()})
		})
		var chs []string
		for i := range 5 {
			chs = append(chs, e.channel(fmt.Sprint("c", i), nil, alice))
			e.messages(chs[i], "", "m", 100, e.clock.Now())
		}
		e.clock.Advance(2 * day)
		wantReport(t, "first run", e.run(), jobs.Report{Messages: 200, Pending: true})
		wantReport(t, "second run", e.run(), jobs.Report{Messages: 200, Pending: true})
		wantReport(t, "third run", e.run(), jobs.Report{Messages: 100})
		// Nothing is left to delete, but the sweep of the five channels
		// takes three transactions: two this run, one the next.
		wantReport(t, "fourth run", e.run(), jobs.Report{Pending: true})
		wantReport(t, "fifth run", e.run(), jobs.Report{})
		for _, c := range chs {
			if got := e.messageIDs(c, ""); len(got) != 0 {
				t.Errorf("%s keeps %d messages", c, len(got))
			}
		}
	})
	t.Run("channels and users", func(t *testing.T) {
		e := newEnv(t, jobs.Options{ChannelBatch: 2, UserBatch: 2, MaxBatches: 2})
		e.update(func(tx carillon.Tx) error {
			for i := range 5 {
				if err := tx.CreateChannel(&carillon.Channel{ARN: channelARN(fmt.Sprint("c", i)), AppInstanceARN: app,
					Expiration: expiring(1, byCreated), Created: tx.Now()}); err != nil {
					return err
				}
				if err := tx.CreateUser(&carillon.AppInstanceUser{ARN: fmt.Sprint(app, "/user/u", i), AppInstanceARN: app,
					Expiration: expiring(1, byCreated), Created: tx.Now()}); err != nil {
					return err
				}
			}
			return nil
		})
		e.clock.Advance(day)
		wantReport(t, "first run", e.run(), jobs.Report{Channels: 4, Users: 4, Pending: true})
		wantReport(t, "second run", e.run(), jobs.Report{Channels: 1, Users: 1})
	})
}

// TestRun: Run runs the jobs when it starts and every Interval, and
// returns when its context ends.
func TestRun(t *testing.T) {
	// Checked after the store closes (cleanups run last first).
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
	e := newEnv(t, jobs.Options{Interval: 5 * time.Millisecond})
	first := e.channel("first", expiring(1, byCreated))
	e.clock.Advance(day)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.sched.Run(ctx)
	}()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitFor("the first run", func() bool { return !e.channelExists(first) })
	second := e.channel("second", expiring(1, byCreated))
	e.clock.Advance(day)
	waitFor("a later run", func() bool { return !e.channelExists(second) })
	cancel()
	<-done
	if got := e.counter("carillon_jobs_runs_total"); got < 2 {
		t.Errorf("runs_total = %v, want at least 2", got)
	}
	if e.sched.Interval() != 5*time.Millisecond {
		t.Errorf("Interval() = %v", e.sched.Interval())
	}
}

// TestRunOnceErrors: a job that fails does not stop the others, and is
// counted unless the run was cut short by its context; a later run does
// the work.
func TestRunOnceErrors(t *testing.T) {
	e := newEnv(t, jobs.Options{})
	e.channel("c", expiring(1, byCreated))
	e.clock.Advance(day)
	e.counted.fail(errors.New("disk on fire"))
	if _, err := e.sched.RunOnce(e.ctx); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("RunOnce with a failing store: %v", err)
	}
	for _, job := range []string{"channel_expiration", "user_expiration", "retention"} {
		if got := e.counter("carillon_jobs_errors_total", "job", job); got != 1 {
			t.Errorf("errors_total{%s} = %v, want 1", job, got)
		}
	}
	e.counted.fail(nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := e.sched.RunOnce(ctx); err == nil {
		t.Fatal("RunOnce with a canceled context succeeded")
	}
	if got := e.counter("carillon_jobs_errors_total", "job", "channel_expiration"); got != 1 {
		t.Errorf("errors_total{channel_expiration} = %v after a canceled run, want 1", got)
	}
	wantReport(t, "a later run", e.run(), jobs.Report{Channels: 1})
}

// TestIdempotencyExpiry: results older than the window go, the oldest
// first, in batches; a request repeating an expired token is a new
// request.
func TestIdempotencyExpiry(t *testing.T) {
	e := newEnv(t, jobs.Options{IdempotencyWindow: 24 * time.Hour, TokenBatch: 2})
	for i := range 5 {
		e.update(func(tx carillon.Tx) error { return tx.PutIdempotent("scope", fmt.Sprint("old-", i), "r") })
	}
	e.clock.Advance(12 * time.Hour)
	e.update(func(tx carillon.Tx) error { return tx.PutIdempotent("scope", "recent", "r") })
	wantReport(t, "half a day on", e.run(), jobs.Report{})
	e.clock.Advance(13 * time.Hour)
	e.counted.reset()
	wantReport(t, "25 hours on", e.run(), jobs.Report{Tokens: 5})
	e.view(func(tx carillon.Tx) error {
		for _, token := range []string{"old-0", "old-4", "recent"} {
			_, found, err := tx.Idempotent("scope", token)
			if err != nil {
				return err
			}
			if found != (token == "recent") {
				t.Errorf("%s found: %v", token, found)
			}
		}
		return nil
	})
	if got := e.counter("carillon_jobs_idempotency_results_expired_total"); got != 5 {
		t.Errorf("idempotency_results_expired_total %v, want 5", got)
	}

	// Through the API: a CreateChannel whose token expired makes a
	// second channel.
	create := func() string {
		t.Helper()
		out, err := e.msg.CreateChannel(e.ctx, &messagingapi.CreateChannelRequest{
			AppInstanceArn: api.String(app), Name: api.String("again"), ChimeBearer: api.String(alice),
			ClientRequestToken: api.String("same-token"),
		})
		if err != nil {
			t.Fatal(err)
		}
		return *out.ChannelArn
	}
	first := create()
	if again := create(); again != first {
		t.Errorf("the token repeated at once made %s, want %s", again, first)
	}
	e.clock.Advance(25 * time.Hour)
	e.run()
	if later := create(); later == first {
		t.Errorf("the token repeated after the window answered the first channel again")
	}
}
