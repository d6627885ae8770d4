package storecodec

import "github.com/carillonhq/carillon"

// ElasticColumns returns the columns elastic_max_sub_channels,
// elastic_target_memberships and elastic_min_membership_pct: three NULLs
// for nil.
func ElasticColumns(e *carillon.ElasticConfig) (maxSub, target, minPct any) {
	if e == nil {
		return nil, nil, nil
	}
	return e.MaximumSubChannels, e.TargetMembershipsPerSubChannel, e.MinimumMembershipPercentage
}

// ChannelRow is where a channel row is scanned: the nullable columns go
// to their own fields, and Channel turns them into the Channel.
type ChannelRow struct {
	c                            carillon.Channel
	maxSub, target, minPct, days NullInt
	criterion                    NullString
}

// Dest returns the destinations of the columns arn, app_instance_arn,
// name, mode, privacy, metadata, created_by, flow_arn,
// elastic_max_sub_channels, elastic_target_memberships,
// elastic_min_membership_pct, expiration_days, expiration_criterion,
// created, updated, last_message_at.
func (r *ChannelRow) Dest(text Text) []any {
	c := &r.c
	return []any{&c.ARN, &c.AppInstanceARN, text(&c.Name), &c.Mode, &c.Privacy, text(&c.Metadata), &c.CreatedBy, &c.FlowARN,
		&r.maxSub, &r.target, &r.minPct, &r.days, &r.criterion,
		Time(&c.Created), Time(&c.Updated), Time(&c.LastMessageAt)}
}

// Channel is the channel the row holds. The schemas have the elastic
// columns all NULL or none, and the expiration columns too.
func (r *ChannelRow) Channel() carillon.Channel {
	c := r.c
	if r.maxSub.Valid && r.target.Valid && r.minPct.Valid {
		c.Elastic = &carillon.ElasticConfig{
			MaximumSubChannels:             r.maxSub.Int,
			TargetMembershipsPerSubChannel: r.target.Int,
			MinimumMembershipPercentage:    r.minPct.Int,
		}
	}
	c.Expiration = Expiration(r.days, r.criterion)
	return c
}

// MembershipRow is where a membership row is scanned.
type MembershipRow struct {
	m             carillon.Membership
	allow, filter NullString
}

// Dest returns the destinations of the columns channel_arn, member_arn,
// the member's name, type, invited_by, sub_channel_id, read_marker,
// allow_notifications, filter_rule, created, updated.
func (r *MembershipRow) Dest(text Text) []any {
	m := &r.m
	return []any{&m.ChannelARN, &m.MemberARN, text(&m.MemberName), &m.Type, &m.InvitedBy, &m.SubChannelID,
		Time(&m.ReadMarker), &r.allow, &r.filter, Time(&m.Created), Time(&m.Updated)}
}

// Membership is the membership the row holds: Preferences nil when
// allow_notifications is NULL (the schemas have filter_rule NULL then
// too).
func (r *MembershipRow) Membership() carillon.Membership {
	m := r.m
	if r.allow.Valid {
		m.Preferences = &carillon.MembershipPreferences{AllowNotifications: r.allow.String, FilterRule: r.filter.String}
	}
	return m
}
