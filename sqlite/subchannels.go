package sqlite

import (
	"fmt"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/internal/storecodec"
)

// Sub-channels of elastic channels (migration 0009).

const subChannelCols = `channel_arn, id, membership_count, created`

var (
	// The count starts with the memberships already naming the
	// sub-channel; the triggers of 0009 keep it from then on.
	qCreateSubChannel = writeQuery(`INSERT INTO sub_channels (` + subChannelCols + `)
	VALUES (?1, ?2, (SELECT count(*) FROM memberships INDEXED BY memberships_by_sub_channel
		WHERE channel_arn = ?1 AND sub_channel_id = ?2 AND sub_channel_id <> ''), ?3)`)
	qGetSubChannel   = readQuery(`SELECT ` + subChannelCols + ` FROM sub_channels WHERE channel_arn = ? AND id = ?`)
	qListSubChannels = readQuery(`SELECT ` + subChannelCols + ` FROM sub_channels
	WHERE channel_arn = ? AND id > ? ORDER BY id LIMIT ?`)
	qDeleteSubChannel = writeQuery(`DELETE FROM sub_channels WHERE channel_arn = ? AND id = ?`)
	// The messages go by messages_by_time, whose prefix is the
	// sub-channel's range.
	qDeleteSubChannelMessages = writeQuery(`DELETE FROM messages INDEXED BY messages_by_time
	WHERE channel_arn = ? AND sub_channel_id = ?`)
)

func scanSubChannel(s scanner) (carillon.SubChannel, error) {
	var c carillon.SubChannel
	err := s.Scan(&c.ChannelARN, &c.ID, &c.Memberships, storecodec.Time(&c.Created))
	return c, err
}

func (t *tx) CreateSubChannel(s *carillon.SubChannel) error {
	return t.write(fmt.Sprintf("create sub-channel %q of %q", s.ID, s.ChannelARN), qCreateSubChannel,
		s.ChannelARN, s.ID, storecodec.Millis(s.Created))
}

func (t *tx) GetSubChannel(channelARN, id string) (*carillon.SubChannel, error) {
	c, err := scanSubChannel(t.queryRow(qGetSubChannel, channelARN, id))
	if err != nil {
		return nil, fail(err, fmt.Sprintf("sub-channel %q of %q", id, channelARN))
	}
	return &c, nil
}

func (t *tx) ListSubChannels(channelARN string, p carillon.Page) ([]carillon.SubChannel, error) {
	return list(t, fmt.Sprintf("list sub-channels of %q", channelARN), qListSubChannels, scanSubChannel,
		channelARN, p.After, limit(p.Limit))
}

// DeleteSubChannel deletes the row first, which tells whether it exists,
// and its sub-channel memberships with it (ON DELETE CASCADE); then the
// messages, which reference the channel only.
func (t *tx) DeleteSubChannel(channelARN, id string) error {
	what := fmt.Sprintf("delete sub-channel %q of %q", id, channelARN)
	if err := t.mutate(what, qDeleteSubChannel, channelARN, id); err != nil {
		return err
	}
	if _, err := t.exec(qDeleteSubChannelMessages, channelARN, id); err != nil {
		return fail(err, what)
	}
	return nil
}

// Sub-channel memberships: the sub-channels a member is in besides the one
// its membership names.

// sSubMembershipCols are the columns of a sub-channel membership read with
// its member's name, in scanSubChannelMembership's order.
const sSubMembershipCols = `s.channel_arn, s.member_arn, ` + nameCol + `, s.type, s.invited_by, s.sub_channel_id,
	s.created, s.updated`

var (
	qCreateSubChannelMembership = writeQuery(`INSERT INTO sub_channel_memberships
	(channel_arn, sub_channel_id, member_arn, type, invited_by, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?)`)
	qGetSubChannelMembership = readQuery(`SELECT ` + sSubMembershipCols + ` FROM sub_channel_memberships s` + nameJoin("s.member_arn") + `
	WHERE s.channel_arn = ? AND s.sub_channel_id = ? AND s.member_arn = ?`)
	qDeleteSubChannelMembership = writeQuery(`DELETE FROM sub_channel_memberships
	WHERE channel_arn = ? AND sub_channel_id = ? AND member_arn = ?`)
	qListSubChannelMemberships = readQuery(`SELECT ` + sSubMembershipCols + ` FROM sub_channel_memberships s` + nameJoin("s.member_arn") + `
	WHERE s.channel_arn = ? AND s.sub_channel_id = ? AND s.member_arn > ? ORDER BY s.member_arn LIMIT ?`)
	qListSubChannelMembershipsOf = readQuery(`SELECT ` + sSubMembershipCols + `
	FROM sub_channel_memberships s INDEXED BY sub_channel_memberships_by_member` + nameJoin("s.member_arn") + `
	WHERE s.channel_arn = ? AND s.member_arn = ? AND s.sub_channel_id > ? ORDER BY s.sub_channel_id LIMIT ?`)
)

func scanSubChannelMembership(s scanner) (carillon.Membership, error) {
	var m carillon.Membership
	err := s.Scan(&m.ChannelARN, &m.MemberARN, &m.MemberName, &m.Type, &m.InvitedBy, &m.SubChannelID,
		storecodec.Time(&m.Created), storecodec.Time(&m.Updated))
	return m, err
}

func (t *tx) CreateSubChannelMembership(m *carillon.Membership) error {
	return t.write(fmt.Sprintf("create membership of %q in sub-channel %q of %q", m.MemberARN, m.SubChannelID, m.ChannelARN),
		qCreateSubChannelMembership, m.ChannelARN, m.SubChannelID, m.MemberARN, m.Type, m.InvitedBy, storecodec.Millis(m.Created), storecodec.Millis(m.Updated))
}

func (t *tx) GetSubChannelMembership(channelARN, subChannelID, memberARN string) (*carillon.Membership, error) {
	m, err := scanSubChannelMembership(t.queryRow(qGetSubChannelMembership, channelARN, subChannelID, memberARN))
	if err != nil {
		return nil, fail(err, fmt.Sprintf("membership of %q in sub-channel %q of %q", memberARN, subChannelID, channelARN))
	}
	return &m, nil
}

func (t *tx) DeleteSubChannelMembership(channelARN, subChannelID, memberARN string) error {
	return t.mutate(fmt.Sprintf("delete membership of %q in sub-channel %q of %q", memberARN, subChannelID, channelARN),
		qDeleteSubChannelMembership, channelARN, subChannelID, memberARN)
}

func (t *tx) ListSubChannelMemberships(channelARN, subChannelID string, p carillon.Page) ([]carillon.Membership, error) {
	return list(t, fmt.Sprintf("list memberships of sub-channel %q of %q", subChannelID, channelARN),
		qListSubChannelMemberships, scanSubChannelMembership, channelARN, subChannelID, p.After, limit(p.Limit))
}

func (t *tx) ListSubChannelMembershipsOf(channelARN, memberARN string, p carillon.Page) ([]carillon.Membership, error) {
	return list(t, fmt.Sprintf("list sub-channel memberships of %q in %q", memberARN, channelARN),
		qListSubChannelMembershipsOf, scanSubChannelMembership, channelARN, memberARN, p.After, limit(p.Limit))
}
