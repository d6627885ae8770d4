package messaging

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api"
	"github.com/carillonhq/carillon/api/messagingapi"
)

// The rules of AppInstanceBots (DG "appinstance-bot-setup",
// "message-appinstancebot", "process-response"): which messages invoke
// which bots, and how their answers are sent. Package bots calls Lex.

// Bot reply content types and attributes (DG "process-response").
const (
	ContentTypeLexMessages = "application/amz-chime-lex-msgs"
	ContentTypeLexError    = "application/amz-chime-lex-error"
	AttributeMentions      = "CHIME.mentions"
	AttributeIntentName    = "CHIME.LEX.sessionState.intent.name"
	AttributeIntentState   = "CHIME.LEX.sessionState.intent.state"
	AttributeOriginating   = "CHIME.LEX.sessionState.originatingRequestId"
	AttributeSessionID     = "CHIME.LEX.sessionState.sessionId"
)

// BotInvocation is a message that invokes a bot.
type BotInvocation struct {
	Bot       string // the AppInstanceBot's ARN
	Lex       carillon.LexConfiguration
	Channel   string
	MessageID string
	Sender    string
	Text      string
	// Target is whom the answer is for: the sender, when the message
	// targeted the bot (the answer is then targeted to the sender too);
	// "" for an answer to the channel.
	Target string
	// SubChannelID is the message's sub-channel, where the answer goes.
	SubChannelID string
	// SessionID names the Lex session: one per bot, channel and sender,
	// so that each member holds its own dialog with the bot.
	SessionID string
	// Welcome is set when the bot joined the channel and has a
	// WelcomeIntent to announce itself with; there is no message then.
	Welcome bool
	// Key identifies the invocation, for the answer's idempotency: the
	// message's id, or the membership event's for a welcome.
	Key string
}

// botPage is how many memberships BotInvocations reads at a time: a
// channel usually has few bots, and the page after them is users'.
const botPage = 8

// BotInvocations returns the bots that the message of a
// CREATE_CHANNEL_MESSAGE event (its EventData) invokes, by the memberships
// and bots in tx:
//
//   - only STANDARD messages, and none sent by a bot (so that bots never
//     answer one another in a loop);
//   - a message targeted to a bot invokes it when its TargetedMessages is
//     ALL, and the answer is targeted to the sender;
//   - other messages invoke each bot member by its StandardMessages: ALL;
//     MENTIONS when the CHIME.mentions attribute names the bot; AUTO as
//     ALL when the bot has exactly one other member to talk to (HIDDEN
//     members do not count), else as MENTIONS; NONE never. A bot
//     without InvokedBy (the deprecated RespondsTo) answers every
//     STANDARD message. In an elastic channel, only the bots in the
//     message's sub-channel.
func BotInvocations(tx carillon.Tx, m *MessageData) ([]BotInvocation, error) {
	if m.Type != messageStandard || isBot(m.Sender) {
		return nil, nil
	}
	ch, ok := carillon.ParseResource(m.Channel)
	if !ok {
		return nil, nil
	}
	app := ch.AppInstanceARN()
	invocation := func(bot string, lex carillon.LexConfiguration) BotInvocation {
		sum := sha256.Sum256([]byte(bot + "|" + m.Channel + "|" + m.Sender))
		return BotInvocation{
			Bot: bot, Lex: lex, Channel: m.Channel, MessageID: m.ID, Sender: m.Sender,
			Text: m.Content, SubChannelID: m.SubChannel, SessionID: hex.EncodeToString(sum[:16]), Key: m.ID,
		}
	}
	if m.Target != "" {
		target := m.Target
		if !isBot(target) {
			return nil, nil
		}
		b, err := tx.GetBot(target)
		if isNotFound(err) {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
		if b.Lex.InvokedBy == nil || b.Lex.InvokedBy.TargetedMessages != "ALL" {
			return nil, nil
		}
		inv := invocation(b.ARN, b.Lex)
		inv.Target = m.Sender
		return []BotInvocation{inv}, nil
	}
	// The channel's bot members: their ARNs sort together, under the
	// AppInstance's "bot/", before its users'.
	botPrefix := app + "/bot/"
	var bots []carillon.Membership
	for page := (carillon.Page{After: botPrefix, Limit: botPage}); ; {
		ms, err := tx.ListMemberships(m.Channel, "", "", page)
		if err != nil {
			return nil, err
		}
		for _, mem := range ms {
			if !strings.HasPrefix(mem.MemberARN, botPrefix) {
				break
			}
			bots = append(bots, mem)
		}
		if len(ms) < page.Limit || !strings.HasPrefix(ms[len(ms)-1].MemberARN, botPrefix) {
			break
		}
		page.After = ms[len(ms)-1].MemberARN
	}
	var out []BotInvocation
	mentions := m.Attributes[AttributeMentions]
	for _, mem := range bots {
		// In an elastic channel, only the bots of the message's
		// sub-channel hear it (and may answer there).
		if m.SubChannel != "" {
			if in, err := isInSubChannel(tx, m.Channel, &mem, m.SubChannel); err != nil {
				return nil, err
			} else if !in {
				continue
			}
		}
		b, err := tx.GetBot(mem.MemberARN)
		if isNotFound(err) {
			continue
		} else if err != nil {
			return nil, err
		}
		mode := "ALL"
		if b.Lex.InvokedBy != nil {
			mode = b.Lex.InvokedBy.StandardMessages
		}
		if mode == "AUTO" {
			if mode, err = autoMode(tx, m.Channel, b.ARN); err != nil {
				return nil, err
			}
		}
		if mode == "ALL" || mode == "MENTIONS" && slices.Contains(mentions, b.ARN) {
			out = append(out, invocation(b.ARN, b.Lex))
		}
	}
	return out, nil
}

func isBot(arn string) bool {
	r, ok := carillon.ParseResource(arn)
	return ok && r.Type == carillon.TypeBot
}

// BotWelcomes returns the welcomes a membership event calls for: the
// bots it adds to their channel (CREATE_ or BATCH_CREATE_CHANNEL_MEMBERSHIP)
// that have a WelcomeIntent, to announce themselves with (DG
// "welcome-intent").
func BotWelcomes(tx carillon.Tx, e *carillon.Event) ([]BotInvocation, error) {
	if e.MemberChange <= 0 || (e.Type != EventCreateChannelMembership && e.Type != EventBatchCreateChannelMembership) {
		return nil, nil
	}
	added := e.Recipients
	if e.Member != "" {
		added = []string{e.Member}
	}
	channel, sub := carillon.AudienceChannel(e.Channel)
	var out []BotInvocation
	for _, arn := range added {
		if !isBot(arn) {
			continue
		}
		b, err := tx.GetBot(arn)
		if isNotFound(err) {
			continue
		} else if err != nil {
			return nil, err
		}
		if b.Lex.WelcomeIntent == "" {
			continue
		}
		sum := sha256.Sum256([]byte(b.ARN + "|" + channel + "|"))
		out = append(out, BotInvocation{
			Bot: b.ARN, Lex: b.Lex, Channel: channel, SubChannelID: sub, SessionID: hex.EncodeToString(sum[:16]),
			Welcome: true, Key: fmt.Sprintf("welcome-%d", e.Seq),
		})
	}
	return out, nil
}

// autoMode resolves StandardMessages AUTO: ALL when the channel has
// exactly one DEFAULT member besides the bot, MENTIONS otherwise.
func autoMode(tx carillon.Tx, channel, bot string) (string, error) {
	ms, err := tx.ListMemberships(channel, membershipDefault, "", carillon.Page{Limit: 3})
	if err != nil {
		return "", err
	}
	others := 0
	for _, m := range ms {
		if m.MemberARN != bot {
			others++
		}
	}
	if others == 1 {
		return "ALL", nil
	}
	return "MENTIONS", nil
}

// BotAnswer is what a bot answers to an invocation: Lex's messages and
// session state, or an error.
type BotAnswer struct {
	// Messages is the Content of the answer, {"Messages": [...]}, as
	// AWS writes Lex's messages (PascalCase keys).
	Messages json.RawMessage
	// IntentName and IntentState are Lex's sessionState.intent.
	IntentName, IntentState string
	// ErrorCode, when not 0, makes the answer an error:
	// application/amz-chime-lex-error, {"Code": ErrorCode}.
	ErrorCode int
}

// SendBotAnswer sends a bot's answer to its invocation, as the bot:
// STANDARD, persistent, with the CHIME.LEX attributes; an error is a
// CONTROL message. Its ClientRequestToken is derived from the invocation
// (its Key) and the bot, so an invocation run twice answers once.
func (s *Service) SendBotAnswer(ctx context.Context, inv *BotInvocation, a *BotAnswer) error {
	typ, persistence := messagingapi.ChannelMessageTypeStandard, messagingapi.ChannelMessagePersistenceTypePersistent
	content, contentType := string(a.Messages), ContentTypeLexMessages
	attrs := map[string]messagingapi.MessageAttributeValue{
		AttributeSessionID: {StringValues: []string{inv.SessionID}},
	}
	if inv.MessageID != "" {
		attrs[AttributeOriginating] = messagingapi.MessageAttributeValue{StringValues: []string{inv.MessageID}}
	}
	if a.IntentName != "" {
		attrs[AttributeIntentName] = messagingapi.MessageAttributeValue{StringValues: []string{a.IntentName}}
	}
	if a.IntentState != "" {
		attrs[AttributeIntentState] = messagingapi.MessageAttributeValue{StringValues: []string{a.IntentState}}
	}
	if a.ErrorCode != 0 {
		typ, contentType = messagingapi.ChannelMessageTypeControl, ContentTypeLexError
		content = fmt.Sprintf(`{"Code":%d}`, a.ErrorCode)
		attrs = nil // CONTROL messages carry no more than their content
	}
	token := sha256.Sum256([]byte(inv.Bot + "|" + inv.Channel + "|" + inv.Key))
	in := &messagingapi.SendChannelMessageRequest{
		ChannelArn: &inv.Channel, ChimeBearer: &inv.Bot, Content: &content, ContentType: &contentType,
		Type: &typ, Persistence: &persistence, MessageAttributes: attrs,
		ClientRequestToken: api.String(hex.EncodeToString(token[:16])),
	}
	if inv.SubChannelID != "" {
		in.SubChannelId = &inv.SubChannelID
	}
	if inv.Target != "" {
		in.Target = []messagingapi.Target{{MemberArn: &inv.Target}}
	}
	_, err := s.SendChannelMessage(ctx, in)
	return err
}
