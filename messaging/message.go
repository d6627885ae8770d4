package messaging

import (
	"context"
	"errors"
	"strings"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api"
	"github.com/carillonhq/carillon/api/messagingapi"
	"github.com/carillonhq/carillon/internal/idem"
	"github.com/carillonhq/carillon/internal/paging"
)

// Message types and persistences (the statuses are in held.go).
const (
	messageStandard   = string(messagingapi.ChannelMessageTypeStandard)
	messageControl    = string(messagingapi.ChannelMessageTypeControl)
	messagePersistent = string(messagingapi.ChannelMessagePersistenceTypePersistent)
)

// Message size limits (DG "msg-types", "filter-msgs"), in bytes of UTF-8.
const (
	maxStandardContent = 4096
	maxMetadata        = 1024
	maxControlContent  = 30
	maxAttributes      = 1024 // keys and values of MessageAttributes together
)

// SendChannelMessage sends a message as the bearer, which must be a
// DEFAULT member of the channel (HIDDEN members only observe; admins and
// moderators need a membership of their own). PERSISTENT messages are
// stored; NON_PERSISTENT ones only announced. In a channel with a channel
// flow, STANDARD messages are held PENDING while the flow's processors
// run (package flows); CONTROL messages bypass the flow. A retry with the
// same ClientRequestToken returns the first message's id and status and
// announces nothing again. In an elastic channel the message goes to the
// sub-channel SubChannelId names, which the sender must be in (a
// moderator in any it joined), and only its members receive it.
func (s *Service) SendChannelMessage(ctx context.Context, in *messagingapi.SendChannelMessageRequest) (*messagingapi.SendChannelMessageResponse, error) {
	typ := string(*in.Type)
	if err := CheckMessageSize(typ, *in.Content, api.Deref(in.Metadata)); err != nil {
		return nil, err
	}
	if err := CheckAttributesSize(in.MessageAttributes); err != nil {
		return nil, err
	}
	fp := idem.Fingerprint(in)

	var result string
	err := s.update(ctx, func(tx carillon.Tx) error {
		a, ch, err := s.actSee(tx, *in.ChimeBearer, *in.ChannelArn)
		if err != nil {
			return err
		}
		// The operation models no NotFoundException.
		sub, err := subChannelArg(tx, ch, in.SubChannelId, true, carillon.Forbidden)
		if err != nil {
			return err
		}
		switch {
		case a.banned:
			return forbidden("The bearer %s is banned from the channel", a.arn)
		case a.member == nil:
			return forbidden("The bearer %s must be a member of the channel to send messages to it", a.arn)
		case a.member.Type == membershipHidden:
			return forbidden("HIDDEN members cannot send messages")
		}
		if sub != "" {
			if ok, err := inSubChannel(tx, a, sub); err != nil {
				return err
			} else if !ok {
				return forbidden("The bearer %s must be a member of the sub-channel %s to send messages to it", a.arn, sub)
			}
		}
		// A repeated request fails with *idem.Replayed, which rolls
		// back the message sent again, and answers the first one's.
		result, err = idem.Claim(tx, idem.Scope(ctx, "SendChannelMessage", a.arn+"|"+ch.ARN), in.ClientRequestToken, fp, func() (string, error) {
			return s.sendMessage(tx, a, ch, sub, in)
		})
		return err
	})
	if err != nil {
		var r *idem.Replayed
		if !errors.As(err, &r) {
			return nil, err
		}
		result = r.Result
	}
	id, status, _ := strings.Cut(result, " ")
	if status == "" {
		status = StatusSent
	}
	return &messagingapi.SendChannelMessageResponse{
		ChannelArn:   in.ChannelArn,
		MessageId:    &id,
		Status:       statusValue(status),
		SubChannelId: in.SubChannelId,
	}, nil
}

// sendMessage sends a message to the sub-channel sub ("" for the channel
// itself) and returns its id, followed by " PENDING" when a channel flow
// holds it (the form the idempotency record keeps).
func (s *Service) sendMessage(tx carillon.Tx, a *actor, ch *carillon.Channel, sub string, in *messagingapi.SendChannelMessageRequest) (string, error) {
	target := ""
	if len(in.Target) > 0 {
		target = api.Deref(in.Target[0].MemberArn)
		// The target must be a member, of the sub-channel in an elastic
		// channel; the sender may target itself.
		if target != a.arn {
			tm, err := tx.GetMembership(ch.ARN, target)
			if err != nil && !isNotFound(err) {
				return "", err
			}
			inSub, err := isInSubChannel(tx, ch.ARN, tm, sub)
			if err != nil {
				return "", err
			}
			if tm == nil || (sub != "" && !inSub) {
				return "", carillon.Errorf(carillon.BadRequest, "The Target %s is not a member of the channel", target)
			}
		}
	}
	now := tx.Now()
	m := &carillon.Message{
		ChannelARN:   ch.ARN,
		ID:           s.newMessageID(),
		SubChannelID: sub,
		Sender:       a.arn,
		SenderName:   a.name,
		Content:      *in.Content,
		Metadata:     api.Deref(in.Metadata),
		ContentType:  api.Deref(in.ContentType),
		Type:         string(*in.Type),
		Persistence:  string(*in.Persistence),
		Status:       StatusSent,
		Attributes:   attributesFrom(in.MessageAttributes),
		Push:         pushFrom(in.PushNotification),
		Target:       target,
		Created:      now,
		Updated:      now,
	}
	if held(ch, m) {
		// Stored PENDING, seen only by its sender until the flow is done;
		// the channel's LastMessageTimestamp moves when it is SENT.
		m.Status = StatusPending
		if m.Persistence == messagePersistent {
			if err := tx.CreateMessage(m); err != nil {
				return "", err
			}
		}
		return m.ID + " " + StatusPending, s.hold(tx, ch, m, carillon.InvocationCreate)
	}
	if m.Persistence == messagePersistent {
		if err := tx.CreateMessage(m); err != nil {
			return "", err
		}
		// One LastMessageTimestamp for everyone: AWS's counts only
		// messages visible to the caller, which targeted messages make
		// differ per caller; ours counts them all.
		ch.LastMessageAt = now
		if err := tx.SetChannelLastMessageAt(ch.ARN, now); err != nil {
			return "", err
		}
	}
	return m.ID, emitMessageEvent(tx, EventCreateChannelMessage, m, false)
}

// GetChannelMessage returns a stored message to whoever may read the
// channel; a targeted message only to its sender and target.
func (s *Service) GetChannelMessage(ctx context.Context, in *messagingapi.GetChannelMessageRequest) (*messagingapi.GetChannelMessageResponse, error) {
	var m *carillon.Message
	err := s.view(ctx, func(tx carillon.Tx) error {
		var err error
		m, _, _, err = s.readableMessage(tx, *in.ChimeBearer, *in.ChannelArn, *in.MessageId, in.SubChannelId, carillon.NotFound)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &messagingapi.GetChannelMessageResponse{ChannelMessage: messageShape(m)}, nil
}

// readableMessage loads a message the bearer may see: the channel must be
// visible to it, and a targeted message is visible only to its sender and
// target. In an elastic channel the message must be in the sub-channel
// subChannelID names, which the bearer must be in unless it moderates the
// channel. A message missing or invisible is an error of kind missing:
// NotFound where the operation models it, Forbidden elsewhere
// (docs/compatibility.md, ruling 1).
func (s *Service) readableMessage(tx carillon.Tx, bearerARN, channelARN, id string, subChannelID *string, missing carillon.Kind) (*carillon.Message, *actor, *carillon.Channel, error) {
	a, ch, err := s.act(tx, bearerARN, channelARN)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := a.requireSee(); err != nil {
		return nil, nil, nil, err
	}
	sub, err := subChannelArg(tx, ch, subChannelID, true, missing)
	if err != nil {
		return nil, nil, nil, err
	}
	if sub != "" {
		if err := requireReadSubChannel(tx, a, sub); err != nil {
			return nil, nil, nil, err
		}
	}
	m, err := tx.GetMessage(ch.ARN, id)
	if isNotFound(err) || (err == nil && (!visibleTo(m, a.arn) || m.SubChannelID != sub)) {
		return nil, nil, nil, carillon.Errorf(missing, "The message %s does not exist in the channel", id)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	return m, a, ch, nil
}

// visibleTo: a targeted message is seen only by its sender and target
// (docs/semantics.md, "Messages"); a message that is not SENT (held by a channel flow, or
// failed) only by its sender; others by whoever can read the channel.
func visibleTo(m *carillon.Message, arn string) bool {
	if m.Sender == arn {
		return true
	}
	if m.Status != "" && m.Status != StatusSent {
		return false
	}
	return m.Target == "" || m.Target == arn
}

// ListChannelMessages pages through a channel's stored messages by
// creation time, newest first unless SortOrder is ASCENDING. NotBefore and
// NotAfter are inclusive (docs/compatibility.md, ruling 13). Targeted messages of
// others are left out, even for admins; deleted messages are gone,
// redacted ones stay, without content. In an elastic channel, the
// messages of the sub-channel SubChannelId names, for its members, the
// moderators and the AppInstanceAdmins.
func (s *Service) ListChannelMessages(ctx context.Context, in *messagingapi.ListChannelMessagesRequest) (*messagingapi.ListChannelMessagesResponse, error) {
	desc := in.SortOrder == nil || *in.SortOrder != messagingapi.SortOrderAscending
	after, err := paging.DecodeCursor(in.NextToken, desc)
	if err != nil {
		return nil, err
	}
	limit := paging.Limit(in.MaxResults)
	q := carillon.MessageQuery{Channel: *in.ChannelArn, Descending: desc, After: after, Limit: limit + 1}
	if in.NotBefore != nil {
		q.NotBefore = in.NotBefore.Time
	}
	if in.NotAfter != nil {
		q.NotAfter = in.NotAfter.Time
	}
	if !q.NotBefore.IsZero() && !q.NotAfter.IsZero() && q.NotAfter.Before(q.NotBefore) {
		return nil, carillon.Errorf(carillon.BadRequest, "NotAfter must not be before NotBefore")
	}
	var rows []carillon.Message
	err = s.view(ctx, func(tx carillon.Tx) error {
		a, ch, err := s.actSee(tx, *in.ChimeBearer, *in.ChannelArn)
		if err != nil {
			return err
		}
		// The operation models no NotFoundException.
		sub, err := subChannelArg(tx, ch, in.SubChannelId, true, carillon.Forbidden)
		if err != nil {
			return err
		}
		if sub != "" {
			if err := requireReadSubChannel(tx, a, sub); err != nil {
				return err
			}
		}
		q.VisibleTo, q.SubChannel = a.arn, sub
		rows, err = tx.ListMessages(q)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &messagingapi.ListChannelMessagesResponse{ChannelArn: in.ChannelArn, SubChannelId: in.SubChannelId}
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[limit-1]
		tok := paging.EncodeCursor(carillon.MessageCursor{Created: last.Created, Seq: last.Seq}, desc)
		out.NextToken = &tok
	}
	out.ChannelMessages = messageSummaries(rows)
	return out, nil
}

// UpdateChannelMessage replaces the content of a message: only its
// sender, still a member, may, under the size rules of its type.
// Metadata and ContentType are replaced too: omitted, they are cleared.
// In a channel with a channel flow, the edit of a STANDARD message is
// held PENDING while the flow runs; the stored message stays as it was
// until the edit is SENT.
func (s *Service) UpdateChannelMessage(ctx context.Context, in *messagingapi.UpdateChannelMessageRequest) (*messagingapi.UpdateChannelMessageResponse, error) {
	content, metadata := *in.Content, api.Deref(in.Metadata)
	// The limits of STANDARD, the larger, hold whatever the type.
	if err := CheckMessageSize(messageStandard, content, metadata); err != nil {
		return nil, err
	}
	status := StatusSent
	err := s.update(ctx, func(tx carillon.Tx) error {
		status = StatusSent // the transaction may run again
		// The operation models no NotFoundException.
		m, a, ch, err := s.readableMessage(tx, *in.ChimeBearer, *in.ChannelArn, *in.MessageId, in.SubChannelId, carillon.Forbidden)
		if err != nil {
			return err
		}
		switch {
		case m.Sender != a.arn:
			return forbidden("Only the sender of a message may edit it")
		case a.banned:
			return forbidden("The bearer %s is banned from the channel", a.arn)
		case a.member == nil && !a.moderates():
			// Moderators and admins keep their rights over what they
			// wrote without a membership of their own (DG auth-by-role:
			// "only your own (sent) messages"); other former members
			// lose them with the membership.
			return forbidden("The bearer %s must be a member of the channel to edit its messages", a.arn)
		case m.Redacted:
			// A redacted message stays redacted: editing it would bring
			// content back (docs/compatibility.md, ruling 12: Conflict, the message's state
			// forbids the change).
			return carillon.Errorf(carillon.Conflict, "The message %s is redacted and cannot be edited", m.ID)
		case m.Status != StatusSent:
			// Only SENT messages may be edited (docs/semantics.md,
			// "Messages").
			return carillon.Errorf(carillon.Conflict, "The message %s is %s and cannot be edited", m.ID, m.Status)
		}
		if err := CheckMessageSize(m.Type, content, metadata); err != nil {
			return err
		}
		// One edit at a time goes through a flow
		// (docs/compatibility.md, ruling 22).
		if _, err := tx.GetMessageInvocation(ch.ARN, m.ID); err == nil {
			return carillon.Errorf(carillon.Conflict, "An edit of the message %s is being processed by the channel flow", m.ID)
		} else if !isNotFound(err) {
			return err
		}
		now := tx.Now()
		m.Content, m.Metadata, m.ContentType = content, metadata, api.Deref(in.ContentType)
		m.LastEdited, m.Updated = now, now
		if held(ch, m) {
			m.Status, status = StatusPending, StatusPending
			return s.hold(tx, ch, m, carillon.InvocationUpdate)
		}
		if err := tx.UpdateMessage(m); err != nil {
			return err
		}
		return emitMessageEvent(tx, EventUpdateChannelMessage, m, false)
	})
	if err != nil {
		return nil, err
	}
	return &messagingapi.UpdateChannelMessageResponse{
		ChannelArn:   in.ChannelArn,
		MessageId:    in.MessageId,
		Status:       statusValue(status),
		SubChannelId: in.SubChannelId,
	}, nil
}

// RedactChannelMessage blanks a message, which stays in the channel with
// Redacted set. Its sender, moderators and admins may redact it, except
// that a targeted message is only for its sender and target to act on. A
// sender who is no longer a member (nor a moderator or admin) may not
// (DG auth-by-role: non-members are denied RedactChannelMessage), and
// redacting again succeeds and announces nothing (docs/compatibility.md,
// ruling 12).
func (s *Service) RedactChannelMessage(ctx context.Context, in *messagingapi.RedactChannelMessageRequest) (*messagingapi.RedactChannelMessageResponse, error) {
	err := s.update(ctx, func(tx carillon.Tx) error {
		// The operation models no NotFoundException.
		m, a, _, err := s.readableMessage(tx, *in.ChimeBearer, *in.ChannelArn, *in.MessageId, in.SubChannelId, carillon.Forbidden)
		if err != nil {
			return err
		}
		switch {
		case a.banned:
			return forbidden("The bearer %s is banned from the channel", a.arn)
		case m.Sender != a.arn && !a.moderates():
			return forbidden("Only the sender of a message, a moderator of the channel or an AppInstanceAdmin may redact it")
		case a.member == nil && !a.moderates():
			return forbidden("The bearer %s must be a member of the channel to redact its messages", a.arn)
		case m.Redacted:
			return nil
		case m.Status == StatusPending:
			// Held by a channel flow: it is not in the channel yet
			// (docs/compatibility.md, ruling 22).
			return carillon.Errorf(carillon.Conflict, "The message %s is being processed by the channel flow", m.ID)
		}
		// Attributes and the push notification go with the content:
		// they often repeat it (mentions, a preview).
		m.Redacted = true
		m.Content, m.Metadata, m.Attributes, m.Push = "", "", nil, nil
		m.Updated = tx.Now()
		if err := tx.UpdateMessage(m); err != nil {
			return err
		}
		return emitMessageEvent(tx, EventRedactChannelMessage, m, false)
	})
	if err != nil {
		return nil, err
	}
	return &messagingapi.RedactChannelMessageResponse{ChannelArn: in.ChannelArn, MessageId: in.MessageId, SubChannelId: in.SubChannelId}, nil
}

// DeleteChannelMessage deletes a message for good. Only AppInstanceAdmins
// may (docs/compatibility.md, ruling 12), targeted messages they cannot
// see included.
// The event carries the message as it was.
func (s *Service) DeleteChannelMessage(ctx context.Context, in *messagingapi.DeleteChannelMessageRequest) error {
	return s.update(ctx, func(tx carillon.Tx) error {
		a, ch, err := s.actSee(tx, *in.ChimeBearer, *in.ChannelArn)
		if err != nil {
			return err
		}
		if !a.admin {
			return forbidden("Only an AppInstanceAdmin may delete messages; members and moderators may redact them")
		}
		// Optional, and checked against the message when given.
		sub, err := subChannelArg(tx, ch, in.SubChannelId, false, carillon.Forbidden)
		if err != nil {
			return err
		}
		m, err := tx.GetMessage(ch.ARN, *in.MessageId)
		if isNotFound(err) || (err == nil && sub != "" && m.SubChannelID != sub) {
			// The operation models no NotFoundException.
			return forbidden("The message %s does not exist in the channel", *in.MessageId)
		} else if err != nil {
			return err
		}
		if err := tx.DeleteMessage(ch.ARN, m.ID); err != nil {
			return err
		}
		// A message that is not SENT (held by a channel flow, or failed)
		// was only ever seen by its sender.
		return emitMessageEvent(tx, EventDeleteChannelMessage, m, m.Status != StatusSent)
	})
}

// GetChannelMessageStatus tells the sender, and only the sender, the
// status of its message: PENDING while a channel flow holds it (a new
// message, NON_PERSISTENT ones included, or an edit), then the stored
// status. A DENIED message is not stored, so its status cannot be read.
func (s *Service) GetChannelMessageStatus(ctx context.Context, in *messagingapi.GetChannelMessageStatusRequest) (*messagingapi.GetChannelMessageStatusResponse, error) {
	var m *carillon.Message
	err := s.view(ctx, func(tx carillon.Tx) error {
		a, ch, err := s.actSee(tx, *in.ChimeBearer, *in.ChannelArn)
		if err != nil {
			return err
		}
		// The operation models no NotFoundException.
		sub, err := subChannelArg(tx, ch, in.SubChannelId, true, carillon.Forbidden)
		if err != nil {
			return err
		}
		if inv, err := tx.GetMessageInvocation(ch.ARN, *in.MessageId); err == nil {
			if inv.Message.SubChannelID != sub {
				return forbidden("The message %s does not exist in the sub-channel", *in.MessageId)
			}
			if inv.Message.Sender != a.arn {
				return forbidden("Only the sender of a message may get its status")
			}
			m = &carillon.Message{Status: StatusPending}
			return nil
		} else if !isNotFound(err) {
			return err
		}
		m, err = tx.GetMessage(ch.ARN, *in.MessageId)
		if isNotFound(err) || (err == nil && (!visibleTo(m, a.arn) || m.SubChannelID != sub)) {
			// The operation models no NotFoundException.
			return forbidden("The message %s does not exist in the channel", *in.MessageId)
		} else if err != nil {
			return err
		}
		if m.Sender != a.arn {
			return forbidden("Only the sender of a message may get its status")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &messagingapi.GetChannelMessageStatusResponse{Status: statusShape(m)}, nil
}

// UpdateChannelReadMarker marks the channel read, now, for the bearer's
// own membership. No event. The membership's LastUpdatedTimestamp stays:
// reading a channel does not change the membership.
func (s *Service) UpdateChannelReadMarker(ctx context.Context, in *messagingapi.UpdateChannelReadMarkerRequest) (*messagingapi.UpdateChannelReadMarkerResponse, error) {
	err := s.update(ctx, func(tx carillon.Tx) error {
		a, ch, err := s.actSee(tx, *in.ChimeBearer, *in.ChannelArn)
		if err != nil {
			return err
		}
		if ch.Elastic != nil {
			// Read markers do not exist on elastic channels
			// (docs/semantics.md, "Elastic channels").
			return carillon.Errorf(carillon.BadRequest, "Read markers are not supported on elastic channels")
		}
		if err := a.requireMember(); err != nil {
			return err
		}
		a.member.ReadMarker = tx.Now()
		return tx.UpdateMembership(a.member)
	})
	if err != nil {
		return nil, err
	}
	return &messagingapi.UpdateChannelReadMarkerResponse{ChannelArn: in.ChannelArn}, nil
}

// checkMessageSize applies the size rules of a message type (DG
// "msg-types"): STANDARD content up to 4 KB with metadata up to 1 KB;
// CONTROL content up to 30 bytes and no metadata.
func CheckMessageSize(typ, content, metadata string) error {
	if typ == messageControl {
		if len(content) > maxControlContent {
			return carillon.Errorf(carillon.BadRequest, "The Content of a CONTROL message is %d bytes; the limit is %d", len(content), maxControlContent)
		}
		if metadata != "" {
			return carillon.Errorf(carillon.BadRequest, "A CONTROL message cannot have Metadata")
		}
		return nil
	}
	if len(content) > maxStandardContent {
		return carillon.Errorf(carillon.BadRequest, "The Content of a STANDARD message is %d bytes; the limit is %d", len(content), maxStandardContent)
	}
	if len(metadata) > maxMetadata {
		return carillon.Errorf(carillon.BadRequest, "The Metadata is %d bytes; the limit is %d", len(metadata), maxMetadata)
	}
	return nil
}

// checkAttributesSize: the keys and values of MessageAttributes together
// are at most 1 KB (DG "filter-msgs").
func CheckAttributesSize(attrs map[string]messagingapi.MessageAttributeValue) error {
	n := 0
	for k, v := range attrs {
		n += len(k)
		for _, s := range v.StringValues {
			n += len(s)
		}
	}
	if n > maxAttributes {
		return carillon.Errorf(carillon.BadRequest, "The MessageAttributes are %d bytes; the limit is %d", n, maxAttributes)
	}
	return nil
}

func pushFrom(p *messagingapi.PushNotificationConfiguration) *carillon.PushNotification {
	if p == nil {
		return nil
	}
	return &carillon.PushNotification{Title: api.Deref(p.Title), Body: api.Deref(p.Body), Type: string(api.Deref(p.Type))}
}

func statusValue(status string) *messagingapi.ChannelMessageStatusStructure {
	v := messagingapi.ChannelMessageStatus(status)
	return &messagingapi.ChannelMessageStatusStructure{Value: &v}
}
