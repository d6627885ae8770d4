package messaging

import (
	"time"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api"
	"github.com/carillonhq/carillon/api/messagingapi"
)

// This file turns domain values into the generated response shapes. Unset
// optional members stay nil so that they are omitted from the response.

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func identityShape(arn, name string) *messagingapi.Identity {
	if arn == "" {
		return nil
	}
	return &messagingapi.Identity{Arn: api.String(arn), Name: optional(name)}
}

func channelShape(c *carillon.Channel, createdByName string) *messagingapi.Channel {
	mode, privacy := messagingapi.ChannelMode(c.Mode), messagingapi.ChannelPrivacy(c.Privacy)
	return &messagingapi.Channel{
		ChannelArn:                  api.String(c.ARN),
		Name:                        api.String(c.Name),
		Mode:                        &mode,
		Privacy:                     &privacy,
		Metadata:                    optional(c.Metadata),
		CreatedBy:                   identityShape(c.CreatedBy, createdByName),
		CreatedTimestamp:            api.TimestampOf(c.Created),
		LastUpdatedTimestamp:        api.TimestampOf(c.Updated),
		LastMessageTimestamp:        api.TimestampOf(c.LastMessageAt),
		ChannelFlowArn:              optional(c.FlowARN),
		ElasticChannelConfiguration: elasticShape(c.Elastic),
		ExpirationSettings:          expirationShape(c.Expiration),
	}
}

func channelSummary(c *carillon.Channel) *messagingapi.ChannelSummary {
	mode, privacy := messagingapi.ChannelMode(c.Mode), messagingapi.ChannelPrivacy(c.Privacy)
	return &messagingapi.ChannelSummary{
		ChannelArn:           api.String(c.ARN),
		Name:                 api.String(c.Name),
		Mode:                 &mode,
		Privacy:              &privacy,
		Metadata:             optional(c.Metadata),
		LastMessageTimestamp: api.TimestampOf(c.LastMessageAt),
	}
}

func elasticShape(e *carillon.ElasticConfig) *messagingapi.ElasticChannelConfiguration {
	if e == nil {
		return nil
	}
	return &messagingapi.ElasticChannelConfiguration{
		MaximumSubChannels:             api.Int32(int32(e.MaximumSubChannels)),
		TargetMembershipsPerSubChannel: api.Int32(int32(e.TargetMembershipsPerSubChannel)),
		MinimumMembershipPercentage:    api.Int32(int32(e.MinimumMembershipPercentage)),
	}
}

func elasticFrom(e *messagingapi.ElasticChannelConfiguration) *carillon.ElasticConfig {
	if e == nil {
		return nil
	}
	return &carillon.ElasticConfig{
		MaximumSubChannels:             int(api.Deref(e.MaximumSubChannels)),
		TargetMembershipsPerSubChannel: int(api.Deref(e.TargetMembershipsPerSubChannel)),
		MinimumMembershipPercentage:    int(api.Deref(e.MinimumMembershipPercentage)),
	}
}

func expirationShape(e *carillon.ExpirationSettings) *messagingapi.ExpirationSettings {
	if e == nil {
		return nil
	}
	c := messagingapi.ExpirationCriterion(e.Criterion)
	return &messagingapi.ExpirationSettings{ExpirationDays: api.Int32(int32(e.Days)), ExpirationCriterion: &c}
}

func expirationFrom(e *messagingapi.ExpirationSettings) *carillon.ExpirationSettings {
	if e == nil || e.ExpirationDays == nil || e.ExpirationCriterion == nil {
		return nil
	}
	return &carillon.ExpirationSettings{Days: int(*e.ExpirationDays), Criterion: string(*e.ExpirationCriterion)}
}

func membershipShape(m *carillon.Membership, invitedByName string) *messagingapi.ChannelMembership {
	typ := messagingapi.ChannelMembershipType(m.Type)
	return &messagingapi.ChannelMembership{
		ChannelArn:           api.String(m.ChannelARN),
		Member:               identityShape(m.MemberARN, m.MemberName),
		InvitedBy:            identityShape(m.InvitedBy, invitedByName),
		Type:                 &typ,
		CreatedTimestamp:     api.TimestampOf(m.Created),
		LastUpdatedTimestamp: api.TimestampOf(m.Updated),
		SubChannelId:         optional(m.SubChannelID),
	}
}

func userMembershipSummary(m *carillon.Membership) *messagingapi.AppInstanceUserMembershipSummary {
	typ := messagingapi.ChannelMembershipType(m.Type)
	return &messagingapi.AppInstanceUserMembershipSummary{
		Type:                &typ,
		ReadMarkerTimestamp: api.TimestampOf(m.ReadMarker),
		SubChannelId:        optional(m.SubChannelID),
	}
}

func statusShape(m *carillon.Message) *messagingapi.ChannelMessageStatusStructure {
	if m.Status == "" {
		return nil
	}
	v := messagingapi.ChannelMessageStatus(m.Status)
	return &messagingapi.ChannelMessageStatusStructure{Value: &v, Detail: optional(m.StatusDetail)}
}

func attributesShape(attrs map[string][]string) map[string]messagingapi.MessageAttributeValue {
	if len(attrs) == 0 {
		return nil
	}
	out := make(map[string]messagingapi.MessageAttributeValue, len(attrs))
	for k, v := range attrs {
		out[k] = messagingapi.MessageAttributeValue{StringValues: v}
	}
	return out
}

func attributesFrom(attrs map[string]messagingapi.MessageAttributeValue) map[string][]string {
	if len(attrs) == 0 {
		return nil
	}
	out := make(map[string][]string, len(attrs))
	for k, v := range attrs {
		out[k] = v.StringValues
	}
	return out
}

func targetShape(target *string) []messagingapi.Target {
	if *target == "" {
		return nil
	}
	return []messagingapi.Target{{MemberArn: target}}
}

// messageParts holds the members of a message's shape that are not
// fields of the row: the shapes point into the row and into its parts, so
// that a message costs one allocation instead of one per member (a page of
// ListChannelMessages has up to 50). The row must not change while the
// shape is in use.
type messageParts struct {
	sender                   messagingapi.Identity
	status                   messagingapi.ChannelMessageStatusStructure
	created, edited, updated api.Timestamp
}

// nonEmpty is optional for a string that outlives the shape.
func nonEmpty(s *string) *string {
	if *s == "" {
		return nil
	}
	return s
}

func (p *messageParts) senderOf(m *carillon.Message) *messagingapi.Identity {
	if m.Sender == "" {
		return nil
	}
	p.sender = messagingapi.Identity{Arn: &m.Sender, Name: nonEmpty(&m.SenderName)}
	return &p.sender
}

func (p *messageParts) statusOf(m *carillon.Message) *messagingapi.ChannelMessageStatusStructure {
	if m.Status == "" {
		return nil
	}
	p.status = messagingapi.ChannelMessageStatusStructure{
		Value: (*messagingapi.ChannelMessageStatus)(&m.Status), Detail: nonEmpty(&m.StatusDetail)}
	return &p.status
}

// timestamp is api.TimestampOf, in dst.
func timestamp(dst *api.Timestamp, t time.Time) *api.Timestamp {
	if t.IsZero() {
		return nil
	}
	*dst = api.Timestamp{Time: t}
	return dst
}

// messageShape is a ChannelMessage as GetChannelMessage returns it. A
// redacted message keeps its place with empty content and metadata. The
// shape points into m.
func messageShape(m *carillon.Message) *messagingapi.ChannelMessage {
	out := new(struct {
		shape messagingapi.ChannelMessage
		parts messageParts
	})
	p := &out.parts
	out.shape = messagingapi.ChannelMessage{
		ChannelArn:           &m.ChannelARN,
		MessageId:            &m.ID,
		Content:              &m.Content,
		Metadata:             nonEmpty(&m.Metadata),
		ContentType:          nonEmpty(&m.ContentType),
		Type:                 (*messagingapi.ChannelMessageType)(&m.Type),
		Persistence:          (*messagingapi.ChannelMessagePersistenceType)(&m.Persistence),
		Sender:               p.senderOf(m),
		Redacted:             &m.Redacted,
		Status:               p.statusOf(m),
		MessageAttributes:    attributesShape(m.Attributes),
		SubChannelId:         nonEmpty(&m.SubChannelID),
		Target:               targetShape(&m.Target),
		CreatedTimestamp:     timestamp(&p.created, m.Created),
		LastEditedTimestamp:  timestamp(&p.edited, m.LastEdited),
		LastUpdatedTimestamp: timestamp(&p.updated, m.Updated),
	}
	return &out.shape
}

// messageSummaries are ChannelMessageSummaries as ListChannelMessages
// returns them. They point into rows.
func messageSummaries(rows []carillon.Message) []messagingapi.ChannelMessageSummary {
	out := make([]messagingapi.ChannelMessageSummary, len(rows))
	parts := make([]messageParts, len(rows))
	for i := range rows {
		m, p := &rows[i], &parts[i]
		out[i] = messagingapi.ChannelMessageSummary{
			MessageId:            &m.ID,
			Content:              &m.Content,
			Metadata:             nonEmpty(&m.Metadata),
			ContentType:          nonEmpty(&m.ContentType),
			Type:                 (*messagingapi.ChannelMessageType)(&m.Type),
			Sender:               p.senderOf(m),
			Redacted:             &m.Redacted,
			Status:               p.statusOf(m),
			MessageAttributes:    attributesShape(m.Attributes),
			Target:               targetShape(&m.Target),
			CreatedTimestamp:     timestamp(&p.created, m.Created),
			LastEditedTimestamp:  timestamp(&p.edited, m.LastEdited),
			LastUpdatedTimestamp: timestamp(&p.updated, m.Updated),
		}
	}
	return out
}
