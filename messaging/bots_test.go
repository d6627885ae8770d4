package messaging

import (
	"context"
	"fmt"
	"testing"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api"
	"github.com/carillonhq/carillon/api/messagingapi"
)

// TestBotInvocationsElastic: in an elastic channel, a bot hears the
// messages of its own sub-channel only.
func TestBotInvocationsElastic(t *testing.T) {
	t.Parallel()
	s, app, users := newTestService(t, DefaultLimits, "mod", "u1", "u2", "u3")
	ctx := context.Background()
	bot := testARNs.Child(app, carillon.TypeBot, "helper")
	if err := s.store.Update(ctx, func(tx carillon.Tx) error {
		return tx.CreateBot(&carillon.AppInstanceBot{ARN: bot, AppInstanceARN: app, Name: "Helper",
			Lex: carillon.LexConfiguration{LexBotAliasARN: "arn:aws:lex:us-east-1:000000000000:bot-alias/B/A", LocaleID: "en_US",
				InvokedBy: &carillon.InvokedBy{StandardMessages: "ALL", TargetedMessages: "NONE"}},
			Created: tx.Now(), Updated: tx.Now()})
	}); err != nil {
		t.Fatal(err)
	}
	mod := users[0]
	out, err := s.CreateChannel(ctx, &messagingapi.CreateChannelRequest{
		AppInstanceArn: &app, Name: api.String("Elastic"), ChimeBearer: &mod, Mode: new(messagingapi.ChannelModeRestricted),
		ElasticChannelConfiguration: &messagingapi.ElasticChannelConfiguration{
			MaximumSubChannels: api.Int32(3), TargetMembershipsPerSubChannel: api.Int32(2), MinimumMembershipPercentage: api.Int32(10),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ch := *out.ChannelArn
	subOf := map[string]string{}
	for _, m := range []string{bot, users[1], users[2], users[3]} {
		res, err := s.CreateChannelMembership(ctx, &messagingapi.CreateChannelMembershipRequest{
			ChannelArn: &ch, ChimeBearer: &mod, MemberArn: &m, Type: new(messagingapi.ChannelMembershipTypeDefault),
		})
		if err != nil {
			t.Fatal(err)
		}
		subOf[m] = *res.SubChannelId
	}
	// Moves may have followed the joins: read where everyone is now.
	for m := range subOf {
		if err := s.store.View(ctx, func(tx carillon.Tx) error {
			mem, err := tx.GetMembership(ch, m)
			if err == nil {
				subOf[m] = mem.SubChannelID
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	invoked := func(sender string) int {
		t.Helper()
		sub := subOf[sender]
		if _, err := s.SendChannelMessage(ctx, &messagingapi.SendChannelMessageRequest{
			ChannelArn: &ch, ChimeBearer: &sender, Content: api.String("hello"), SubChannelId: &sub,
			Type: new(messagingapi.ChannelMessageTypeStandard), Persistence: new(messagingapi.ChannelMessagePersistenceTypePersistent),
			ClientRequestToken: api.String("t-" + sender),
		}); err != nil {
			t.Fatal(err)
		}
		evs := elasticEvents(t, s)
		var invs []BotInvocation
		for i := len(evs) - 1; i >= 0; i-- {
			if evs[i].Type == EventCreateChannelMessage {
				if err := s.store.View(ctx, func(tx carillon.Tx) (err error) {
					invs, err = BotInvocations(tx, messageOf(t, &evs[i]))
					return err
				}); err != nil {
					t.Fatal(err)
				}
				break
			}
		}
		return len(invs)
	}
	checked := map[bool]bool{}
	for _, u := range users[1:] {
		same := subOf[u] == subOf[bot]
		if got := invoked(u); got != map[bool]int{true: 1, false: 0}[same] {
			t.Errorf("a message of %s (sub-channel %s; the bot's %s) invoked %d bots", u, subOf[u], subOf[bot], got)
		}
		checked[same] = true
	}
	if !checked[true] || !checked[false] {
		t.Fatalf("the members were not spread over the bot's sub-channel and another: %v", subOf)
	}
}

// TestBotInvocationsManyBots: every bot member is found, past the first
// page of memberships, and no user is taken for one.
func TestBotInvocationsManyBots(t *testing.T) {
	t.Parallel()
	s, app, users := newTestService(t, DefaultLimits, "alice", "zed")
	ctx := context.Background()
	alice := users[0]
	var members []string
	if err := s.store.Update(ctx, func(tx carillon.Tx) error {
		for i := range 2*botPage + 3 {
			arn := testARNs.Child(app, carillon.TypeBot, fmt.Sprintf("b%02d", i))
			members = append(members, arn)
			if err := tx.CreateBot(&carillon.AppInstanceBot{ARN: arn, AppInstanceARN: app, Name: "Bot",
				Lex: carillon.LexConfiguration{LexBotAliasARN: "arn:aws:lex:us-east-1:000000000000:bot-alias/B/A", LocaleID: "en_US",
					InvokedBy: &carillon.InvokedBy{StandardMessages: "ALL", TargetedMessages: "NONE"}},
				Created: tx.Now(), Updated: tx.Now()}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	members = append(members, users[1])
	out, err := s.CreateChannel(ctx, &messagingapi.CreateChannelRequest{
		AppInstanceArn: &app, Name: api.String("Bots"), ChimeBearer: &alice,
	})
	if err != nil {
		t.Fatal(err)
	}
	ch := *out.ChannelArn
	for _, m := range members {
		if _, err := s.CreateChannelMembership(ctx, &messagingapi.CreateChannelMembershipRequest{
			ChannelArn: &ch, ChimeBearer: &alice, MemberArn: &m, Type: new(messagingapi.ChannelMembershipTypeDefault),
		}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.SendChannelMessage(ctx, &messagingapi.SendChannelMessageRequest{
		ChannelArn: &ch, ChimeBearer: &alice, Content: api.String("hello, bots"), ClientRequestToken: api.String("t"),
		Type: new(messagingapi.ChannelMessageTypeStandard), Persistence: new(messagingapi.ChannelMessagePersistenceTypePersistent),
	}); err != nil {
		t.Fatal(err)
	}
	evs := elasticEvents(t, s)
	var invs []BotInvocation
	if err := s.store.View(ctx, func(tx carillon.Tx) (err error) {
		invs, err = BotInvocations(tx, messageOf(t, &evs[len(evs)-1]))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(invs) != 2*botPage+3 {
		t.Errorf("%d bots invoked, want %d", len(invs), 2*botPage+3)
	}
	for _, inv := range invs {
		if !isBot(inv.Bot) || inv.Text != "hello, bots" || inv.Sender != alice {
			t.Errorf("invocation %+v", inv)
		}
	}
}

// messageOf is the message of a CREATE_CHANNEL_MESSAGE event.
func messageOf(t *testing.T, e *carillon.Event) *MessageData {
	t.Helper()
	d, err := ReadEventData(e)
	if err != nil || d == nil || d.Message == nil {
		t.Fatalf("the data of event %d (%s): %+v, %v", e.Seq, e.Type, d, err)
	}
	return d.Message
}
