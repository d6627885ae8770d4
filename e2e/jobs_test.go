package e2e

// Expiration and retention through the Go SDK. The server runs on a
// FakeClock that the tests move by days, and the clients sign with that
// clock too (jbSigner), so the server's signature check, which allows 15
// minutes of skew against its own clock, accepts every request whatever
// the date. The jobs run when the test calls Server.RunJobs: their own
// interval is set to an hour of wall time, so no scheduled run (there is
// one at start, on an empty store) interferes.

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	itypes "github.com/aws/aws-sdk-go-v2/service/chimesdkidentity/types"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	mtypes "github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/carillontest"
	"github.com/carillonhq/carillon/server"
	"github.com/carillonhq/carillon/storetest"
)

const jbDay = 24 * time.Hour

// jbSigner signs requests at the time of a clock rather than the wall's.
type jbSigner struct{ clock carillon.Clock }

func (s jbSigner) SignHTTP(ctx context.Context, c aws.Credentials, r *http.Request, payloadHash, service, region string, _ time.Time, optFns ...func(*v4.SignerOptions)) error {
	return v4.NewSigner().SignHTTP(ctx, c, r, payloadHash, service, region, s.clock.Now(), optFns...)
}

// jbEnv is a server on a FakeClock with one AppInstance and two users,
// alice and bob, and root clients signing with the clock.
type jbEnv struct {
	srv        *carillontest.Server
	clock      *storetest.FakeClock
	id         *chimesdkidentity.Client
	msg        *chimesdkmessaging.Client
	app        string
	alice, bob string
}

func jbNew(t *testing.T) *jbEnv {
	t.Helper()
	clock := storetest.NewFakeClock(time.Now().UTC().Truncate(time.Millisecond))
	srv := carillontest.New(t, carillontest.WithClock(clock), func(c *server.Config) { c.Jobs.Interval = time.Hour })
	e := &jbEnv{
		srv:   srv,
		clock: clock,
		id: chimesdkidentity.NewFromConfig(srv.Config, func(o *chimesdkidentity.Options) {
			o.HTTPSignerV4 = jbSigner{clock}
		}),
		msg: chimesdkmessaging.NewFromConfig(srv.Config, func(o *chimesdkmessaging.Options) {
			o.HTTPSignerV4 = jbSigner{clock}
		}),
	}
	out, err := e.id.CreateAppInstance(t.Context(), &chimesdkidentity.CreateAppInstanceInput{Name: aws.String("jobs")})
	mustOK(t, err, "CreateAppInstance")
	e.app = aws.ToString(out.AppInstanceArn)
	e.alice, e.bob = e.user(t, "alice", nil), e.user(t, "bob", nil)
	return e
}

func (e *jbEnv) user(t *testing.T, id string, exp *itypes.ExpirationSettings) string {
	t.Helper()
	out, err := e.id.CreateAppInstanceUser(t.Context(), &chimesdkidentity.CreateAppInstanceUserInput{
		AppInstanceArn: aws.String(e.app), AppInstanceUserId: aws.String(id), Name: aws.String(id),
		ClientRequestToken: aws.String("token-" + id), ExpirationSettings: exp,
	})
	mustOK(t, err, "CreateAppInstanceUser %s", id)
	return aws.ToString(out.AppInstanceUserArn)
}

func jbUserExpiration(days int32) *itypes.ExpirationSettings {
	return &itypes.ExpirationSettings{ExpirationDays: aws.Int32(days), ExpirationCriterion: itypes.ExpirationCriterionCreatedTimestamp}
}

func jbChannelExpiration(days int32, criterion mtypes.ExpirationCriterion) *mtypes.ExpirationSettings {
	return &mtypes.ExpirationSettings{ExpirationDays: aws.Int32(days), ExpirationCriterion: criterion}
}

// channel creates a channel as alice, with members.
func (e *jbEnv) channel(t *testing.T, name string, exp *mtypes.ExpirationSettings, members ...string) string {
	t.Helper()
	out, err := e.msg.CreateChannel(t.Context(), &chimesdkmessaging.CreateChannelInput{
		AppInstanceArn: aws.String(e.app), Name: aws.String(name), ChimeBearer: aws.String(e.alice),
		ClientRequestToken: aws.String("token-" + name), ExpirationSettings: exp, MemberArns: members,
	})
	mustOK(t, err, "CreateChannel %s", name)
	return aws.ToString(out.ChannelArn)
}

func (e *jbEnv) putChannelExpiration(t *testing.T, channel string, exp *mtypes.ExpirationSettings) {
	t.Helper()
	_, err := e.msg.PutChannelExpirationSettings(t.Context(), &chimesdkmessaging.PutChannelExpirationSettingsInput{
		ChannelArn: aws.String(channel), ChimeBearer: aws.String(e.alice), ExpirationSettings: exp,
	})
	mustOK(t, err, "PutChannelExpirationSettings %s", channel)
}

func (e *jbEnv) putUserExpiration(t *testing.T, user string, exp *itypes.ExpirationSettings) {
	t.Helper()
	_, err := e.id.PutAppInstanceUserExpirationSettings(t.Context(), &chimesdkidentity.PutAppInstanceUserExpirationSettingsInput{
		AppInstanceUserArn: aws.String(user), ExpirationSettings: exp,
	})
	mustOK(t, err, "PutAppInstanceUserExpirationSettings %s", user)
}

// send sends a message as alice and returns its id.
func (e *jbEnv) send(t *testing.T, channel, content string) string {
	t.Helper()
	out, err := e.msg.SendChannelMessage(t.Context(), &chimesdkmessaging.SendChannelMessageInput{
		ChannelArn: aws.String(channel), ChimeBearer: aws.String(e.alice), Content: aws.String(content),
		ClientRequestToken: aws.String("token-" + content),
		Type:               mtypes.ChannelMessageTypeStandard, Persistence: mtypes.ChannelMessagePersistenceTypePersistent,
	})
	mustOK(t, err, "SendChannelMessage %s", content)
	return aws.ToString(out.MessageId)
}

// messages lists a channel's message ids, oldest first, as alice.
func (e *jbEnv) messages(t *testing.T, channel string) []string {
	t.Helper()
	out, err := e.msg.ListChannelMessages(t.Context(), &chimesdkmessaging.ListChannelMessagesInput{
		ChannelArn: aws.String(channel), ChimeBearer: aws.String(e.alice), SortOrder: mtypes.SortOrderAscending,
	})
	mustOK(t, err, "ListChannelMessages %s", channel)
	ids := []string{}
	for _, m := range out.ChannelMessages {
		ids = append(ids, aws.ToString(m.MessageId))
	}
	return ids
}

func (e *jbEnv) describe(t *testing.T, bearer, channel string) (*mtypes.Channel, error) {
	t.Helper()
	out, err := e.msg.DescribeChannel(t.Context(), &chimesdkmessaging.DescribeChannelInput{
		ChannelArn: aws.String(channel), ChimeBearer: aws.String(bearer),
	})
	if err != nil {
		return nil, err
	}
	return out.Channel, nil
}

// alive checks that a channel is there for alice.
func (e *jbEnv) alive(t *testing.T, what, channel string) *mtypes.Channel {
	t.Helper()
	ch, err := e.describe(t, e.alice, channel)
	mustOK(t, err, "DescribeChannel of %s", what)
	return ch
}

// gone checks that a channel answers ForbiddenException, as a deleted one
// does.
func (e *jbEnv) gone(t *testing.T, what, channel string, bearers ...string) {
	t.Helper()
	for _, b := range bearers {
		_, err := e.describe(t, b, channel)
		if err == nil {
			t.Errorf("DescribeChannel of %s as %s: still there", what, b)
			continue
		}
		mxForbidden(t, err)
	}
}

// runJobs runs the background jobs at the clock's time.
func (e *jbEnv) runJobs(t *testing.T) {
	t.Helper()
	if _, err := e.srv.Server.RunJobs(t.Context()); err != nil {
		t.Fatalf("RunJobs: %v", err)
	}
}

func TestJobsChannelExpiration(t *testing.T) {
	e := jbNew(t)
	created := e.channel(t, "created", jbChannelExpiration(1, mtypes.ExpirationCriterionCreatedTimestamp), e.bob)
	talked := e.channel(t, "talked", jbChannelExpiration(1, mtypes.ExpirationCriterionLastMessageTimestamp))
	extended := e.channel(t, "extended", jbChannelExpiration(1, mtypes.ExpirationCriterionCreatedTimestamp))
	e.putChannelExpiration(t, extended, jbChannelExpiration(3, mtypes.ExpirationCriterionCreatedTimestamp))
	removed := e.channel(t, "removed", jbChannelExpiration(1, mtypes.ExpirationCriterionCreatedTimestamp))
	e.putChannelExpiration(t, removed, nil)

	e.clock.Advance(jbDay / 2)
	e.send(t, talked, "pushes-back")
	e.clock.Advance(jbDay/2 - time.Millisecond)
	e.runJobs(t)
	e.alive(t, "a channel a millisecond before it expires", created)

	e.clock.Advance(time.Millisecond)
	e.runJobs(t)
	e.gone(t, "a channel a day after its creation", created, e.alice, e.bob)
	out, err := e.msg.ListChannelMembershipsForAppInstanceUser(t.Context(), &chimesdkmessaging.ListChannelMembershipsForAppInstanceUserInput{
		ChimeBearer: aws.String(e.bob),
	})
	mustOK(t, err, "ListChannelMembershipsForAppInstanceUser")
	if len(out.ChannelMemberships) != 0 {
		t.Errorf("bob is still a member of %d channels", len(out.ChannelMemberships))
	}
	// Its members were told, as by DeleteChannel.
	var deletes int
	err = e.srv.Server.Store().View(t.Context(), func(tx carillon.Tx) error {
		evs, err := tx.Events(0, 0)
		for _, ev := range evs {
			if ev.Type == "DELETE_CHANNEL" && ev.Channel == created && ev.ToMembers {
				deletes++
			}
		}
		return err
	})
	mustOK(t, err, "reading the outbox")
	if deletes != 1 {
		t.Errorf("%d DELETE_CHANNEL events for the expired channel, want 1", deletes)
	}
	// And the server counted it.
	resp, err := http.Get(e.srv.Endpoint + "/metrics")
	mustOK(t, err, "GET /metrics")
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	mustOK(t, err, "reading /metrics")
	if !strings.Contains(string(body), "\ncarillon_jobs_channels_expired_total 1\n") {
		t.Errorf("/metrics does not count the expired channel")
	}
	e.alive(t, "a channel whose last message is half a day old", talked)
	if ch := e.alive(t, "a channel given three days", extended); ch.ExpirationSettings == nil || aws.ToInt32(ch.ExpirationSettings.ExpirationDays) != 3 {
		t.Errorf("ExpirationSettings of the extended channel: %+v", ch.ExpirationSettings)
	}
	if ch := e.alive(t, "a channel whose settings were removed", removed); ch.ExpirationSettings != nil {
		t.Errorf("ExpirationSettings of the channel whose settings were removed: %+v", ch.ExpirationSettings)
	}

	e.clock.Advance(jbDay / 2)
	e.runJobs(t)
	e.gone(t, "a channel a day after its last message", talked, e.alice)

	e.clock.Advance(jbDay + jbDay/2)
	e.runJobs(t)
	e.gone(t, "a channel three days after its creation", extended, e.alice)
	e.alive(t, "a channel whose settings were removed, three days on", removed)
}

func TestJobsUserExpiration(t *testing.T) {
	e := jbNew(t)
	one := e.user(t, "one", jbUserExpiration(1))
	two := e.user(t, "two", nil)
	e.putUserExpiration(t, two, jbUserExpiration(2))
	removed := e.user(t, "removed", jbUserExpiration(1))
	e.putUserExpiration(t, removed, nil)
	ch := e.channel(t, "team", nil, one, two, removed)

	describe := func(user string) (*itypes.AppInstanceUser, error) {
		out, err := e.id.DescribeAppInstanceUser(t.Context(), &chimesdkidentity.DescribeAppInstanceUserInput{AppInstanceUserArn: aws.String(user)})
		if err != nil {
			return nil, err
		}
		return out.AppInstanceUser, nil
	}
	members := func() []string {
		out, err := e.msg.ListChannelMemberships(t.Context(), &chimesdkmessaging.ListChannelMembershipsInput{
			ChannelArn: aws.String(ch), ChimeBearer: aws.String(e.alice),
		})
		mustOK(t, err, "ListChannelMemberships")
		var arns []string
		for _, m := range out.ChannelMemberships {
			arns = append(arns, aws.ToString(m.Member.Arn))
		}
		return arns
	}

	e.clock.Advance(jbDay)
	e.runJobs(t)
	_, err := describe(one)
	wantError(t, err, "ForbiddenException")
	if slices.Contains(members(), one) {
		t.Errorf("the expired user is still a member")
	}
	u, err := describe(two)
	mustOK(t, err, "DescribeAppInstanceUser of a user given two days")
	if u.ExpirationSettings == nil || aws.ToInt32(u.ExpirationSettings.ExpirationDays) != 2 {
		t.Errorf("ExpirationSettings: %+v", u.ExpirationSettings)
	}
	_, err = describe(removed)
	mustOK(t, err, "DescribeAppInstanceUser of a user whose settings were removed")

	e.clock.Advance(jbDay)
	e.runJobs(t)
	_, err = describe(two)
	wantError(t, err, "ForbiddenException")
	_, err = describe(removed)
	mustOK(t, err, "DescribeAppInstanceUser of a user whose settings were removed, two days on")
	if got, want := sortedCopy(members()...), sortedCopy(e.alice, removed); !slices.Equal(got, want) {
		t.Errorf("members two days on: %v, want %v", got, want)
	}
}

func TestJobsRetention(t *testing.T) {
	e := jbNew(t)
	put, err := e.id.PutAppInstanceRetentionSettings(t.Context(), &chimesdkidentity.PutAppInstanceRetentionSettingsInput{
		AppInstanceArn: aws.String(e.app),
		AppInstanceRetentionSettings: &itypes.AppInstanceRetentionSettings{
			ChannelRetentionSettings: &itypes.ChannelRetentionSettings{RetentionDays: aws.Int32(1)},
		},
	})
	mustOK(t, err, "PutAppInstanceRetentionSettings")
	if put.InitiateDeletionTimestamp == nil {
		t.Errorf("PutAppInstanceRetentionSettings: no InitiateDeletionTimestamp")
	}
	ch := e.channel(t, "history", nil, e.bob)
	first := e.send(t, ch, "first")
	e.clock.Advance(jbDay / 2)
	second := e.send(t, ch, "second")

	// The first message is exactly a day old: it stays.
	e.clock.Advance(jbDay / 2)
	e.runJobs(t)
	if got, want := e.messages(t, ch), []string{first, second}; !slices.Equal(got, want) {
		t.Errorf("messages a day after the first: %v, want %v", got, want)
	}

	// A millisecond later it is older than a day.
	e.clock.Advance(time.Millisecond)
	e.runJobs(t)
	if got, want := e.messages(t, ch), []string{second}; !slices.Equal(got, want) {
		t.Errorf("messages once the first is older than a day: %v, want %v", got, want)
	}
	_, err = e.msg.GetChannelMessage(t.Context(), &chimesdkmessaging.GetChannelMessageInput{
		ChannelArn: aws.String(ch), MessageId: aws.String(first), ChimeBearer: aws.String(e.alice),
	})
	wantError(t, err, "NotFoundException")
	// The channel stays, and so do the settings.
	e.alive(t, "a channel whose messages retention deleted", ch)
	got, err := e.id.GetAppInstanceRetentionSettings(t.Context(), &chimesdkidentity.GetAppInstanceRetentionSettingsInput{AppInstanceArn: aws.String(e.app)})
	mustOK(t, err, "GetAppInstanceRetentionSettings")
	if s := got.AppInstanceRetentionSettings; s == nil || s.ChannelRetentionSettings == nil || aws.ToInt32(s.ChannelRetentionSettings.RetentionDays) != 1 {
		t.Errorf("retention settings after the job: %+v", s)
	}

	// Turned off, retention deletes nothing more.
	_, err = e.id.PutAppInstanceRetentionSettings(t.Context(), &chimesdkidentity.PutAppInstanceRetentionSettingsInput{
		AppInstanceArn: aws.String(e.app), AppInstanceRetentionSettings: &itypes.AppInstanceRetentionSettings{},
	})
	mustOK(t, err, "PutAppInstanceRetentionSettings {}")
	e.clock.Advance(10 * jbDay)
	e.runJobs(t)
	if got, want := e.messages(t, ch), []string{second}; !slices.Equal(got, want) {
		t.Errorf("messages with retention off: %v, want %v", got, want)
	}
}

// TestJobsUserExpirationElastic expires a member of an elastic channel
// whose departure leaves its sub-channel under-populated: the expiry
// merges it at once, as DeleteAppInstanceUser does.
func TestJobsUserExpirationElastic(t *testing.T) {
	e := jbNew(t)
	// Sub-channels of 3, merged below 2.
	out, err := e.msg.CreateChannel(t.Context(), &chimesdkmessaging.CreateChannelInput{
		AppInstanceArn: aws.String(e.app), Name: aws.String("elastic"), ChimeBearer: aws.String(e.alice),
		Mode: mtypes.ChannelModeRestricted, ClientRequestToken: aws.String("token-elastic"),
		ElasticChannelConfiguration: &mtypes.ElasticChannelConfiguration{
			MaximumSubChannels: aws.Int32(3), TargetMembershipsPerSubChannel: aws.Int32(3), MinimumMembershipPercentage: aws.Int32(40),
		},
	})
	mustOK(t, err, "CreateChannel elastic")
	ch := aws.ToString(out.ChannelArn)
	counts := func() []int32 {
		t.Helper()
		out, err := e.msg.ListSubChannels(t.Context(), &chimesdkmessaging.ListSubChannelsInput{
			ChannelArn: aws.String(ch), ChimeBearer: aws.String(e.alice),
		})
		mustOK(t, err, "ListSubChannels")
		var n []int32
		for _, s := range out.SubChannels {
			n = append(n, aws.ToInt32(s.MembershipCount))
		}
		slices.Sort(n)
		return n
	}
	// Four members: the fourth join splits them 2 and 2. The one who
	// expires leaves 1 behind, which merges into the other sub-channel.
	expiring := e.user(t, "expiring", jbUserExpiration(1))
	for _, u := range []string{expiring, e.user(t, "u2", nil), e.user(t, "u3", nil), e.user(t, "u4", nil)} {
		_, err := e.msg.CreateChannelMembership(t.Context(), &chimesdkmessaging.CreateChannelMembershipInput{
			ChannelArn: aws.String(ch), ChimeBearer: aws.String(e.alice), MemberArn: aws.String(u), Type: mtypes.ChannelMembershipTypeDefault,
		})
		mustOK(t, err, "CreateChannelMembership %s", u)
	}
	if got := counts(); !slices.Equal(got, []int32{2, 2}) {
		t.Fatalf("sub-channel counts after four joins: %v, want [2 2]", got)
	}
	e.clock.Advance(jbDay)
	e.runJobs(t)
	if got := counts(); !slices.Equal(got, []int32{3}) {
		t.Errorf("sub-channel counts after the expiry: %v, want [3]", got)
	}
}
