package messaging

import (
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api/messagingapi"
)

// The lifecycle of a message. Without a channel flow a message is SENT at
// once. In a channel with a flow, a STANDARD message, or the edit of one,
// is held PENDING (hold) while package flows takes it from processor to
// processor, each of which has until a deadline to call back; flows then
// completes it (CompleteHeld): SENT to the channel, DENIED by a processor,
// or FAILED when a processor could not be invoked and its FallbackAction
// is ABORT (docs/channel-flows.md).

// Message statuses (ChannelMessageStatus).
const (
	StatusSent    = string(messagingapi.ChannelMessageStatusSent)
	StatusPending = string(messagingapi.ChannelMessageStatusPending)
	StatusDenied  = string(messagingapi.ChannelMessageStatusDenied)
	StatusFailed  = string(messagingapi.ChannelMessageStatusFailed)
)

// DefaultCallbackDeadline is how long each processor of a channel flow has
// to call back, as in AWS.
const DefaultCallbackDeadline = 48 * time.Hour

// held reports whether a STANDARD message of ch goes through a channel
// flow (CONTROL messages bypass flows, DG "using-channel-flows").
func held(ch *carillon.Channel, m *carillon.Message) bool {
	return ch.FlowARN != "" && m.Type == messageStandard
}

// hold takes a message of a channel with a flow, in the transaction of
// SendChannelMessage (kind carillon.InvocationCreate) or
// UpdateChannelMessage (carillon.InvocationUpdate). A new PERSISTENT
// message is already stored PENDING; an edit is not: m is the edited
// version, and the stored message stays as it was until the edit is SENT.
// hold stores the invocation of the flow's first processor, due at once,
// and announces PENDING_CREATE_CHANNEL_MESSAGE or
// PENDING_UPDATE_CHANNEL_MESSAGE to the sender. The flow's runner, woken
// when the transaction commits, invokes the processor.
func (s *Service) hold(tx carillon.Tx, ch *carillon.Channel, m *carillon.Message, kind string) error {
	inv := &carillon.Invocation{
		ChannelARN: ch.ARN,
		MessageID:  m.ID,
		FlowARN:    ch.FlowARN,
		Kind:       kind,
		Message:    *m,
		Created:    tx.Now(),
	}
	inv.Message.Status = StatusPending
	if err := tx.CreateInvocation(s.step(inv, 0, tx.Now())); err != nil {
		return err
	}
	typ := EventPendingCreateChannelMessage
	if kind == carillon.InvocationUpdate {
		typ = EventPendingUpdateChannelMessage
	}
	return emitMessageEvent(tx, typ, &inv.Message, true)
}

// HoldNext holds a message for the next processor of its flow, step (in
// ExecutionOrder), with the message as the previous processors left it: a
// new CallbackId, due at once, with a new deadline.
func (s *Service) HoldNext(tx carillon.Tx, inv *carillon.Invocation, step int) error {
	if err := tx.DeleteInvocation(inv.CallbackID); err != nil {
		return err
	}
	n := *inv
	return tx.CreateInvocation(s.step(&n, step, tx.Now()))
}

// step makes inv the invocation of a step starting at now: a new
// CallbackId (64 hex characters; the model allows 32 to 64), due at once,
// whose processor has until the callback deadline to call back.
func (s *Service) step(inv *carillon.Invocation, step int, now time.Time) *carillon.Invocation {
	var b [32]byte
	_, _ = rand.Read(b[:])
	inv.CallbackID = hex.EncodeToString(b[:])
	inv.Step = step
	inv.State = carillon.InvocationDue
	inv.Attempts = 0
	inv.NextAttempt = now
	inv.Deadline = now.Add(s.callbackDeadline)
	return inv
}

// CompleteHeld ends a message's way through its channel flow, in the
// transaction that deletes its invocation, with status:
//
//   - StatusSent: a new message is stored SENT (a NON_PERSISTENT one is
//     only announced) and CREATE_CHANNEL_MESSAGE goes to the channel; an
//     edit is applied and UPDATE_CHANNEL_MESSAGE goes to the channel.
//   - StatusDenied: a new message is deleted, never stored as DENIED; an
//     edit is dropped. DENIED_… goes to the sender.
//   - StatusFailed: a new PERSISTENT message is stored FAILED with detail
//     as its StatusDetail; an edit is dropped. FAILED_… goes to the
//     sender.
//
// A message deleted meanwhile, or whose channel was deleted, ends
// without an event.
func (s *Service) CompleteHeld(tx carillon.Tx, inv *carillon.Invocation, status, detail string) error {
	if err := tx.DeleteInvocation(inv.CallbackID); err != nil {
		return err
	}
	ch, err := tx.GetChannel(inv.ChannelARN)
	if isNotFound(err) {
		return nil
	} else if err != nil {
		return err
	}
	m := inv.Message
	var stored *carillon.Message
	if m.Persistence == messagePersistent {
		stored, err = tx.GetMessage(ch.ARN, m.ID)
		if isNotFound(err) {
			return nil
		} else if err != nil {
			return err
		}
	}
	now := tx.Now()
	if inv.Kind == carillon.InvocationUpdate {
		if stored == nil {
			return nil
		}
		switch status {
		case StatusSent:
			if stored.Redacted {
				// Redacted while the edit was processed: it stays
				// redacted, and the edit is dropped.
				return nil
			}
			stored.Content, stored.Metadata, stored.ContentType = m.Content, m.Metadata, m.ContentType
			stored.Attributes, stored.Push = m.Attributes, m.Push
			stored.LastEdited, stored.Updated = m.LastEdited, now
			stored.Status, stored.StatusDetail = StatusSent, ""
			if err := tx.UpdateMessage(stored); err != nil {
				return err
			}
			return emitMessageEvent(tx, EventUpdateChannelMessage, stored, false)
		case StatusDenied:
			m.Status = StatusDenied
			return emitMessageEvent(tx, EventDeniedUpdateChannelMessage, &m, true)
		default:
			m.Status, m.StatusDetail = StatusFailed, detail
			return emitMessageEvent(tx, EventFailedUpdateChannelMessage, &m, true)
		}
	}
	switch status {
	case StatusSent:
		m.Status, m.StatusDetail = StatusSent, ""
		if stored != nil {
			if !stored.Redacted {
				stored.Content, stored.Metadata, stored.ContentType = m.Content, m.Metadata, m.ContentType
				stored.Attributes, stored.Push = m.Attributes, m.Push
			}
			stored.Status, stored.StatusDetail, stored.Updated = StatusSent, "", now
			if err := tx.UpdateMessage(stored); err != nil {
				return err
			}
			m = *stored
			if now.After(ch.LastMessageAt) {
				ch.LastMessageAt = now
				if err := tx.SetChannelLastMessageAt(ch.ARN, now); err != nil {
					return err
				}
			}
		}
		return emitMessageEvent(tx, EventCreateChannelMessage, &m, false)
	case StatusDenied:
		if stored != nil {
			if err := tx.DeleteMessage(ch.ARN, m.ID); err != nil {
				return err
			}
		}
		m.Status = StatusDenied
		return emitMessageEvent(tx, EventDeniedCreateChannelMessage, &m, true)
	default:
		m.Status, m.StatusDetail = StatusFailed, detail
		if stored != nil {
			stored.Status, stored.StatusDetail, stored.Updated = StatusFailed, detail, now
			if err := tx.UpdateMessage(stored); err != nil {
				return err
			}
			m = *stored
		}
		return emitMessageEvent(tx, EventFailedCreateChannelMessage, &m, true)
	}
}
