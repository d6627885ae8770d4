package flows

import (
	"context"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api"
	"github.com/carillonhq/carillon/api/messagingapi"
	"github.com/carillonhq/carillon/internal/idem"
	"github.com/carillonhq/carillon/messaging"
)

// Message statuses and persistences.
const (
	statusSent       = string(messagingapi.ChannelMessageStatusSent)
	statusPending    = string(messagingapi.ChannelMessageStatusPending)
	statusDenied     = string(messagingapi.ChannelMessageStatusDenied)
	statusFailed     = string(messagingapi.ChannelMessageStatusFailed)
	persistent       = string(messagingapi.ChannelMessagePersistenceTypePersistent)
	messageStandard  = string(messagingapi.ChannelMessageTypeStandard)
	fallbackAbort    = string(messagingapi.FallbackActionAbort)
	fallbackContinue = string(messagingapi.FallbackActionContinue)
)

// Hold takes a message of a channel with a flow (messaging.FlowHolder):
// it stores the invocation of the flow's first processor, due at once,
// and announces PENDING_CREATE_CHANNEL_MESSAGE or
// PENDING_UPDATE_CHANNEL_MESSAGE to the sender. The runner, kicked when
// the transaction commits, invokes the processor.
func (s *Service) Hold(tx carillon.Tx, ch *carillon.Channel, m *carillon.Message, kind string) error {
	now := tx.Now()
	inv := &carillon.Invocation{
		CallbackID:  newCallbackID(),
		ChannelARN:  ch.ARN,
		MessageID:   m.ID,
		FlowARN:     ch.FlowARN,
		Kind:        kind,
		Message:     *m,
		State:       carillon.InvocationDue,
		NextAttempt: now,
		Deadline:    now.Add(s.opts.CallbackDeadline),
		Created:     now,
	}
	inv.Message.Status = statusPending
	if err := tx.CreateInvocation(inv); err != nil {
		return err
	}
	typ := messaging.EventPendingCreateChannelMessage
	if kind == carillon.InvocationUpdate {
		typ = messaging.EventPendingUpdateChannelMessage
	}
	return messaging.EmitMessageEvent(tx, typ, &inv.Message, true)
}

// ChannelFlowCallback is a processor's answer about a message: its
// processed content, or, with DeleteResource, its denial. The CallbackId
// names the step: the same callback again returns the same response and
// changes nothing; a different callback with the same CallbackId answers
// ConflictException; one after the deadline (or for a CallbackId never
// issued) answers ForbiddenException.
func (s *Service) ChannelFlowCallback(ctx context.Context, in *messagingapi.ChannelFlowCallbackRequest) (*messagingapi.ChannelFlowCallbackResponse, error) {
	if err := s.callback(ctx, in); err != nil {
		return nil, err
	}
	return &messagingapi.ChannelFlowCallbackResponse{CallbackId: in.CallbackId, ChannelArn: in.ChannelArn}, nil
}

// callback applies a callback, from the API or from a processor's
// synchronous answer, in one transaction.
func (s *Service) callback(ctx context.Context, in *messagingapi.ChannelFlowCallbackRequest) error {
	if in.DeleteResource != nil && !*in.DeleteResource {
		in.DeleteResource = nil // false and absent are the same request
	}
	if cm := in.ChannelMessage; cm != nil {
		if cm.Content != nil {
			if err := messaging.CheckMessageSize(messageStandard, *cm.Content, api.Deref(cm.Metadata)); err != nil {
				return err
			}
		}
		if err := messaging.CheckAttributesSize(cm.MessageAttributes); err != nil {
			return err
		}
	}
	fp := idem.Fingerprint(in)
	return s.update(ctx, func(tx carillon.Tx) error {
		_, _, err := idem.Do(tx, idem.Scope(ctx, "ChannelFlowCallback", *in.ChannelArn), in.CallbackId, fp, func() (string, error) {
			return "", s.applyCallback(tx, in)
		})
		return err
	})
}

func (s *Service) applyCallback(tx carillon.Tx, in *messagingapi.ChannelFlowCallbackRequest) error {
	inv, err := tx.GetInvocation(*in.CallbackId)
	if isNotFound(err) || (err == nil && inv.ChannelARN != *in.ChannelArn) {
		return carillon.Errorf(carillon.Forbidden, "The CallbackId %s names no message being processed in the channel: it is unknown, or its deadline has passed", *in.CallbackId)
	} else if err != nil {
		return err
	}
	if expired(tx.Now(), inv.Deadline) {
		return carillon.Errorf(carillon.Forbidden, "The deadline of the callback %s passed at %s", inv.CallbackID, inv.Deadline.Format(api.ISOLayout))
	}
	cm := in.ChannelMessage
	if id := api.Deref(cm.MessageId); id != inv.MessageID {
		return carillon.Errorf(carillon.BadRequest, "The callback's ChannelMessage.MessageId %s is not the message %s being processed", id, inv.MessageID)
	}
	if api.Deref(in.DeleteResource) {
		return s.finish(tx, inv, statusDenied, "")
	}
	m := &inv.Message
	if cm.Content != nil {
		m.Content = *cm.Content
	}
	if cm.Metadata != nil {
		m.Metadata = *cm.Metadata
	}
	if cm.ContentType != nil {
		m.ContentType = *cm.ContentType
	}
	if cm.MessageAttributes != nil {
		m.Attributes = make(map[string][]string, len(cm.MessageAttributes))
		for k, v := range cm.MessageAttributes {
			m.Attributes[k] = v.StringValues
		}
	}
	if p := cm.PushNotification; p != nil {
		m.Push = &carillon.PushNotification{Title: api.Deref(p.Title), Body: api.Deref(p.Body), Type: string(api.Deref(p.Type))}
	}
	return s.advance(tx, inv)
}

// advance moves a message to the flow's next processor, with a new
// CallbackId, or, after the last, delivers it. A message whose flow was
// deleted meanwhile is delivered as it stands.
func (s *Service) advance(tx carillon.Tx, inv *carillon.Invocation) error {
	procs, err := s.processors(tx, inv)
	if err != nil {
		return err
	}
	next := inv.Step + 1
	if next >= len(procs) {
		return s.finish(tx, inv, statusSent, "")
	}
	if err := tx.DeleteInvocation(inv.CallbackID); err != nil {
		return err
	}
	now := tx.Now()
	n := *inv
	n.CallbackID = newCallbackID()
	n.Step = next
	n.State = carillon.InvocationDue
	n.Attempts = 0
	n.NextAttempt = now
	n.Deadline = now.Add(s.opts.CallbackDeadline)
	return tx.CreateInvocation(&n)
}

// fallback applies the current processor's FallbackAction after it could
// not be invoked or did not call back in time: ABORT fails the message,
// CONTINUE goes on as if the processor had passed it unchanged.
func (s *Service) fallback(tx carillon.Tx, inv *carillon.Invocation, reason string) (action string, err error) {
	procs, err := s.processors(tx, inv)
	if err != nil {
		return "", err
	}
	action = fallbackContinue
	if inv.Step < len(procs) {
		action = procs[inv.Step].FallbackAction
	}
	if action == fallbackAbort {
		return action, s.finish(tx, inv, statusFailed, reason)
	}
	return action, s.advance(tx, inv)
}

// processors returns the processors of the invocation's flow in
// ExecutionOrder; none when the flow no longer exists.
func (s *Service) processors(tx carillon.Tx, inv *carillon.Invocation) ([]carillon.Processor, error) {
	f, err := tx.GetChannelFlow(inv.FlowARN)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return ordered(f), nil
}

// finish ends a message's way through its flow, in the transaction that
// deletes the invocation:
//
//   - SENT: a new message is stored SENT (a NON_PERSISTENT one is only
//     announced) and CREATE_CHANNEL_MESSAGE goes to the channel; an edit
//     is applied and UPDATE_CHANNEL_MESSAGE goes to the channel.
//   - DENIED: a new message is deleted, never stored as DENIED; an edit
//     is dropped. DENIED_… goes to the sender.
//   - FAILED: a new PERSISTENT message is stored FAILED with the reason
//     as StatusDetail; an edit is dropped. FAILED_… goes to the sender.
//
// A message deleted meanwhile, or whose channel was deleted, ends
// without an event.
func (s *Service) finish(tx carillon.Tx, inv *carillon.Invocation, status, detail string) error {
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
	if m.Persistence == persistent {
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
		case statusSent:
			if stored.Redacted {
				// Redacted while the edit was processed: it stays
				// redacted, and the edit is dropped.
				return nil
			}
			stored.Content, stored.Metadata, stored.ContentType = m.Content, m.Metadata, m.ContentType
			stored.Attributes, stored.Push = m.Attributes, m.Push
			stored.LastEdited, stored.Updated = m.LastEdited, now
			stored.Status, stored.StatusDetail = statusSent, ""
			if err := tx.UpdateMessage(stored); err != nil {
				return err
			}
			return messaging.EmitMessageEvent(tx, messaging.EventUpdateChannelMessage, stored, false)
		case statusDenied:
			m.Status = statusDenied
			return messaging.EmitMessageEvent(tx, messaging.EventDeniedUpdateChannelMessage, &m, true)
		default:
			m.Status, m.StatusDetail = statusFailed, detail
			return messaging.EmitMessageEvent(tx, messaging.EventFailedUpdateChannelMessage, &m, true)
		}
	}
	switch status {
	case statusSent:
		m.Status, m.StatusDetail = statusSent, ""
		if stored != nil {
			if !stored.Redacted {
				stored.Content, stored.Metadata, stored.ContentType = m.Content, m.Metadata, m.ContentType
				stored.Attributes, stored.Push = m.Attributes, m.Push
			}
			stored.Status, stored.StatusDetail, stored.Updated = statusSent, "", now
			if err := tx.UpdateMessage(stored); err != nil {
				return err
			}
			m = *stored
			if now.After(ch.LastMessageAt) {
				ch.LastMessageAt = now
				if err := tx.UpdateChannel(ch); err != nil {
					return err
				}
			}
		}
		return messaging.EmitMessageEvent(tx, messaging.EventCreateChannelMessage, &m, false)
	case statusDenied:
		if stored != nil {
			if err := tx.DeleteMessage(ch.ARN, m.ID); err != nil {
				return err
			}
		}
		m.Status = statusDenied
		return messaging.EmitMessageEvent(tx, messaging.EventDeniedCreateChannelMessage, &m, true)
	default:
		m.Status, m.StatusDetail = statusFailed, detail
		if stored != nil {
			stored.Status, stored.StatusDetail, stored.Updated = statusFailed, detail, now
			if err := tx.UpdateMessage(stored); err != nil {
				return err
			}
			m = *stored
		}
		return messaging.EmitMessageEvent(tx, messaging.EventFailedCreateChannelMessage, &m, true)
	}
}
