package sqlite

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/internal/storecodec"
)

// qualify prefixes each column of a comma-separated list with a table
// alias, so that one list serves the INSERT and the joined SELECTs.
func qualify(alias, cols string) string {
	fields := strings.Split(cols, ",")
	for i, f := range fields {
		fields[i] = alias + "." + strings.TrimSpace(f)
	}
	return strings.Join(fields, ", ")
}

// placeholders returns n comma-separated question marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// nameJoin joins the user and the bot whose ARN is in column col, for
// nameCol: the name of a member, moderator or banned bearer, "" when there
// is neither. A user's and a bot's ARNs never coincide, so at most one of
// the joins matches.
func nameJoin(col string) string {
	return ` LEFT JOIN users nu ON nu.arn = ` + col + ` LEFT JOIN bots nb ON nb.arn = ` + col
}

const nameCol = `coalesce(nu.name, nb.name, '')`

// Channels.

const channelCols = `arn, app_instance_arn, name, mode, privacy, metadata, created_by, flow_arn,
	elastic_max_sub_channels, elastic_target_memberships, elastic_min_membership_pct,
	expiration_days, expiration_criterion, created, updated, last_message_at`

var cChannelCols = qualify("c", channelCols)

var (
	qCreateChannel = writeQuery(`INSERT INTO channels (` + channelCols + `) VALUES (` + placeholders(16) + `)`)
	qGetChannel    = readQuery(`SELECT ` + cChannelCols + ` FROM channels c WHERE c.arn = ?`)
	qUpdateChannel = writeQuery(`UPDATE channels SET name = ?, mode = ?, privacy = ?, metadata = ?, flow_arn = ?,
	elastic_max_sub_channels = ?, elastic_target_memberships = ?, elastic_min_membership_pct = ?,
	expiration_days = ?, expiration_criterion = ?, updated = ?, last_message_at = ?
	WHERE arn = ?`)
	qSetChannelLastMessageAt = writeQuery(`UPDATE channels SET last_message_at = ? WHERE arn = ?`)
	qDeleteChannel           = writeQuery(`DELETE FROM channels WHERE arn = ?`)
	// The AppInstance's indexes are forced: with statistics of a database
	// holding one AppInstance, the planner would rather walk every
	// channel's ARN from the cursor on, which reads the other AppInstances'
	// channels once there are several, and all the private channels when
	// listing the public ones.
	qListChannels = readQuery(`SELECT ` + cChannelCols + ` FROM channels c INDEXED BY channels_by_app_instance
	WHERE c.app_instance_arn = ? AND c.arn > ? ORDER BY c.arn LIMIT ?`)
	qListChannelsOfPrivacy = readQuery(`SELECT ` + cChannelCols + ` FROM channels c INDEXED BY channels_by_privacy
	WHERE c.app_instance_arn = ? AND c.privacy = ? AND c.arn > ? ORDER BY c.arn LIMIT ?`)

	// qSearchChannels walks the channels of one member, the driver ?1, in
	// ARN order (CROSS JOIN keeps memberships as the outer loop whatever
	// the planner estimates), and keeps those of AppInstance ?3 that have
	// every member of the JSON array ?4, of ?5 distinct ARNs: one index
	// lookup per ARN. With ?6 (exact), the candidate must also have no
	// member outside the array: the first of its memberships that is not
	// one of the ?5 tells, however big the channel.
	qSearchChannels = readQuery(`SELECT ` + cChannelCols + `
	FROM memberships f CROSS JOIN channels c ON c.arn = f.channel_arn
	WHERE f.member_arn = ?1 AND f.channel_arn > ?2 AND c.app_instance_arn = ?3
	AND (SELECT count(*) FROM memberships m
		WHERE m.channel_arn = f.channel_arn AND m.member_arn IN (SELECT value FROM json_each(?4))) = ?5
	AND (?6 = 0 OR NOT EXISTS (SELECT 1 FROM memberships m
		WHERE m.channel_arn = f.channel_arn AND m.member_arn NOT IN (SELECT value FROM json_each(?4))))
	ORDER BY f.channel_arn LIMIT ?7`)
	// qSearchAllChannels is the search for no member at all, unscoped:
	// every channel of the AppInstance, or (exact) those without members.
	qSearchAllChannels = readQuery(`SELECT ` + cChannelCols + ` FROM channels c INDEXED BY channels_by_app_instance
	WHERE c.app_instance_arn = ?1 AND c.arn > ?2
	AND (?3 = 0 OR NOT EXISTS (SELECT 1 FROM memberships m WHERE m.channel_arn = c.arn))
	ORDER BY c.arn LIMIT ?4`)
)

func scanChannel(s scanner) (carillon.Channel, error) {
	var r storecodec.ChannelRow
	err := s.Scan(r.Dest(plain)...)
	return r.Channel(), err
}

func (t *tx) CreateChannel(c *carillon.Channel) error {
	maxSub, target, minPct := storecodec.ElasticColumns(c.Elastic)
	days, criterion := storecodec.ExpirationColumns(c.Expiration)
	return t.write(fmt.Sprintf("create channel %q", c.ARN), qCreateChannel,
		c.ARN, c.AppInstanceARN, c.Name, c.Mode, c.Privacy, c.Metadata, c.CreatedBy, c.FlowARN,
		maxSub, target, minPct, days, criterion, storecodec.Millis(c.Created), storecodec.Millis(c.Updated), storecodec.Millis(c.LastMessageAt))
}

func (t *tx) GetChannel(arn string) (*carillon.Channel, error) {
	c, err := scanChannel(t.queryRow(qGetChannel, arn))
	if err != nil {
		return nil, fail(err, fmt.Sprintf("channel %q", arn))
	}
	return &c, nil
}

// UpdateChannel replaces every field but the ARN, the AppInstance, the
// creator and the creation time. Which of them a request may change (the
// privacy and the elastic configuration are immutable in the API) is for
// the service to decide.
func (t *tx) UpdateChannel(c *carillon.Channel) error {
	maxSub, target, minPct := storecodec.ElasticColumns(c.Elastic)
	days, criterion := storecodec.ExpirationColumns(c.Expiration)
	return t.mutate(fmt.Sprintf("update channel %q", c.ARN), qUpdateChannel,
		c.Name, c.Mode, c.Privacy, c.Metadata, c.FlowARN, maxSub, target, minPct, days, criterion,
		storecodec.Millis(c.Updated), storecodec.Millis(c.LastMessageAt), c.ARN)
}

// SetChannelLastMessageAt updates the one column: an UPDATE that sets a
// column rewrites the entries of every index holding it, changed or not,
// and UpdateChannel's sets privacy (channels_by_privacy).
func (t *tx) SetChannelLastMessageAt(arn string, at time.Time) error {
	what := func() string { return fmt.Sprintf("update channel %q", arn) }
	return t.mutateLazy(what, qSetChannelLastMessageAt, storecodec.Millis(at), arn)
}

// DeleteChannel deletes the channel row, which tells whether it exists;
// its memberships, moderators, bans and messages go with it through ON
// DELETE CASCADE. Its tags are keyed by ARN only, so they are deleted
// explicitly.
func (t *tx) DeleteChannel(arn string) error {
	what := fmt.Sprintf("delete channel %q", arn)
	if err := t.mutate(what, qDeleteChannel, arn); err != nil {
		return err
	}
	if _, err := t.exec(qDeleteTagsOf, arn); err != nil {
		return fail(err, what)
	}
	return nil
}

func (t *tx) ListChannels(appInstanceARN, privacy string, p carillon.Page) ([]carillon.Channel, error) {
	what := fmt.Sprintf("list channels of %q", appInstanceARN)
	if privacy == "" {
		return list(t, what, qListChannels, scanChannel, appInstanceARN, p.After, limit(p.Limit))
	}
	return list(t, what, qListChannelsOfPrivacy, scanChannel, appInstanceARN, privacy, p.After, limit(p.Limit))
}

// SearchChannelsByMembers walks the channels of one bearer in ARN order and
// keeps those whose memberships match: scopedTo's when given, so that the
// search costs what scopedTo's own channels cost, else those of the first
// member. Memberships of every type count.
func (t *tx) SearchChannelsByMembers(appInstanceARN string, members []string, exact bool, scopedTo string, p carillon.Page) ([]carillon.Channel, error) {
	what := fmt.Sprintf("search channels of %q", appInstanceARN)
	distinct := make([]string, 0, len(members))
	seen := make(map[string]bool, len(members))
	for _, m := range members {
		if !seen[m] {
			seen[m] = true
			distinct = append(distinct, m)
		}
	}
	driver := scopedTo
	if driver == "" {
		if len(distinct) == 0 {
			return list(t, what, qSearchAllChannels, scanChannel, appInstanceARN, p.After, exact, limit(p.Limit))
		}
		driver = distinct[0]
	}
	arns, err := json.Marshal(distinct)
	if err != nil {
		return nil, fail(err, what)
	}
	return list(t, what, qSearchChannels, scanChannel,
		driver, p.After, appInstanceARN, string(arns), len(distinct), exact, limit(p.Limit))
}

// Memberships.

const membershipCols = `channel_arn, member_arn, type, invited_by, sub_channel_id, read_marker,
	allow_notifications, filter_rule, created, updated`

// mMembershipCols are the columns of a membership read with its member's
// name, in membershipRow.dest's order.
const mMembershipCols = `m.channel_arn, m.member_arn, ` + nameCol + `, m.type, m.invited_by, m.sub_channel_id,
	m.read_marker, m.allow_notifications, m.filter_rule, m.created, m.updated`

var (
	qCreateMembership = writeQuery(`INSERT INTO memberships (` + membershipCols + `) VALUES (` + placeholders(10) + `)`)
	qGetMembership    = readQuery(`SELECT ` + mMembershipCols + ` FROM memberships m` + nameJoin("m.member_arn") + `
	WHERE m.channel_arn = ? AND m.member_arn = ?`)
	qUpdateMembership = writeQuery(`UPDATE memberships SET type = ?, sub_channel_id = ?, read_marker = ?,
	allow_notifications = ?, filter_rule = ?, updated = ?
	WHERE channel_arn = ? AND member_arn = ?`)
	qDeleteMembership = writeQuery(`DELETE FROM memberships WHERE channel_arn = ? AND member_arn = ?`)
	qListMemberships  = readQuery(`SELECT ` + mMembershipCols + ` FROM memberships m` + nameJoin("m.member_arn") + `
	WHERE m.channel_arn = ? AND m.member_arn > ? ORDER BY m.member_arn LIMIT ?`)
	// memberships_by_type and memberships_by_sub_channel are forced:
	// without statistics (and even with them, which do not tell DEFAULT
	// from HIDDEN) the planner prefers walking the primary key and
	// filtering, which reads the whole channel to list its few hidden
	// members. Through the index, a page costs a lookup per row, whatever
	// the channel.
	qListMembershipsOfType = readQuery(`SELECT ` + mMembershipCols + ` FROM memberships m INDEXED BY memberships_by_type` + nameJoin("m.member_arn") + `
	WHERE m.channel_arn = ? AND m.type = ? AND m.member_arn > ? ORDER BY m.member_arn LIMIT ?`)
	// The literal sub_channel_id <> '' makes the partial index usable;
	// ListMemberships runs this query only for a sub-channel that is not ''.
	qListMembershipsOfSubChannel = readQuery(`SELECT ` + mMembershipCols + ` FROM memberships m INDEXED BY memberships_by_sub_channel` + nameJoin("m.member_arn") + `
	WHERE m.channel_arn = ?1 AND m.sub_channel_id = ?2 AND m.sub_channel_id <> ''
	AND (?3 = '' OR m.type = ?3) AND m.member_arn > ?4
	ORDER BY m.member_arn LIMIT ?5`)
	qCountMemberships  = readQuery(`SELECT coalesce(sum(membership_count), 0) FROM channels WHERE arn = ?`)
	qListMembershipsOf = readQuery(`SELECT ` + cChannelCols + `, ` + mMembershipCols + `
	FROM memberships m CROSS JOIN channels c ON c.arn = m.channel_arn` + nameJoin("m.member_arn") + `
	WHERE m.member_arn = ? AND m.channel_arn > ? ORDER BY m.channel_arn LIMIT ?`)
	qDeleteMembershipsOf = writeQuery(`DELETE FROM memberships WHERE member_arn = ?`)
)

func scanMembership(s scanner) (carillon.Membership, error) {
	var r storecodec.MembershipRow
	err := s.Scan(r.Dest(plain)...)
	return r.Membership(), err
}

func scanMembershipOf(s scanner) (carillon.ChannelMembershipOf, error) {
	var c storecodec.ChannelRow
	var m storecodec.MembershipRow
	err := s.Scan(append(c.Dest(plain), m.Dest(plain)...)...)
	return carillon.ChannelMembershipOf{Channel: c.Channel(), Membership: m.Membership()}, err
}

// preferences returns the preference columns: NULL, NULL for nil.
func preferences(p *carillon.MembershipPreferences) (allow, filter any) {
	if p == nil {
		return nil, nil
	}
	return p.AllowNotifications, p.FilterRule
}

// CreateMembership inserts m; MemberName is not stored but read from the
// member's user or bot.
func (t *tx) CreateMembership(m *carillon.Membership) error {
	allow, filter := preferences(m.Preferences)
	return t.write(fmt.Sprintf("create membership of %q in %q", m.MemberARN, m.ChannelARN), qCreateMembership,
		m.ChannelARN, m.MemberARN, m.Type, m.InvitedBy, m.SubChannelID, storecodec.Millis(m.ReadMarker),
		allow, filter, storecodec.Millis(m.Created), storecodec.Millis(m.Updated))
}

func (t *tx) GetMembership(channelARN, memberARN string) (*carillon.Membership, error) {
	m, err := scanMembership(t.queryRow(qGetMembership, channelARN, memberARN))
	if err != nil {
		return nil, fail(err, fmt.Sprintf("membership of %q in %q", memberARN, channelARN))
	}
	return &m, nil
}

func (t *tx) UpdateMembership(m *carillon.Membership) error {
	allow, filter := preferences(m.Preferences)
	return t.mutate(fmt.Sprintf("update membership of %q in %q", m.MemberARN, m.ChannelARN), qUpdateMembership,
		m.Type, m.SubChannelID, storecodec.Millis(m.ReadMarker), allow, filter, storecodec.Millis(m.Updated), m.ChannelARN, m.MemberARN)
}

func (t *tx) DeleteMembership(channelARN, memberARN string) error {
	return t.mutate(fmt.Sprintf("delete membership of %q in %q", memberARN, channelARN), qDeleteMembership,
		channelARN, memberARN)
}

// ListMemberships picks the index that makes the filters a range: the
// primary key with none, the type index for a type, the sub-channel index
// for a sub-channel (where the type, if any, filters the few rows of one
// sub-channel).
func (t *tx) ListMemberships(channelARN, typ, subChannel string, p carillon.Page) ([]carillon.Membership, error) {
	what := fmt.Sprintf("list memberships of %q", channelARN)
	switch {
	case subChannel != "":
		return list(t, what, qListMembershipsOfSubChannel, scanMembership, channelARN, subChannel, typ, p.After, limit(p.Limit))
	case typ != "":
		return list(t, what, qListMembershipsOfType, scanMembership, channelARN, typ, p.After, limit(p.Limit))
	default:
		return list(t, what, qListMemberships, scanMembership, channelARN, p.After, limit(p.Limit))
	}
}

func (t *tx) CountMemberships(channelARN string) (int, error) {
	return t.count(fmt.Sprintf("count memberships of %q", channelARN), qCountMemberships, channelARN)
}

func (t *tx) ListMembershipsOf(memberARN string, p carillon.Page) ([]carillon.ChannelMembershipOf, error) {
	return list(t, fmt.Sprintf("list memberships of %q", memberARN), qListMembershipsOf, scanMembershipOf,
		memberARN, p.After, limit(p.Limit))
}

// Moderators.

const moderatorCols = `channel_arn, moderator_arn, created_by, created`

const oModeratorCols = `o.channel_arn, o.moderator_arn, ` + nameCol + `, o.created_by, o.created`

var (
	qCreateModerator = writeQuery(`INSERT INTO moderators (` + moderatorCols + `) VALUES (?, ?, ?, ?)`)
	qGetModerator    = readQuery(`SELECT ` + oModeratorCols + ` FROM moderators o` + nameJoin("o.moderator_arn") + `
	WHERE o.channel_arn = ? AND o.moderator_arn = ?`)
	qDeleteModerator = writeQuery(`DELETE FROM moderators WHERE channel_arn = ? AND moderator_arn = ?`)
	qListModerators  = readQuery(`SELECT ` + oModeratorCols + ` FROM moderators o` + nameJoin("o.moderator_arn") + `
	WHERE o.channel_arn = ? AND o.moderator_arn > ? ORDER BY o.moderator_arn LIMIT ?`)
	qCountModerators         = readQuery(`SELECT count(*) FROM moderators WHERE channel_arn = ?`)
	qListChannelsModeratedBy = readQuery(`SELECT ` + cChannelCols + `
	FROM moderators o CROSS JOIN channels c ON c.arn = o.channel_arn
	WHERE o.moderator_arn = ? AND o.channel_arn > ? ORDER BY o.channel_arn LIMIT ?`)
	qDeleteModeratorRolesOf = writeQuery(`DELETE FROM moderators WHERE moderator_arn = ?`)
)

func scanModerator(s scanner) (carillon.Moderator, error) {
	var m carillon.Moderator
	err := s.Scan(&m.ChannelARN, &m.ModeratorARN, &m.ModeratorName, &m.CreatedBy, storecodec.Time(&m.Created))
	return m, err
}

// CreateModerator inserts m; ModeratorName is not stored but read from the
// moderator's user or bot.
func (t *tx) CreateModerator(m *carillon.Moderator) error {
	return t.write(fmt.Sprintf("create moderator %q of %q", m.ModeratorARN, m.ChannelARN), qCreateModerator,
		m.ChannelARN, m.ModeratorARN, m.CreatedBy, storecodec.Millis(m.Created))
}

func (t *tx) GetModerator(channelARN, moderatorARN string) (*carillon.Moderator, error) {
	m, err := scanModerator(t.queryRow(qGetModerator, channelARN, moderatorARN))
	if err != nil {
		return nil, fail(err, fmt.Sprintf("moderator %q of %q", moderatorARN, channelARN))
	}
	return &m, nil
}

func (t *tx) DeleteModerator(channelARN, moderatorARN string) error {
	return t.mutate(fmt.Sprintf("delete moderator %q of %q", moderatorARN, channelARN), qDeleteModerator,
		channelARN, moderatorARN)
}

func (t *tx) ListModerators(channelARN string, p carillon.Page) ([]carillon.Moderator, error) {
	return list(t, fmt.Sprintf("list moderators of %q", channelARN), qListModerators, scanModerator,
		channelARN, p.After, limit(p.Limit))
}

func (t *tx) CountModerators(channelARN string) (int, error) {
	return t.count(fmt.Sprintf("count moderators of %q", channelARN), qCountModerators, channelARN)
}

func (t *tx) ListChannelsModeratedBy(moderatorARN string, p carillon.Page) ([]carillon.Channel, error) {
	return list(t, fmt.Sprintf("list channels moderated by %q", moderatorARN), qListChannelsModeratedBy, scanChannel,
		moderatorARN, p.After, limit(p.Limit))
}

// Bans.

const banCols = `channel_arn, member_arn, created_by, created`

const bBanCols = `b.channel_arn, b.member_arn, ` + nameCol + `, b.created_by, b.created`

var (
	qCreateBan = writeQuery(`INSERT INTO bans (` + banCols + `) VALUES (?, ?, ?, ?)`)
	qGetBan    = readQuery(`SELECT ` + bBanCols + ` FROM bans b` + nameJoin("b.member_arn") + `
	WHERE b.channel_arn = ? AND b.member_arn = ?`)
	qDeleteBan = writeQuery(`DELETE FROM bans WHERE channel_arn = ? AND member_arn = ?`)
	qListBans  = readQuery(`SELECT ` + bBanCols + ` FROM bans b` + nameJoin("b.member_arn") + `
	WHERE b.channel_arn = ? AND b.member_arn > ? ORDER BY b.member_arn LIMIT ?`)
	qDeleteBansOf = writeQuery(`DELETE FROM bans WHERE member_arn = ?`)
)

func scanBan(s scanner) (carillon.Ban, error) {
	var b carillon.Ban
	err := s.Scan(&b.ChannelARN, &b.MemberARN, &b.MemberName, &b.CreatedBy, storecodec.Time(&b.Created))
	return b, err
}

// CreateBan inserts b; MemberName is not stored but read from the banned
// user or bot.
func (t *tx) CreateBan(b *carillon.Ban) error {
	return t.write(fmt.Sprintf("create ban of %q in %q", b.MemberARN, b.ChannelARN), qCreateBan,
		b.ChannelARN, b.MemberARN, b.CreatedBy, storecodec.Millis(b.Created))
}

func (t *tx) GetBan(channelARN, memberARN string) (*carillon.Ban, error) {
	b, err := scanBan(t.queryRow(qGetBan, channelARN, memberARN))
	if err != nil {
		return nil, fail(err, fmt.Sprintf("ban of %q in %q", memberARN, channelARN))
	}
	return &b, nil
}

func (t *tx) DeleteBan(channelARN, memberARN string) error {
	return t.mutate(fmt.Sprintf("delete ban of %q in %q", memberARN, channelARN), qDeleteBan, channelARN, memberARN)
}

func (t *tx) ListBans(channelARN string, p carillon.Page) ([]carillon.Ban, error) {
	return list(t, fmt.Sprintf("list bans of %q", channelARN), qListBans, scanBan, channelARN, p.After, limit(p.Limit))
}
