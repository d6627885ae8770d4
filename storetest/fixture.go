package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/carillonhq/carillon"
)

// The fixture is one row of every kind, with values that exercise every
// column encoding: NUL characters and non-ASCII text in free text, JSON
// columns with and without their optional parts, nullable column groups
// set and unset, zero and non-zero times. An engine writes it once with
// WriteFixture and keeps the database (or a dump of it) in its testdata;
// its tests then read that database with ReadFixture and compare the
// result with the JSON kept beside it, so that a change of an encoding
// that would misread an existing database fails a test.

const (
	fixtureApp     = "arn:aws:chime:us-east-1:123456789012:app-instance/fixture"
	fixtureUser    = fixtureApp + "/user/ann"
	fixtureUser2   = fixtureApp + "/user/bob"
	fixtureBot     = fixtureApp + "/bot/lex"
	fixtureBot2    = fixtureApp + "/bot/plain"
	fixtureChannel = fixtureApp + "/channel/elastic"
	fixturePlain   = fixtureApp + "/channel/plain"
	fixtureFlow    = fixtureApp + "/channel-flow/flow"
)

// fixtureTime is the clock of WriteFixture: a time with milliseconds, so
// that a lost millisecond shows.
var fixtureTime = time.Date(2025, 11, 24, 16, 0, 0, 123e6, time.UTC)

func fixtureMessage(channel, id string) carillon.Message {
	return carillon.Message{
		ChannelARN: channel, ID: id, Sender: fixtureUser, SenderName: "Ann \x00 Ünïcode",
		Content: "héllo \"world\" \x00 <b>&</b>", Metadata: "meta\x00data", ContentType: "text/markdown",
		Type: "STANDARD", Persistence: "PERSISTENT", Status: "SENT", StatusDetail: "detail",
		Attributes: map[string][]string{"b": {"2", "3"}, "a": {"1"}},
		Push:       &carillon.PushNotification{Title: "title", Body: "body\x00", Type: "VOIP"},
		Created:    fixtureTime, Updated: fixtureTime.Add(time.Second), LastEdited: fixtureTime.Add(2 * time.Second),
	}
}

// WriteFixture writes the fixture into an empty store whose clock reads
// fixtureTime.
func WriteFixture(ctx context.Context, s carillon.Store) error {
	return s.Update(ctx, func(tx carillon.Tx) error {
		now := tx.Now()
		steps := []func() error{
			func() error {
				return tx.CreateAppInstance(&carillon.AppInstance{ARN: fixtureApp, Name: "Fixture \x00 app", Metadata: "métadata", Created: now, Updated: now})
			},
			func() error {
				return tx.PutRetentionSettings(fixtureApp, &carillon.RetentionSettings{ChannelDays: 30, InitiatedAt: now})
			},
			func() error {
				return tx.CreateUser(&carillon.AppInstanceUser{ARN: fixtureUser, AppInstanceARN: fixtureApp, Name: "Ann \x00 Ünïcode", Metadata: "m",
					Expiration: &carillon.ExpirationSettings{Days: 7, Criterion: "CREATED_TIMESTAMP"}, Created: now, Updated: now})
			},
			func() error {
				return tx.CreateUser(&carillon.AppInstanceUser{ARN: fixtureUser2, AppInstanceARN: fixtureApp, Name: "Bob", Created: now})
			},
			func() error {
				return tx.CreateBot(&carillon.AppInstanceBot{ARN: fixtureBot, AppInstanceARN: fixtureApp, Name: "Lex bot", Metadata: "bm",
					Lex: carillon.LexConfiguration{LexBotAliasARN: "arn:aws:lex:us-east-1:123456789012:bot-alias/B/A", LocaleID: "en_US",
						RespondsTo: "STANDARD_MESSAGES", WelcomeIntent: "Hello",
						InvokedBy: &carillon.InvokedBy{StandardMessages: "AUTO", TargetedMessages: "ALL"}},
					Created: now, Updated: now})
			},
			func() error {
				return tx.CreateBot(&carillon.AppInstanceBot{ARN: fixtureBot2, AppInstanceARN: fixtureApp, Name: "Plain bot", Created: now, Updated: now})
			},
			func() error {
				return tx.CreateAdmin(&carillon.AppInstanceAdmin{AppInstanceARN: fixtureApp, AdminARN: fixtureUser, Created: now})
			},
			func() error {
				return tx.CreateEndpoint(&carillon.UserEndpoint{UserARN: fixtureUser, ID: "ep1", Name: "phone \x00", Type: "APNS",
					ResourceARN: "arn:aws:mobiletargeting:us-east-1:123456789012:apps/x", DeviceToken: "tok\x00en", VoipDeviceToken: "voip",
					AllowMessages: "ALL", StateStatus: "ACTIVE", Created: now, Updated: now})
			},
			func() error {
				return tx.CreateChannelFlow(&carillon.ChannelFlow{ARN: fixtureFlow, AppInstanceARN: fixtureApp, Name: "flow \x00",
					Processors: []carillon.Processor{
						{Name: "first", LambdaARN: "arn:aws:lambda:us-east-1:123456789012:function:a", InvocationType: "ASYNC", ExecutionOrder: 1, FallbackAction: "ABORT"},
						{Name: "second", LambdaARN: "arn:aws:lambda:us-east-1:123456789012:function:b", InvocationType: "ASYNC", ExecutionOrder: 2, FallbackAction: "CONTINUE"},
					}, Created: now, Updated: now})
			},
			func() error {
				return tx.CreateChannel(&carillon.Channel{ARN: fixtureChannel, AppInstanceARN: fixtureApp, Name: "elastic \x00 ch", Mode: "RESTRICTED",
					Privacy: "PRIVATE", Metadata: "cm", CreatedBy: fixtureUser, FlowARN: fixtureFlow,
					Elastic:    &carillon.ElasticConfig{MaximumSubChannels: 10, TargetMembershipsPerSubChannel: 100, MinimumMembershipPercentage: 25},
					Expiration: &carillon.ExpirationSettings{Days: 3, Criterion: "LAST_MESSAGE_TIMESTAMP"},
					Created:    now, Updated: now, LastMessageAt: now})
			},
			func() error {
				return tx.CreateChannel(&carillon.Channel{ARN: fixturePlain, AppInstanceARN: fixtureApp, Name: "plain", Mode: "UNRESTRICTED",
					Privacy: "PUBLIC", CreatedBy: fixtureUser, Created: now, Updated: now})
			},
			func() error {
				return tx.CreateSubChannel(&carillon.SubChannel{ChannelARN: fixtureChannel, ID: "sub-1", Created: now})
			},
			func() error {
				return tx.CreateMembership(&carillon.Membership{ChannelARN: fixtureChannel, MemberARN: fixtureUser, Type: "DEFAULT",
					InvitedBy: fixtureUser, SubChannelID: "sub-1", ReadMarker: now,
					Preferences: &carillon.MembershipPreferences{AllowNotifications: "FILTERED", FilterRule: `{"a":["x\u0000"]}`},
					Created:     now, Updated: now})
			},
			func() error {
				return tx.CreateMembership(&carillon.Membership{ChannelARN: fixturePlain, MemberARN: fixtureBot, Type: "HIDDEN",
					InvitedBy: fixtureUser, Created: now})
			},
			func() error {
				return tx.CreateSubChannelMembership(&carillon.Membership{ChannelARN: fixtureChannel, SubChannelID: "sub-1",
					MemberARN: fixtureUser, Type: "DEFAULT", InvitedBy: fixtureUser, Created: now, Updated: now})
			},
			func() error {
				return tx.CreateModerator(&carillon.Moderator{ChannelARN: fixtureChannel, ModeratorARN: fixtureUser, CreatedBy: fixtureUser, Created: now})
			},
			func() error {
				return tx.CreateBan(&carillon.Ban{ChannelARN: fixturePlain, MemberARN: fixtureUser2, CreatedBy: fixtureUser, Created: now})
			},
			func() error {
				m := fixtureMessage(fixtureChannel, "msg-full")
				m.SubChannelID, m.Target = "sub-1", fixtureUser2
				return tx.CreateMessage(&m)
			},
			func() error {
				return tx.CreateMessage(&carillon.Message{ChannelARN: fixturePlain, ID: "msg-bare", Sender: fixtureUser,
					Type: "CONTROL", Persistence: "PERSISTENT", Status: "SENT", Created: now})
			},
			func() error {
				return tx.CreateInvocation(&carillon.Invocation{CallbackID: "cb-1", ChannelARN: fixtureChannel, MessageID: "held",
					FlowARN: fixtureFlow, Kind: "CREATE", Step: 1, Message: fixtureMessage(fixtureChannel, "held"), State: "AWAITING_CALLBACK",
					Attempts: 2, NextAttempt: now.Add(time.Minute), Deadline: now.Add(time.Hour), Created: now})
			},
			func() error {
				return tx.CreateInvocation(&carillon.Invocation{CallbackID: "cb-2", ChannelARN: fixturePlain, MessageID: "held-bare",
					FlowARN: fixtureFlow, Kind: "UPDATE", Message: carillon.Message{ChannelARN: fixturePlain, ID: "held-bare"},
					State: "DUE", Created: now})
			},
			func() error {
				return tx.PutTags(fixtureChannel, []carillon.Tag{{Key: "k\x00", Value: "v\x00ü"}, {Key: "empty", Value: ""}})
			},
			func() error { return tx.PutIdempotent("CreateChannel/"+fixtureUser, "token-1", `{"ChannelArn":"x"}`) },
			func() error {
				return tx.CreateAccessKey(&carillon.AccessKey{ID: "AKIAFIXTURE", Secret: "secret", Bearer: fixtureUser,
					Expires: now.Add(24 * time.Hour), Created: now, SessionID: "s1"})
			},
			func() error {
				return tx.CreateAccessKey(&carillon.AccessKey{ID: "AKIAFOREVER", Secret: "s2", Bearer: fixtureUser2, Created: now})
			},
			func() error {
				return tx.AppendEvent(&carillon.Event{Type: "CREATE_CHANNEL_MESSAGE", Channel: fixtureChannel, ToMembers: true,
					Recipients: []string{fixtureUser, fixtureUser2}, Member: fixtureUser, MemberChange: 1, MessageType: "STANDARD",
					Reason: "r", Payload: []byte(`{"x":1}`), Data: []byte{0, 1, 2, 255}})
			},
			func() error { return tx.AppendEvent(&carillon.Event{Type: "DELETE_CHANNEL", Channel: fixturePlain}) },
			func() error {
				return tx.PutStreamingConfigurations(fixtureApp, []carillon.StreamingConfiguration{
					{AppInstanceARN: fixtureApp, DataType: "Channel", ResourceARN: "arn:aws:kinesis:us-east-1:123456789012:stream/a", Since: 1},
					{AppInstanceARN: fixtureApp, DataType: "ChannelMessage", ResourceARN: "arn:aws:kinesis:us-east-1:123456789012:stream/b", Since: 2},
				})
			},
			func() error {
				return tx.PutSessionPosition(&carillon.SessionPosition{UserARN: fixtureUser, SessionID: "sess-1", Seq: 5,
					Pending: []int64{7, 9}, Audiences: []string{fixtureChannel, fixturePlain}, Saved: now, Live: true})
			},
			func() error {
				return tx.PutSessionPosition(&carillon.SessionPosition{UserARN: fixtureUser2, SessionID: "sess-2", Seq: 1, Saved: now})
			},
		}
		for i, step := range steps {
			if err := step(); err != nil {
				return fmt.Errorf("fixture step %d: %w", i, err)
			}
		}
		return nil
	})
}

// fixtureRead is everything ReadFixture reads, by what read it.
type fixtureRead struct {
	AppInstances    []carillon.AppInstance
	Retention       *carillon.RetentionSettings
	Users           []carillon.AppInstanceUser
	Bots            []carillon.AppInstanceBot
	Admins          []carillon.AppInstanceAdmin
	Endpoints       []carillon.UserEndpoint
	Flows           []carillon.ChannelFlow
	Channels        []carillon.Channel
	SubChannels     []carillon.SubChannel
	Memberships     map[string][]carillon.Membership
	MembershipsOf   []carillon.ChannelMembershipOf
	SubMemberships  []carillon.Membership
	Moderators      []carillon.Moderator
	Bans            []carillon.Ban
	Messages        map[string][]carillon.Message
	Invocations     map[string]*carillon.Invocation
	Tags            []carillon.Tag
	Idempotent      string
	AccessKeys      []carillon.AccessKey
	Events          []carillon.Event
	Streaming       []carillon.StreamingConfiguration
	StreamCursors   []carillon.StreamCursor
	SessionPosition map[string]*carillon.SessionPosition
}

// ReadFixture reads what WriteFixture wrote, through the Tx methods, as
// indented JSON.
func ReadFixture(ctx context.Context, s carillon.Store) ([]byte, error) {
	var r fixtureRead
	err := s.View(ctx, func(tx carillon.Tx) error {
		var err error
		all := carillon.Page{}
		steps := []func() error{
			func() error { r.AppInstances, err = tx.ListAppInstances(all); return err },
			func() error { r.Retention, err = tx.GetRetentionSettings(fixtureApp); return err },
			func() error { r.Users, err = tx.ListUsers(fixtureApp, all); return err },
			func() error { r.Bots, err = tx.ListBots(fixtureApp, all); return err },
			func() error { r.Admins, err = tx.ListAdmins(fixtureApp, all); return err },
			func() error { r.Endpoints, err = tx.ListEndpoints(fixtureUser, all); return err },
			func() error { r.Flows, err = tx.ListChannelFlows(fixtureApp, all); return err },
			func() error { r.Channels, err = tx.ListChannels(fixtureApp, "", all); return err },
			func() error { r.SubChannels, err = tx.ListSubChannels(fixtureChannel, all); return err },
			func() error {
				r.Memberships = map[string][]carillon.Membership{}
				for _, c := range []string{fixtureChannel, fixturePlain} {
					ms, err := tx.ListMemberships(c, "", "", all)
					if err != nil {
						return err
					}
					r.Memberships[c] = ms
				}
				return nil
			},
			func() error { r.MembershipsOf, err = tx.ListMembershipsOf(fixtureUser, all); return err },
			func() error {
				r.SubMemberships, err = tx.ListSubChannelMemberships(fixtureChannel, "sub-1", all)
				return err
			},
			func() error { r.Moderators, err = tx.ListModerators(fixtureChannel, all); return err },
			func() error { r.Bans, err = tx.ListBans(fixturePlain, all); return err },
			func() error {
				r.Messages = map[string][]carillon.Message{}
				for _, q := range []carillon.MessageQuery{
					{Channel: fixtureChannel, SubChannel: "sub-1"},
					{Channel: fixturePlain},
				} {
					ms, err := tx.ListMessages(q)
					if err != nil {
						return err
					}
					r.Messages[q.Channel] = ms
				}
				return nil
			},
			func() error {
				r.Invocations = map[string]*carillon.Invocation{}
				for _, id := range []string{"cb-1", "cb-2"} {
					inv, err := tx.GetInvocation(id)
					if err != nil {
						return err
					}
					r.Invocations[id] = inv
				}
				return nil
			},
			func() error { r.Tags, err = tx.Tags(fixtureChannel); return err },
			func() error {
				var found bool
				r.Idempotent, found, err = tx.Idempotent("CreateChannel/"+fixtureUser, "token-1")
				if err == nil && !found {
					return fmt.Errorf("idempotency result: %w", carillon.ErrNotFound)
				}
				return err
			},
			func() error { r.AccessKeys, err = tx.ListAllAccessKeys(all); return err },
			func() error { r.Events, err = tx.Events(0, 0); return err },
			func() error { r.Streaming, err = tx.AllStreamingConfigurations(); return err },
			func() error { r.StreamCursors, err = tx.StreamCursors(); return err },
			func() error {
				r.SessionPosition = map[string]*carillon.SessionPosition{}
				for _, k := range [][2]string{{fixtureUser, "sess-1"}, {fixtureUser2, "sess-2"}} {
					p, err := tx.GetSessionPosition(k[0], k[1])
					if err != nil {
						return err
					}
					r.SessionPosition[k[1]] = p
				}
				return nil
			},
		}
		for i, step := range steps {
			if err := step(); err != nil {
				return fmt.Errorf("fixture read %d: %w", i, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(r, "", "\t")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// FixtureTime is the time the clock of a store given to WriteFixture must
// read.
func FixtureTime() time.Time { return fixtureTime }
