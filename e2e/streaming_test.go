package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	mtypes "github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/carillontest"
	"github.com/carillonhq/carillon/messaging"
	"github.com/carillonhq/carillon/server"
	"github.com/carillonhq/carillon/stream"
)

// stEnv is a test server whose streaming export uses opts, with one
// AppInstance and root clients.
type stEnv struct {
	srv *carillontest.Server
	id  *chimesdkidentity.Client
	msg *chimesdkmessaging.Client
	app string
}

func stNew(t testing.TB, opts stream.Options) *stEnv {
	t.Helper()
	if opts.Poll == 0 {
		opts.Poll = 50 * time.Millisecond
	}
	if opts.MinBackoff == 0 {
		opts.MinBackoff, opts.MaxBackoff = 50*time.Millisecond, 400*time.Millisecond
	}
	srv := carillontest.New(t, func(c *server.Config) { c.Stream = opts })
	e := &stEnv{srv: srv, id: chimesdkidentity.NewFromConfig(srv.Config), msg: chimesdkmessaging.NewFromConfig(srv.Config)}
	out, err := e.id.CreateAppInstance(t.Context(), &chimesdkidentity.CreateAppInstanceInput{Name: aws.String("Streaming")})
	mustOK(t, err, "CreateAppInstance")
	e.app = aws.ToString(out.AppInstanceArn)
	return e
}

func (e *stEnv) user(t testing.TB, id string) string {
	t.Helper()
	out, err := e.id.CreateAppInstanceUser(t.Context(), &chimesdkidentity.CreateAppInstanceUserInput{
		AppInstanceArn: aws.String(e.app), AppInstanceUserId: aws.String(id), Name: aws.String("Name " + id),
	})
	mustOK(t, err, "CreateAppInstanceUser %s", id)
	return aws.ToString(out.AppInstanceUserArn)
}

func (e *stEnv) put(t testing.TB, app string, cs ...mtypes.StreamingConfiguration) (*chimesdkmessaging.PutMessagingStreamingConfigurationsOutput, error) {
	t.Helper()
	return e.msg.PutMessagingStreamingConfigurations(t.Context(), &chimesdkmessaging.PutMessagingStreamingConfigurationsInput{
		AppInstanceArn: aws.String(app), StreamingConfigurations: cs,
	}, skipMessagingValidation)
}

func stConfig(dt mtypes.MessagingDataType, arn string) mtypes.StreamingConfiguration {
	return mtypes.StreamingConfiguration{DataType: dt, ResourceArn: aws.String(arn)}
}

func TestStreamingConfigurationsAPI(t *testing.T) {
	const (
		kinesisARN = "arn:aws:kinesis:us-east-1:000000000000:stream/chime-messaging-api"
		hookARN    = "arn:aws:sns:us-east-1:000000000000:carillon-hook"
		unknownARN = "arn:aws:sns:us-east-1:000000000000:nowhere"
	)
	e := stNew(t, stream.Options{Sinks: map[string]string{hookARN: "http://127.0.0.1:1/records"}})
	ctx := t.Context()
	missing := e.app + "-missing"

	// None yet: NotFound, as for a missing AppInstance.
	_, err := e.msg.GetMessagingStreamingConfigurations(ctx, &chimesdkmessaging.GetMessagingStreamingConfigurationsInput{AppInstanceArn: aws.String(e.app)})
	wantError(t, err, "NotFoundException")
	_, err = e.msg.GetMessagingStreamingConfigurations(ctx, &chimesdkmessaging.GetMessagingStreamingConfigurationsInput{AppInstanceArn: aws.String(missing)})
	wantError(t, err, "NotFoundException")

	out, err := e.put(t, e.app, stConfig(mtypes.MessagingDataTypeChannelMessage, hookARN), stConfig(mtypes.MessagingDataTypeChannel, kinesisARN))
	mustOK(t, err, "PutMessagingStreamingConfigurations")
	if len(out.StreamingConfigurations) != 2 || aws.ToString(out.StreamingConfigurations[0].ResourceArn) != hookARN {
		t.Errorf("Put answered %+v", out.StreamingConfigurations)
	}
	got, err := e.msg.GetMessagingStreamingConfigurations(ctx, &chimesdkmessaging.GetMessagingStreamingConfigurationsInput{AppInstanceArn: aws.String(e.app)})
	mustOK(t, err, "GetMessagingStreamingConfigurations")
	if len(got.StreamingConfigurations) != 2 ||
		got.StreamingConfigurations[0].DataType != mtypes.MessagingDataTypeChannel || aws.ToString(got.StreamingConfigurations[0].ResourceArn) != kinesisARN ||
		got.StreamingConfigurations[1].DataType != mtypes.MessagingDataTypeChannelMessage || aws.ToString(got.StreamingConfigurations[1].ResourceArn) != hookARN {
		t.Errorf("Get answered %+v", got.StreamingConfigurations)
	}

	// A Put replaces the configurations.
	_, err = e.put(t, e.app, stConfig(mtypes.MessagingDataTypeChannelMessage, kinesisARN))
	mustOK(t, err, "PutMessagingStreamingConfigurations again")
	got, err = e.msg.GetMessagingStreamingConfigurations(ctx, &chimesdkmessaging.GetMessagingStreamingConfigurationsInput{AppInstanceArn: aws.String(e.app)})
	mustOK(t, err, "GetMessagingStreamingConfigurations")
	if len(got.StreamingConfigurations) != 1 || got.StreamingConfigurations[0].DataType != mtypes.MessagingDataTypeChannelMessage {
		t.Errorf("after replacing, Get answered %+v", got.StreamingConfigurations)
	}

	// The modelled errors.
	_, err = e.put(t, missing, stConfig(mtypes.MessagingDataTypeChannel, kinesisARN))
	wantError(t, err, "NotFoundException")
	_, err = e.put(t, e.app, stConfig(mtypes.MessagingDataTypeChannel, kinesisARN), stConfig(mtypes.MessagingDataTypeChannel, hookARN))
	wantError(t, err, "BadRequestException")
	_, err = e.put(t, e.app, stConfig(mtypes.MessagingDataTypeChannel, unknownARN))
	if msg := wantError(t, err, "BadRequestException"); !strings.Contains(msg, unknownARN) {
		t.Errorf("the BadRequest message %q does not name %s", msg, unknownARN)
	}
	_, err = e.put(t, e.app, stConfig(mtypes.MessagingDataTypeChannel, kinesisARN), stConfig(mtypes.MessagingDataTypeChannelMessage, kinesisARN), stConfig(mtypes.MessagingDataTypeChannel, hookARN))
	wantError(t, err, "BadRequestException")
	_, err = e.put(t, e.app)
	wantError(t, err, "BadRequestException")
	_, err = e.put(t, e.app, stConfig("Messages", kinesisARN))
	wantError(t, err, "BadRequestException")

	// Only the root credentials may configure streaming.
	user := e.user(t, "u1")
	asUser := chimesdkmessaging.NewFromConfig(e.srv.UserConfig(t, user))
	_, err = asUser.GetMessagingStreamingConfigurations(ctx, &chimesdkmessaging.GetMessagingStreamingConfigurationsInput{AppInstanceArn: aws.String(e.app)})
	wantError(t, err, "ForbiddenException")
	_, err = asUser.DeleteMessagingStreamingConfigurations(ctx, &chimesdkmessaging.DeleteMessagingStreamingConfigurationsInput{AppInstanceArn: aws.String(e.app)})
	wantError(t, err, "ForbiddenException")

	// Delete: 204, again 204; a missing AppInstance is Forbidden (no
	// NotFound modelled).
	for range 2 {
		_, err = e.msg.DeleteMessagingStreamingConfigurations(ctx, &chimesdkmessaging.DeleteMessagingStreamingConfigurationsInput{AppInstanceArn: aws.String(e.app)})
		mustOK(t, err, "DeleteMessagingStreamingConfigurations")
	}
	_, err = e.msg.GetMessagingStreamingConfigurations(ctx, &chimesdkmessaging.GetMessagingStreamingConfigurationsInput{AppInstanceArn: aws.String(e.app)})
	wantError(t, err, "NotFoundException")
	_, err = e.msg.DeleteMessagingStreamingConfigurations(ctx, &chimesdkmessaging.DeleteMessagingStreamingConfigurationsInput{AppInstanceArn: aws.String(missing)})
	wantError(t, err, "ForbiddenException")

	// DeleteAppInstance takes the configurations with it.
	_, err = e.put(t, e.app, stConfig(mtypes.MessagingDataTypeChannel, kinesisARN))
	mustOK(t, err, "PutMessagingStreamingConfigurations")
	_, err = e.id.DeleteAppInstance(ctx, &chimesdkidentity.DeleteAppInstanceInput{AppInstanceArn: aws.String(e.app)})
	mustOK(t, err, "DeleteAppInstance")
	_, err = e.msg.GetMessagingStreamingConfigurations(ctx, &chimesdkmessaging.GetMessagingStreamingConfigurationsInput{AppInstanceArn: aws.String(e.app)})
	wantError(t, err, "NotFoundException")
}

// The events only the streaming export carries have no websocket
// audience: the hub delivers them to nobody.
func TestStreamOnlyEventsHaveNoAudience(t *testing.T) {
	e := stNew(t, stream.Options{})
	ctx := t.Context()
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	out, err := e.msg.CreateChannel(ctx, &chimesdkmessaging.CreateChannelInput{
		AppInstanceArn: aws.String(e.app), Name: aws.String("c"), ChimeBearer: aws.String(alice), ClientRequestToken: aws.String("t1"),
	})
	mustOK(t, err, "CreateChannel")
	ch := out.ChannelArn
	_, err = e.msg.CreateChannelBan(ctx, &chimesdkmessaging.CreateChannelBanInput{ChannelArn: ch, MemberArn: aws.String(bob), ChimeBearer: aws.String(alice)})
	mustOK(t, err, "CreateChannelBan")
	_, err = e.msg.DeleteChannelBan(ctx, &chimesdkmessaging.DeleteChannelBanInput{ChannelArn: ch, MemberArn: aws.String(bob), ChimeBearer: aws.String(alice)})
	mustOK(t, err, "DeleteChannelBan")
	_, err = e.msg.CreateChannelModerator(ctx, &chimesdkmessaging.CreateChannelModeratorInput{ChannelArn: ch, ChannelModeratorArn: aws.String(bob), ChimeBearer: aws.String(alice)})
	mustOK(t, err, "CreateChannelModerator")
	_, err = e.msg.DeleteChannelModerator(ctx, &chimesdkmessaging.DeleteChannelModeratorInput{ChannelArn: ch, ChannelModeratorArn: aws.String(bob), ChimeBearer: aws.String(alice)})
	mustOK(t, err, "DeleteChannelModerator")
	_, err = e.msg.PutChannelExpirationSettings(ctx, &chimesdkmessaging.PutChannelExpirationSettingsInput{ChannelArn: ch, ChimeBearer: aws.String(alice)})
	mustOK(t, err, "PutChannelExpirationSettings")

	var evs []carillon.Event
	err = e.srv.Server.Store().View(ctx, func(tx carillon.Tx) error {
		var err error
		evs, err = tx.Events(0, 0)
		return err
	})
	mustOK(t, err, "reading the outbox")
	streamOnly := map[string]int{}
	for _, ev := range evs {
		switch ev.Type {
		case messaging.EventCreateChannel, messaging.EventCreateChannelBan, messaging.EventDeleteChannelBan,
			messaging.EventCreateChannelModerator, messaging.EventDeleteChannelModerator, messaging.EventUpdateChannelExpirationSettings:
			streamOnly[ev.Type]++
			if ev.ToMembers || len(ev.Recipients) > 0 || ev.MemberChange != 0 || ev.Channel != aws.ToString(ch) {
				t.Errorf("%s: ToMembers %v, Recipients %v, MemberChange %d, Channel %s", ev.Type, ev.ToMembers, ev.Recipients, ev.MemberChange, ev.Channel)
			}
		}
	}
	want := map[string]int{
		messaging.EventCreateChannel: 1, messaging.EventCreateChannelBan: 1, messaging.EventDeleteChannelBan: 1,
		messaging.EventCreateChannelModerator: 2, messaging.EventDeleteChannelModerator: 1, messaging.EventUpdateChannelExpirationSettings: 1,
	}
	for typ, n := range want {
		if streamOnly[typ] != n {
			t.Errorf("%d %s events, want %d", streamOnly[typ], typ, n)
		}
	}
}
