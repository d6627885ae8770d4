package messaging

import (
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

func targetShape(target string) []messagingapi.Target {
	if target == "" {
		return nil
	}
	return []messagingapi.Target{{MemberArn: api.String(target)}}
}

// messageShape is a ChannelMessage as GetChannelMessage returns it. A
// redacted message keeps its place with empty content and metadata.
func messageShape(m *carillon.Message) *messagingapi.ChannelMessage {
	typ, pers := messagingapi.ChannelMessageType(m.Type), messagingapi.ChannelMessagePersistenceType(m.Persistence)
	return &messagingapi.ChannelMessage{
		ChannelArn:           api.String(m.ChannelARN),
		MessageId:            api.String(m.ID),
		Content:              api.String(m.Content),
		Metadata:             optional(m.Metadata),
		ContentType:          optional(m.ContentType),
		Type:                 &typ,
		Persistence:          &pers,
		Sender:               identityShape(m.Sender, m.SenderName),
		Redacted:             api.Bool(m.Redacted),
		Status:               statusShape(m),
		MessageAttributes:    attributesShape(m.Attributes),
		SubChannelId:         optional(m.SubChannelID),
		Target:               targetShape(m.Target),
		CreatedTimestamp:     api.TimestampOf(m.Created),
		LastEditedTimestamp:  api.TimestampOf(m.LastEdited),
		LastUpdatedTimestamp: api.TimestampOf(m.Updated),
	}
}

// messageSummary is a ChannelMessageSummary as ListChannelMessages
// returns it.
func messageSummary(m *carillon.Message) messagingapi.ChannelMessageSummary {
	typ := messagingapi.ChannelMessageType(m.Type)
	return messagingapi.ChannelMessageSummary{
		MessageId:            api.String(m.ID),
		Content:              api.String(m.Content),
		Metadata:             optional(m.Metadata),
		ContentType:          optional(m.ContentType),
		Type:                 &typ,
		Sender:               identityShape(m.Sender, m.SenderName),
		Redacted:             api.Bool(m.Redacted),
		Status:               statusShape(m),
		MessageAttributes:    attributesShape(m.Attributes),
		Target:               targetShape(m.Target),
		CreatedTimestamp:     api.TimestampOf(m.Created),
		LastEditedTimestamp:  api.TimestampOf(m.LastEdited),
		LastUpdatedTimestamp: api.TimestampOf(m.Updated),
	}
}
