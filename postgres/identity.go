package postgres

import (
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/internal/storecodec"
)

// Range predicates for "the ARN is under $1", that is, starts with $1 ||
// '/'. '0' is the byte after '/', so the half-open range holds exactly the
// strings with that prefix (in the "C" collation of the columns), and
// unlike LIKE it needs no escaping of '_' and '%', which ARNs may contain.
const (
	tagsUnder = `resource_arn >= $1 || '/' AND resource_arn < $1 || '0'`
	keysUnder = `bearer >= $1 || '/' AND bearer < $1 || '0'`
)

// Owner checks for insert: whether the row a new one belongs to exists.
const (
	appInstanceExists = `SELECT EXISTS (SELECT 1 FROM app_instances WHERE arn = $1)`
	userExists        = `SELECT EXISTS (SELECT 1 FROM users WHERE arn = $1)`
	channelExists     = `SELECT EXISTS (SELECT 1 FROM channels WHERE arn = $1)`
)

// AppInstances.

const appInstanceCols = `arn, name, metadata, created, updated`

const (
	qCreateAppInstance = `INSERT INTO app_instances (` + appInstanceCols + `) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`
	qGetAppInstance    = `SELECT ` + appInstanceCols + ` FROM app_instances WHERE arn = $1`
	qUpdateAppInstance = `UPDATE app_instances SET name = $1, metadata = $2, updated = $3 WHERE arn = $4`
	qDeleteAppInstance = `DELETE FROM app_instances WHERE arn = $1`
	qDeleteTagsOf      = `DELETE FROM tags WHERE resource_arn = $1`
	qDeleteTagsUnder   = `DELETE FROM tags WHERE ` + tagsUnder
	qDeleteKeysOf      = `DELETE FROM access_keys WHERE bearer = $1`
	qDeleteKeysUnder   = `DELETE FROM access_keys WHERE ` + keysUnder
	qListAppInstances  = `SELECT ` + appInstanceCols + ` FROM app_instances WHERE arn > $1 ORDER BY arn LIMIT $2`
	qGetRetention      = `SELECT retention_channel_days, retention_initiated FROM app_instances WHERE arn = $1`
	qPutRetention      = `UPDATE app_instances SET retention_channel_days = $1, retention_initiated = $2 WHERE arn = $3`
)

func scanAppInstance(s pgx.Row) (carillon.AppInstance, error) {
	var a carillon.AppInstance
	err := s.Scan(&a.ARN, bstr{&a.Name}, bstr{&a.Metadata}, storecodec.Time(&a.Created), storecodec.Time(&a.Updated))
	return a, err
}

func (t *tx) CreateAppInstance(a *carillon.AppInstance) error {
	return t.insert(fmt.Sprintf("create app instance %q", a.ARN), qCreateAppInstance, "", nil,
		a.ARN, b(a.Name), b(a.Metadata), ms(a.Created), ms(a.Updated))
}

func (t *tx) GetAppInstance(arn string) (*carillon.AppInstance, error) {
	a, err := scanAppInstance(t.queryRow(qGetAppInstance, arn))
	if err != nil {
		return nil, fail(err, fmt.Sprintf("app instance %q", arn))
	}
	return &a, nil
}

func (t *tx) UpdateAppInstance(a *carillon.AppInstance) error {
	if err := t.touch("app", a.ARN); err != nil {
		return fail(err, "lock a row")
	}
	return t.mutate(fmt.Sprintf("update app instance %q", a.ARN), qUpdateAppInstance,
		b(a.Name), b(a.Metadata), ms(a.Updated), a.ARN)
}

// DeleteAppInstance deletes the AppInstance row first, which also tells
// whether it exists; what is under it goes through ON DELETE CASCADE, but
// tags and access keys, keyed by ARNs of any type, are deleted by ARN
// range. Idempotency results are kept on purpose: a retried request must
// still get its first result.
func (t *tx) DeleteAppInstance(arn string) error {
	what := fmt.Sprintf("delete app instance %q", arn)
	if err := t.mutate(what, qDeleteAppInstance, arn); err != nil {
		return err
	}
	for _, q := range []string{qDeleteTagsOf, qDeleteTagsUnder, qDeleteKeysUnder} {
		if _, err := t.exec(q, arn); err != nil {
			return fail(err, what)
		}
	}
	return nil
}

func (t *tx) ListAppInstances(p carillon.Page) ([]carillon.AppInstance, error) {
	return list(t, "list app instances", qListAppInstances, scanAppInstance, after(p.After), limit(p.Limit))
}

// GetRetentionSettings returns nil (and no error) when the AppInstance
// exists but has no settings, and ErrNotFound when it does not exist.
func (t *tx) GetRetentionSettings(appInstanceARN string) (*carillon.RetentionSettings, error) {
	var days *int
	var s carillon.RetentionSettings
	if err := t.queryRow(qGetRetention, appInstanceARN).Scan(&days, storecodec.Time(&s.InitiatedAt)); err != nil {
		return nil, fail(err, fmt.Sprintf("retention settings of %q", appInstanceARN))
	}
	if days == nil {
		return nil, nil
	}
	s.ChannelDays = *days
	return &s, nil
}

func (t *tx) PutRetentionSettings(appInstanceARN string, s *carillon.RetentionSettings) error {
	if err := t.touch("app", appInstanceARN); err != nil {
		return fail(err, "lock a row")
	}
	var days, initiated any // NULL, NULL: no settings
	if s != nil {
		days, initiated = s.ChannelDays, ms(s.InitiatedAt)
	}
	return t.mutate(fmt.Sprintf("put retention settings of %q", appInstanceARN), qPutRetention,
		days, initiated, appInstanceARN)
}

// Users.

const userCols = `arn, app_instance_arn, name, metadata, expiration_days, expiration_criterion, created, updated`

const (
	qCreateUser = `INSERT INTO users (` + userCols + `) SELECT $1::text, $2::text, $3::bytea, $4::bytea, $5::int, $6::text, $7::bigint, $8::bigint
	WHERE EXISTS (SELECT 1 FROM app_instances WHERE arn = $2) ON CONFLICT DO NOTHING`
	qGetUser        = `SELECT ` + userCols + ` FROM users WHERE arn = $1`
	qUpdateUser     = `UPDATE users SET name = $1, metadata = $2, expiration_days = $3, expiration_criterion = $4, updated = $5 WHERE arn = $6`
	qDeleteUser     = `DELETE FROM users WHERE arn = $1`
	qDeleteAdminsOf = `DELETE FROM admins WHERE admin_arn = $1`
	qListUsers      = `SELECT ` + userCols + ` FROM users WHERE app_instance_arn = $1 AND arn > $2 ORDER BY arn LIMIT $3`
)

func scanUser(s pgx.Row) (carillon.AppInstanceUser, error) {
	var r storecodec.UserRow
	err := s.Scan(r.Dest(bytea)...)
	return r.User(), err
}

func (t *tx) CreateUser(u *carillon.AppInstanceUser) error {
	days, criterion := storecodec.ExpirationColumns(u.Expiration)
	return t.insert(fmt.Sprintf("create user %q", u.ARN), qCreateUser, appInstanceExists, []any{u.AppInstanceARN},
		u.ARN, u.AppInstanceARN, b(u.Name), b(u.Metadata), days, criterion, ms(u.Created), ms(u.Updated))
}

func (t *tx) GetUser(arn string) (*carillon.AppInstanceUser, error) {
	u, err := scanUser(t.queryRow(qGetUser, arn))
	if err != nil {
		return nil, fail(err, fmt.Sprintf("user %q", arn))
	}
	return &u, nil
}

func (t *tx) UpdateUser(u *carillon.AppInstanceUser) error {
	if err := t.touch("user", u.ARN); err != nil {
		return fail(err, "lock a row")
	}
	days, criterion := storecodec.ExpirationColumns(u.Expiration)
	return t.mutate(fmt.Sprintf("update user %q", u.ARN), qUpdateUser,
		b(u.Name), b(u.Metadata), days, criterion, ms(u.Updated), u.ARN)
}

// DeleteUser deletes the user row (its endpoints cascade), then the rows
// that name it without a foreign key: its admin role, tags and keys, and
// its memberships, moderator roles and bans in every channel.
func (t *tx) DeleteUser(arn string) error {
	return t.deleteMember(fmt.Sprintf("delete user %q", arn), qDeleteUser, arn)
}

func (t *tx) deleteMember(what, q, arn string) error {
	if err := t.mutate(what, q, arn); err != nil {
		return err
	}
	for _, q := range []string{qDeleteAdminsOf, qDeleteTagsOf, qDeleteKeysOf, qDeleteMembershipsOf, qDeleteModeratorRolesOf, qDeleteBansOf} {
		if _, err := t.exec(q, arn); err != nil {
			return fail(err, what)
		}
	}
	return nil
}

func (t *tx) ListUsers(appInstanceARN string, p carillon.Page) ([]carillon.AppInstanceUser, error) {
	return list(t, fmt.Sprintf("list users of %q", appInstanceARN), qListUsers, scanUser,
		appInstanceARN, after(p.After), limit(p.Limit))
}

// Bots.

const botCols = `arn, app_instance_arn, name, metadata, lex, created, updated`

const (
	qCreateBot = `INSERT INTO bots (` + botCols + `) SELECT $1::text, $2::text, $3::bytea, $4::bytea, $5::text, $6::bigint, $7::bigint
	WHERE EXISTS (SELECT 1 FROM app_instances WHERE arn = $2) ON CONFLICT DO NOTHING`
	qGetBot    = `SELECT ` + botCols + ` FROM bots WHERE arn = $1`
	qUpdateBot = `UPDATE bots SET name = $1, metadata = $2, lex = $3, updated = $4 WHERE arn = $5`
	qDeleteBot = `DELETE FROM bots WHERE arn = $1`
	qListBots  = `SELECT ` + botCols + ` FROM bots WHERE app_instance_arn = $1 AND arn > $2 ORDER BY arn LIMIT $3`
)

func scanBot(s pgx.Row) (carillon.AppInstanceBot, error) {
	var r storecodec.BotRow
	if err := s.Scan(r.Dest(bytea)...); err != nil {
		return carillon.AppInstanceBot{}, err
	}
	return r.Bot()
}

func (t *tx) CreateBot(bot *carillon.AppInstanceBot) error {
	what := fmt.Sprintf("create bot %q", bot.ARN)
	lex, err := storecodec.LexColumn(bot.Lex)
	if err != nil {
		return fail(err, what)
	}
	return t.insert(what, qCreateBot, appInstanceExists, []any{bot.AppInstanceARN},
		bot.ARN, bot.AppInstanceARN, b(bot.Name), b(bot.Metadata), lex, ms(bot.Created), ms(bot.Updated))
}

func (t *tx) GetBot(arn string) (*carillon.AppInstanceBot, error) {
	bot, err := scanBot(t.queryRow(qGetBot, arn))
	if err != nil {
		return nil, fail(err, fmt.Sprintf("bot %q", arn))
	}
	return &bot, nil
}

func (t *tx) UpdateBot(bot *carillon.AppInstanceBot) error {
	if err := t.touch("bot", bot.ARN); err != nil {
		return fail(err, "lock a row")
	}
	what := fmt.Sprintf("update bot %q", bot.ARN)
	lex, err := storecodec.LexColumn(bot.Lex)
	if err != nil {
		return fail(err, what)
	}
	return t.mutate(what, qUpdateBot, b(bot.Name), b(bot.Metadata), lex, ms(bot.Updated), bot.ARN)
}

// DeleteBot deletes the bot row, then its admin role, tags and keys, and
// its memberships, moderator roles and bans in every channel.
func (t *tx) DeleteBot(arn string) error {
	return t.deleteMember(fmt.Sprintf("delete bot %q", arn), qDeleteBot, arn)
}

func (t *tx) ListBots(appInstanceARN string, p carillon.Page) ([]carillon.AppInstanceBot, error) {
	return list(t, fmt.Sprintf("list bots of %q", appInstanceARN), qListBots, scanBot,
		appInstanceARN, after(p.After), limit(p.Limit))
}

// Admins.

const adminCols = `app_instance_arn, admin_arn, created`

const (
	qCreateAdmin = `INSERT INTO admins (` + adminCols + `) SELECT $1::text, $2::text, $3::bigint
	WHERE EXISTS (SELECT 1 FROM app_instances WHERE arn = $1) ON CONFLICT DO NOTHING`
	qGetAdmin    = `SELECT ` + adminCols + ` FROM admins WHERE app_instance_arn = $1 AND admin_arn = $2`
	qDeleteAdmin = `DELETE FROM admins WHERE app_instance_arn = $1 AND admin_arn = $2`
	qListAdmins  = `SELECT ` + adminCols + ` FROM admins WHERE app_instance_arn = $1 AND admin_arn > $2 ORDER BY admin_arn LIMIT $3`
	qCountAdmins = `SELECT count(*) FROM admins WHERE app_instance_arn = $1`
)

func scanAdmin(s pgx.Row) (carillon.AppInstanceAdmin, error) {
	var a carillon.AppInstanceAdmin
	err := s.Scan(&a.AppInstanceARN, &a.AdminARN, storecodec.Time(&a.Created))
	return a, err
}

func (t *tx) CreateAdmin(a *carillon.AppInstanceAdmin) error {
	return t.insert(fmt.Sprintf("create admin %q of %q", a.AdminARN, a.AppInstanceARN), qCreateAdmin,
		appInstanceExists, []any{a.AppInstanceARN},
		a.AppInstanceARN, a.AdminARN, ms(a.Created))
}

func (t *tx) GetAdmin(appInstanceARN, adminARN string) (*carillon.AppInstanceAdmin, error) {
	a, err := scanAdmin(t.queryRow(qGetAdmin, appInstanceARN, adminARN))
	if err != nil {
		return nil, fail(err, fmt.Sprintf("admin %q of %q", adminARN, appInstanceARN))
	}
	return &a, nil
}

func (t *tx) DeleteAdmin(appInstanceARN, adminARN string) error {
	return t.mutate(fmt.Sprintf("delete admin %q of %q", adminARN, appInstanceARN), qDeleteAdmin,
		appInstanceARN, adminARN)
}

func (t *tx) ListAdmins(appInstanceARN string, p carillon.Page) ([]carillon.AppInstanceAdmin, error) {
	return list(t, fmt.Sprintf("list admins of %q", appInstanceARN), qListAdmins, scanAdmin,
		appInstanceARN, after(p.After), limit(p.Limit))
}

func (t *tx) CountAdmins(appInstanceARN string) (int, error) {
	return t.count(fmt.Sprintf("count admins of %q", appInstanceARN), qCountAdmins, appInstanceARN)
}

func (t *tx) count(what, q string, args ...any) (int, error) {
	if hasNUL(args) {
		return 0, nil
	}
	var n int64
	if err := t.queryRow(q, args...).Scan(&n); err != nil {
		return 0, fail(err, what)
	}
	return int(n), nil
}

// Endpoints.

const endpointCols = `user_arn, endpoint_id, name, type, resource_arn, device_token, voip_device_token,
	allow_messages, state_status, state_reason, created, updated`

const (
	qCreateEndpoint = `INSERT INTO endpoints (` + endpointCols + `) SELECT $1::text, $2::text, $3::bytea, $4::text, $5::text,
	$6::bytea, $7::bytea, $8::text, $9::text, $10::text, $11::bigint, $12::bigint
	WHERE EXISTS (SELECT 1 FROM users WHERE arn = $1) ON CONFLICT DO NOTHING`
	qGetEndpoint    = `SELECT ` + endpointCols + ` FROM endpoints WHERE user_arn = $1 AND endpoint_id = $2`
	qUpdateEndpoint = `UPDATE endpoints SET name = $1, resource_arn = $2, voip_device_token = $3, allow_messages = $4,
	state_status = $5, state_reason = $6, updated = $7
	WHERE user_arn = $8 AND endpoint_id = $9`
	qDeleteEndpoint = `DELETE FROM endpoints WHERE user_arn = $1 AND endpoint_id = $2`
	qListEndpoints  = `SELECT ` + endpointCols + ` FROM endpoints WHERE user_arn = $1 AND endpoint_id > $2 ORDER BY endpoint_id LIMIT $3`
	qCountEndpoints = `SELECT count(*) FROM endpoints WHERE user_arn = $1`
	qEndpointsOf    = `SELECT ` + endpointCols + ` FROM endpoints WHERE user_arn = ANY($1)`
)

func scanEndpoint(s pgx.Row) (carillon.UserEndpoint, error) {
	var e carillon.UserEndpoint
	err := s.Scan(&e.UserARN, &e.ID, bstr{&e.Name}, &e.Type, &e.ResourceARN, bstr{&e.DeviceToken}, bstr{&e.VoipDeviceToken},
		&e.AllowMessages, &e.StateStatus, &e.StateReason, storecodec.Time(&e.Created), storecodec.Time(&e.Updated))
	return e, err
}

func (t *tx) CreateEndpoint(e *carillon.UserEndpoint) error {
	return t.insert(fmt.Sprintf("create endpoint %q of %q", e.ID, e.UserARN), qCreateEndpoint, userExists, []any{e.UserARN},
		e.UserARN, e.ID, b(e.Name), e.Type, e.ResourceARN, b(e.DeviceToken), b(e.VoipDeviceToken),
		e.AllowMessages, e.StateStatus, e.StateReason, ms(e.Created), ms(e.Updated))
}

func (t *tx) GetEndpoint(userARN, id string) (*carillon.UserEndpoint, error) {
	e, err := scanEndpoint(t.queryRow(qGetEndpoint, userARN, id))
	if err != nil {
		return nil, fail(err, fmt.Sprintf("endpoint %q of %q", id, userARN))
	}
	return &e, nil
}

func (t *tx) UpdateEndpoint(e *carillon.UserEndpoint) error {
	if err := t.touch("endpoint", e.UserARN, e.ID); err != nil {
		return fail(err, "lock a row")
	}
	return t.mutate(fmt.Sprintf("update endpoint %q of %q", e.ID, e.UserARN), qUpdateEndpoint,
		b(e.Name), e.ResourceARN, b(e.VoipDeviceToken), e.AllowMessages, e.StateStatus, e.StateReason, ms(e.Updated), e.UserARN, e.ID)
}

func (t *tx) EndpointsOf(userARNs []string) ([]carillon.UserEndpoint, error) {
	if len(userARNs) == 0 {
		return []carillon.UserEndpoint{}, nil
	}
	return list(t, fmt.Sprintf("endpoints of %d users", len(userARNs)), qEndpointsOf, scanEndpoint, userARNs)
}

func (t *tx) DeleteEndpoint(userARN, id string) error {
	return t.mutate(fmt.Sprintf("delete endpoint %q of %q", id, userARN), qDeleteEndpoint, userARN, id)
}

func (t *tx) ListEndpoints(userARN string, p carillon.Page) ([]carillon.UserEndpoint, error) {
	return list(t, fmt.Sprintf("list endpoints of %q", userARN), qListEndpoints, scanEndpoint,
		userARN, after(p.After), limit(p.Limit))
}

func (t *tx) CountEndpoints(userARN string) (int, error) {
	return t.count(fmt.Sprintf("count endpoints of %q", userARN), qCountEndpoints, userARN)
}
