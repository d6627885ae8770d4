package postgres

import (
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

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

// params returns $1::type1, $2::type2, …: the parameters of an INSERT …
// SELECT, typed, since a SELECT list does not take its types from the
// columns it is inserted into.
func params(types ...string) string {
	ps := make([]string, len(types))
	for i, t := range types {
		ps[i] = fmt.Sprintf("$%d::%s", i+1, t)
	}
	return strings.Join(ps, ", ")
}

// nameJoin joins the user and the bot whose ARN is in column col, for
// nameCol: the name of a member, moderator or banned bearer, "" when there
// is neither. A user's and a bot's ARNs never coincide, so at most one of
// the joins matches.
func nameJoin(col string) string {
	return ` LEFT JOIN users nu ON nu.arn = ` + col + ` LEFT JOIN bots nb ON nb.arn = ` + col
}

const nameCol = `coalesce(nu.name, nb.name, ''::bytea)`

// Channels.

const channelCols = `arn, app_instance_arn, name, mode, privacy, metadata, created_by, flow_arn,
	elastic_max_sub_channels, elastic_target_memberships, elastic_min_membership_pct,
	expiration_days, expiration_criterion, created, updated, last_message_at`

var cChannelCols = qualify("c", channelCols)

var (
	qCreateChannel = `INSERT INTO channels (` + channelCols + `) SELECT ` + params("text", "text", "bytea", "text", "text", "bytea", "text", "text",
		"int", "int", "int", "int", "text", "bigint", "bigint", "bigint") + `
	WHERE EXISTS (SELECT 1 FROM app_instances WHERE arn = $2) ON CONFLICT DO NOTHING`
	qGetChannel              = `SELECT ` + cChannelCols + ` FROM channels c WHERE c.arn = $1`
	qSetChannelLastMessageAt = `UPDATE channels SET last_message_at = $1 WHERE arn = $2`
	qUpdateChannel           = `UPDATE channels SET name = $1, mode = $2, privacy = $3, metadata = $4, flow_arn = $5,
	elastic_max_sub_channels = $6, elastic_target_memberships = $7, elastic_min_membership_pct = $8,
	expiration_days = $9, expiration_criterion = $10, updated = $11, last_message_at = $12
	WHERE arn = $13`
	qDeleteChannel = `DELETE FROM channels WHERE arn = $1`
	qListChannels  = `SELECT ` + cChannelCols + ` FROM channels c
	WHERE c.app_instance_arn = $1 AND c.arn > $2 ORDER BY c.arn LIMIT $3`
	qListChannelsOfPrivacy = `SELECT ` + cChannelCols + ` FROM channels c
	WHERE c.app_instance_arn = $1 AND c.privacy = $2 AND c.arn > $3 ORDER BY c.arn LIMIT $4`

	// qSearchChannels walks the channels of one member, the driver $1, in
	// ARN order, and keeps those of AppInstance $3 that have every member
	// of the array $4, of $5 distinct ARNs: one index lookup per ARN.
	// With $6 (exact), the candidate must also have no member outside the
	// array: the first of its memberships that is not one of the $5 tells,
	// however big the channel.
	qSearchChannels = `SELECT ` + cChannelCols + `
	FROM memberships f JOIN channels c ON c.arn = f.channel_arn
	WHERE f.member_arn = $1 AND f.channel_arn > $2 AND c.app_instance_arn = $3
	AND (SELECT count(*) FROM memberships m
		WHERE m.channel_arn = f.channel_arn AND m.member_arn = ANY($4::text[])) = $5
	AND (NOT $6::boolean OR NOT EXISTS (SELECT 1 FROM memberships m
		WHERE m.channel_arn = f.channel_arn AND m.member_arn <> ALL($4::text[])))
	ORDER BY f.channel_arn LIMIT $7`
	// qSearchAllChannels is the search for no member at all, unscoped:
	// every channel of the AppInstance, or (exact) those without members.
	qSearchAllChannels = `SELECT ` + cChannelCols + ` FROM channels c
	WHERE c.app_instance_arn = $1 AND c.arn > $2
	AND (NOT $3::boolean OR NOT EXISTS (SELECT 1 FROM memberships m WHERE m.channel_arn = c.arn))
	ORDER BY c.arn LIMIT $4`
)

func scanChannel(s pgx.Row) (carillon.Channel, error) {
	var r storecodec.ChannelRow
	err := s.Scan(r.Dest(bytea)...)
	return r.Channel(), err
}

func (t *tx) CreateChannel(c *carillon.Channel) error {
	maxSub, target, minPct := storecodec.ElasticColumns(c.Elastic)
	days, criterion := storecodec.ExpirationColumns(c.Expiration)
	return t.insert(fmt.Sprintf("create channel %q", c.ARN), qCreateChannel, appInstanceExists, []any{c.AppInstanceARN},
		c.ARN, c.AppInstanceARN, b(c.Name), c.Mode, c.Privacy, b(c.Metadata), c.CreatedBy, c.FlowARN,
		maxSub, target, minPct, days, criterion, ms(c.Created), ms(c.Updated), ms(c.LastMessageAt))
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
	if err := t.touch("channel", c.ARN); err != nil {
		return fail(err, "lock a row")
	}
	maxSub, target, minPct := storecodec.ElasticColumns(c.Elastic)
	days, criterion := storecodec.ExpirationColumns(c.Expiration)
	return t.mutate(fmt.Sprintf("update channel %q", c.ARN), qUpdateChannel,
		b(c.Name), c.Mode, c.Privacy, b(c.Metadata), c.FlowARN, maxSub, target, minPct, days, criterion,
		ms(c.Updated), ms(c.LastMessageAt), c.ARN)
}

// SetChannelLastMessageAt updates the one column, so that the indexes of
// the others stay as they are.
func (t *tx) SetChannelLastMessageAt(arn string, at time.Time) error {
	if err := t.touch("channel", arn); err != nil {
		return fail(err, "lock a row")
	}
	return t.mutate(fmt.Sprintf("update channel %q", arn), qSetChannelLastMessageAt, ms(at), arn)
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
		return list(t, what, qListChannels, scanChannel, appInstanceARN, after(p.After), limit(p.Limit))
	}
	return list(t, what, qListChannelsOfPrivacy, scanChannel, appInstanceARN, privacy, after(p.After), limit(p.Limit))
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
			return list(t, what, qSearchAllChannels, scanChannel, appInstanceARN, after(p.After), exact, limit(p.Limit))
		}
		driver = distinct[0]
	}
	return list(t, what, qSearchChannels, scanChannel,
		driver, after(p.After), appInstanceARN, distinct, len(distinct), exact, limit(p.Limit))
}

// Memberships.

const membershipCols = `channel_arn, member_arn, type, invited_by, sub_channel_id, read_marker,
	allow_notifications, filter_rule, created, updated`

// mMembershipCols are the columns of a membership read with its member's
// name, in membershipRow.dest's order.
const mMembershipCols = `m.channel_arn, m.member_arn, ` + nameCol + `, m.type, m.invited_by, m.sub_channel_id,
	m.read_marker, m.allow_notifications, m.filter_rule, m.created, m.updated`

var (
	qCreateMembership = `INSERT INTO memberships (` + membershipCols + `) SELECT ` + params("text", "text", "text", "text", "text",
		"bigint", "text", "bytea", "bigint", "bigint") + `
	WHERE EXISTS (SELECT 1 FROM channels WHERE arn = $1) ON CONFLICT DO NOTHING`
	qGetMembership = `SELECT ` + mMembershipCols + ` FROM memberships m` + nameJoin("m.member_arn") + `
	WHERE m.channel_arn = $1 AND m.member_arn = $2`
	qUpdateMembership = `UPDATE memberships SET type = $1, sub_channel_id = $2, read_marker = $3,
	allow_notifications = $4, filter_rule = $5, updated = $6
	WHERE channel_arn = $7 AND member_arn = $8`
	qDeleteMembership = `DELETE FROM memberships WHERE channel_arn = $1 AND member_arn = $2`
	qListMemberships  = `SELECT ` + mMembershipCols + ` FROM memberships m` + nameJoin("m.member_arn") + `
	WHERE m.channel_arn = $1 AND m.member_arn > $2 ORDER BY m.member_arn LIMIT $3`
	qListMembershipsOfType = `SELECT ` + mMembershipCols + ` FROM memberships m` + nameJoin("m.member_arn") + `
	WHERE m.channel_arn = $1 AND m.type = $2 AND m.member_arn > $3 ORDER BY m.member_arn LIMIT $4`
	// The literal sub_channel_id <> '' makes the partial index usable;
	// ListMemberships runs this query only for a sub-channel that is not ''.
	qListMembershipsOfSubChannel = `SELECT ` + mMembershipCols + ` FROM memberships m` + nameJoin("m.member_arn") + `
	WHERE m.channel_arn = $1 AND m.sub_channel_id = $2 AND m.sub_channel_id <> ''
	AND ($3::text = '' OR m.type = $3) AND m.member_arn > $4
	ORDER BY m.member_arn LIMIT $5`
	qCountMemberships  = `SELECT coalesce(sum(membership_count), 0) FROM channels WHERE arn = $1`
	qListMembershipsOf = `SELECT ` + cChannelCols + `, ` + mMembershipCols + `
	FROM memberships m JOIN channels c ON c.arn = m.channel_arn` + nameJoin("m.member_arn") + `
	WHERE m.member_arn = $1 AND m.channel_arn > $2 ORDER BY m.channel_arn LIMIT $3`
	qDeleteMembershipsOf = `DELETE FROM memberships WHERE member_arn = $1`
)

func scanMembership(s pgx.Row) (carillon.Membership, error) {
	var r storecodec.MembershipRow
	err := s.Scan(r.Dest(bytea)...)
	return r.Membership(), err
}

func scanMembershipOf(s pgx.Row) (carillon.ChannelMembershipOf, error) {
	var c storecodec.ChannelRow
	var m storecodec.MembershipRow
	err := s.Scan(append(c.Dest(bytea), m.Dest(bytea)...)...)
	return carillon.ChannelMembershipOf{Channel: c.Channel(), Membership: m.Membership()}, err
}

// preferences returns the preference columns: NULL, NULL for nil.
func preferences(p *carillon.MembershipPreferences) (allow, filter any) {
	if p == nil {
		return nil, nil
	}
	return p.AllowNotifications, b(p.FilterRule)
}

// CreateMembership inserts m; MemberName is not stored but read from the
// member's user or bot.
func (t *tx) CreateMembership(m *carillon.Membership) error {
	if err := t.touch("channel", m.ChannelARN); err != nil {
		return fail(err, "lock a row")
	}
	allow, filter := preferences(m.Preferences)
	return t.insert(fmt.Sprintf("create membership of %q in %q", m.MemberARN, m.ChannelARN), qCreateMembership,
		channelExists, []any{m.ChannelARN},
		m.ChannelARN, m.MemberARN, m.Type, m.InvitedBy, m.SubChannelID, ms(m.ReadMarker),
		allow, filter, ms(m.Created), ms(m.Updated))
}

func (t *tx) GetMembership(channelARN, memberARN string) (*carillon.Membership, error) {
	m, err := scanMembership(t.queryRow(qGetMembership, channelARN, memberARN))
	if err != nil {
		return nil, fail(err, fmt.Sprintf("membership of %q in %q", memberARN, channelARN))
	}
	return &m, nil
}

func (t *tx) UpdateMembership(m *carillon.Membership) error {
	if err := t.touch("channel", m.ChannelARN); err != nil {
		return fail(err, "lock a row")
	}
	allow, filter := preferences(m.Preferences)
	return t.mutate(fmt.Sprintf("update membership of %q in %q", m.MemberARN, m.ChannelARN), qUpdateMembership,
		m.Type, m.SubChannelID, ms(m.ReadMarker), allow, filter, ms(m.Updated), m.ChannelARN, m.MemberARN)
}

func (t *tx) DeleteMembership(channelARN, memberARN string) error {
	if err := t.touch("channel", channelARN); err != nil {
		return fail(err, "lock a row")
	}
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
		return list(t, what, qListMembershipsOfSubChannel, scanMembership, channelARN, subChannel, typ, after(p.After), limit(p.Limit))
	case typ != "":
		return list(t, what, qListMembershipsOfType, scanMembership, channelARN, typ, after(p.After), limit(p.Limit))
	default:
		return list(t, what, qListMemberships, scanMembership, channelARN, after(p.After), limit(p.Limit))
	}
}

func (t *tx) CountMemberships(channelARN string) (int, error) {
	return t.count(fmt.Sprintf("count memberships of %q", channelARN), qCountMemberships, channelARN)
}

func (t *tx) ListMembershipsOf(memberARN string, p carillon.Page) ([]carillon.ChannelMembershipOf, error) {
	return list(t, fmt.Sprintf("list memberships of %q", memberARN), qListMembershipsOf, scanMembershipOf,
		memberARN, after(p.After), limit(p.Limit))
}

// Moderators.

const moderatorCols = `channel_arn, moderator_arn, created_by, created`

const oModeratorCols = `o.channel_arn, o.moderator_arn, ` + nameCol + `, o.created_by, o.created`

var (
	qCreateModerator = `INSERT INTO moderators (` + moderatorCols + `) SELECT ` + params("text", "text", "text", "bigint") + `
	WHERE EXISTS (SELECT 1 FROM channels WHERE arn = $1) ON CONFLICT DO NOTHING`
	qGetModerator = `SELECT ` + oModeratorCols + ` FROM moderators o` + nameJoin("o.moderator_arn") + `
	WHERE o.channel_arn = $1 AND o.moderator_arn = $2`
	qDeleteModerator = `DELETE FROM moderators WHERE channel_arn = $1 AND moderator_arn = $2`
	qListModerators  = `SELECT ` + oModeratorCols + ` FROM moderators o` + nameJoin("o.moderator_arn") + `
	WHERE o.channel_arn = $1 AND o.moderator_arn > $2 ORDER BY o.moderator_arn LIMIT $3`
	qCountModerators         = `SELECT count(*) FROM moderators WHERE channel_arn = $1`
	qListChannelsModeratedBy = `SELECT ` + cChannelCols + `
	FROM moderators o JOIN channels c ON c.arn = o.channel_arn
	WHERE o.moderator_arn = $1 AND o.channel_arn > $2 ORDER BY o.channel_arn LIMIT $3`
	qDeleteModeratorRolesOf = `DELETE FROM moderators WHERE moderator_arn = $1`
)

func scanModerator(s pgx.Row) (carillon.Moderator, error) {
	var m carillon.Moderator
	err := s.Scan(&m.ChannelARN, &m.ModeratorARN, bstr{&m.ModeratorName}, &m.CreatedBy, storecodec.Time(&m.Created))
	return m, err
}

// CreateModerator inserts m; ModeratorName is not stored but read from the
// moderator's user or bot.
func (t *tx) CreateModerator(m *carillon.Moderator) error {
	return t.insert(fmt.Sprintf("create moderator %q of %q", m.ModeratorARN, m.ChannelARN), qCreateModerator,
		channelExists, []any{m.ChannelARN},
		m.ChannelARN, m.ModeratorARN, m.CreatedBy, ms(m.Created))
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
		channelARN, after(p.After), limit(p.Limit))
}

func (t *tx) CountModerators(channelARN string) (int, error) {
	return t.count(fmt.Sprintf("count moderators of %q", channelARN), qCountModerators, channelARN)
}

func (t *tx) ListChannelsModeratedBy(moderatorARN string, p carillon.Page) ([]carillon.Channel, error) {
	return list(t, fmt.Sprintf("list channels moderated by %q", moderatorARN), qListChannelsModeratedBy, scanChannel,
		moderatorARN, after(p.After), limit(p.Limit))
}

// Bans.

const banCols = `channel_arn, member_arn, created_by, created`

const bBanCols = `b.channel_arn, b.member_arn, ` + nameCol + `, b.created_by, b.created`

var (
	qCreateBan = `INSERT INTO bans (` + banCols + `) SELECT ` + params("text", "text", "text", "bigint") + `
	WHERE EXISTS (SELECT 1 FROM channels WHERE arn = $1) ON CONFLICT DO NOTHING`
	qGetBan = `SELECT ` + bBanCols + ` FROM bans b` + nameJoin("b.member_arn") + `
	WHERE b.channel_arn = $1 AND b.member_arn = $2`
	qDeleteBan = `DELETE FROM bans WHERE channel_arn = $1 AND member_arn = $2`
	qListBans  = `SELECT ` + bBanCols + ` FROM bans b` + nameJoin("b.member_arn") + `
	WHERE b.channel_arn = $1 AND b.member_arn > $2 ORDER BY b.member_arn LIMIT $3`
	qDeleteBansOf = `DELETE FROM bans WHERE member_arn = $1`
)

func scanBan(s pgx.Row) (carillon.Ban, error) {
	var b carillon.Ban
	err := s.Scan(&b.ChannelARN, &b.MemberARN, bstr{&b.MemberName}, &b.CreatedBy, storecodec.Time(&b.Created))
	return b, err
}

// CreateBan inserts b; MemberName is not stored but read from the banned
// user or bot.
func (t *tx) CreateBan(b *carillon.Ban) error {
	return t.insert(fmt.Sprintf("create ban of %q in %q", b.MemberARN, b.ChannelARN), qCreateBan,
		channelExists, []any{b.ChannelARN},
		b.ChannelARN, b.MemberARN, b.CreatedBy, ms(b.Created))
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
	return list(t, fmt.Sprintf("list bans of %q", channelARN), qListBans, scanBan, channelARN, after(p.After), limit(p.Limit))
}
