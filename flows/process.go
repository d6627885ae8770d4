package flows

import (
	"context"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api"
	"github.com/carillonhq/carillon/api/messagingapi"
	"github.com/carillonhq/carillon/internal/idem"
	"github.com/carillonhq/carillon/messaging"
)

// Fallback actions, and the type of message processors may change.
const (
	fallbackAbort    = string(messagingapi.FallbackActionAbort)
	fallbackContinue = string(messagingapi.FallbackActionContinue)
	messageStandard  = string(messagingapi.ChannelMessageTypeStandard)
)

// A held message (carillon.Invocation) is package messaging's: it holds
// the message when it is sent or edited, and completes it
// (messaging.Service.CompleteHeld). This file moves it from processor to
// processor as they call back, fail or run out of time.

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
		return s.msg.CompleteHeld(tx, inv, messaging.StatusDenied, "")
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
		return s.msg.CompleteHeld(tx, inv, messaging.StatusSent, "")
	}
	return s.msg.HoldNext(tx, inv, next)
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
		return action, s.msg.CompleteHeld(tx, inv, messaging.StatusFailed, reason)
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
