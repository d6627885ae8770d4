package sqlite

import (
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/internal/storecodec"
)

// Range predicates for "the ARN is under ?1", that is, starts with ?1 || '/'.
// '0' is the byte after '/', so the half-open range holds exactly the
// strings with that prefix, and unlike LIKE it is served by an index on
// the column (LIKE is case-insensitive by default and treats '_' as a
// wildcard, and ARNs may contain '_').
const (
	tagsUnder = `resource_arn >= ?1 || '/' AND resource_arn < ?1 || '0'`
	keysUnder = `bearer >= ?1 || '/' AND bearer < ?1 || '0'`
)

// plain is the storecodec.Text of this engine: free text is in TEXT
// columns, which scan into a string as they are.
func plain(s *string) any { return s }

// AppInstances.

const appInstanceCols = `arn, name, metadata, created, updated`

var (
	qCreateAppInstance = writeQuery(`INSERT INTO app_instances (` + appInstanceCols + `) VALUES (?, ?, ?, ?, ?)`)
	qGetAppInstance    = readQuery(`SELECT ` + appInstanceCols + ` FROM app_instances WHERE arn = ?`)
	qUpdateAppInstance = writeQuery(`UPDATE app_instances SET name = ?, metadata = ?, updated = ? WHERE arn = ?`)
	qDeleteAppInstance = writeQuery(`DELETE FROM app_instances WHERE arn = ?`)
	qDeleteTagsOf      = writeQuery(`DELETE FROM tags WHERE resource_arn = ?`)
	qDeleteTagsUnder   = writeQuery(`DELETE FROM tags WHERE ` + tagsUnder)
	qDeleteKeysOf      = writeQuery(`DELETE FROM access_keys WHERE bearer = ?`)
	qDeleteKeysUnder   = writeQuery(`DELETE FROM access_keys WHERE ` + keysUnder)
	qListAppInstances  = readQuery(`SELECT ` + appInstanceCols + ` FROM app_instances WHERE arn > ? ORDER BY arn LIMIT ?`)
	qGetRetention      = readQuery(`SELECT retention_channel_days, retention_initiated FROM app_instances WHERE arn = ?`)
	qPutRetention      = writeQuery(`UPDATE app_instances SET retention_channel_days = ?, retention_initiated = ? WHERE arn = ?`)
)

func scanAppInstance(s scanner) (carillon.AppInstance, error) {
	var a carillon.AppInstance
	err := s.Scan(&a.ARN, &a.Name, &a.Metadata, storecodec.Time(&a.Created), storecodec.Time(&a.Updated))
	return a, err
}

func (t *tx) CreateAppInstance(a *carillon.AppInstance) error {
	return t.write(fmt.Sprintf("create app instance %q", a.ARN), qCreateAppInstance,
		a.ARN, a.Name, a.Metadata, storecodec.Millis(a.Created), storecodec.Millis(a.Updated))
}

func (t *tx) GetAppInstance(arn string) (*carillon.AppInstance, error) {
	a, err := scanAppInstance(t.queryRow(qGetAppInstance, arn))
	if err != nil {
		return nil, fail(err, fmt.Sprintf("app instance %q", arn))
	}
	return &a, nil
}

func (t *tx) UpdateAppInstance(a *carillon.AppInstance) error {
	return t.mutate(fmt.Sprintf("update app instance %q", a.ARN), qUpdateAppInstance,
		a.Name, a.Metadata, storecodec.Millis(a.Updated), a.ARN)
}

// DeleteAppInstance deletes the AppInstance row first, which also tells
// whether it exists; its users (and their endpoints), bots and admins go
// with it through ON DELETE CASCADE. Tags and access keys are keyed by ARNs
// of any type, so they are deleted by ARN range. Idempotency results are
// kept on purpose: a retried request must still get its first result.
func (t *tx) DeleteAppInstance(arn string) error {
	what := fmt.Sprintf("delete app instance %q", arn)
	if err := t.mutate(what, qDeleteAppInstance, arn); err != nil {
		return err
	}
	for _, q := range []*query{qDeleteTagsOf, qDeleteTagsUnder, qDeleteKeysUnder} {
		if _, err := t.exec(q, arn); err != nil {
			return fail(err, what)
		}
	}
	return nil
}

func (t *tx) ListAppInstances(p carillon.Page) ([]carillon.AppInstance, error) {
	return list(t, "list app instances", qListAppInstances, scanAppInstance, p.After, limit(p.Limit))
}

// GetRetentionSettings returns nil (and no error) when the AppInstance
// exists but has no settings, and ErrNotFound when it does not exist.
func (t *tx) GetRetentionSettings(appInstanceARN string) (*carillon.RetentionSettings, error) {
	var days sql.NullInt64
	var s carillon.RetentionSettings
	if err := t.queryRow(qGetRetention, appInstanceARN).Scan(&days, storecodec.Time(&s.InitiatedAt)); err != nil {
		return nil, fail(err, fmt.Sprintf("retention settings of %q", appInstanceARN))
	}
	if !days.Valid {
		return nil, nil
	}
	s.ChannelDays = int(days.Int64)
	return &s, nil
}

func (t *tx) PutRetentionSettings(appInstanceARN string, s *carillon.RetentionSettings) error {
	var days, initiated any // NULL, NULL: no settings
	if s != nil {
		days, initiated = s.ChannelDays, storecodec.Millis(s.InitiatedAt)
	}
	return t.mutate(fmt.Sprintf("put retention settings of %q", appInstanceARN), qPutRetention,
		days, initiated, appInstanceARN)
}

// Users.

const userCols = `arn, app_instance_arn, name, metadata, expiration_days, expiration_criterion, created, updated`

var (
	qCreateUser     = writeQuery(`INSERT INTO users (` + userCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	qGetUser        = readQuery(`SELECT ` + userCols + ` FROM users WHERE arn = ?`)
	qUpdateUser     = writeQuery(`UPDATE users SET name = ?, metadata = ?, expiration_days = ?, expiration_criterion = ?, updated = ? WHERE arn = ?`)
	qDeleteUser     = writeQuery(`DELETE FROM users WHERE arn = ?`)
	qDeleteAdminsOf = writeQuery(`DELETE FROM admins WHERE admin_arn = ?`)
	qListUsers      = readQuery(`SELECT ` + userCols + ` FROM users WHERE app_instance_arn = ? AND arn > ? ORDER BY arn LIMIT ?`)
)

func scanUser(s scanner) (carillon.AppInstanceUser, error) {
	var r storecodec.UserRow
	err := s.Scan(r.Dest(plain)...)
	return r.User(), err
}

// expiration returns the expiration columns: NULL, NULL for nil.
func (t *tx) CreateUser(u *carillon.AppInstanceUser) error {
	days, criterion := storecodec.ExpirationColumns(u.Expiration)
	return t.write(fmt.Sprintf("create user %q", u.ARN), qCreateUser,
		u.ARN, u.AppInstanceARN, u.Name, u.Metadata, days, criterion, storecodec.Millis(u.Created), storecodec.Millis(u.Updated))
}

func (t *tx) GetUser(arn string) (*carillon.AppInstanceUser, error) {
	u, err := scanUser(t.queryRow(qGetUser, arn))
	if err != nil {
		return nil, fail(err, fmt.Sprintf("user %q", arn))
	}
	return &u, nil
}

func (t *tx) UpdateUser(u *carillon.AppInstanceUser) error {
	days, criterion := storecodec.ExpirationColumns(u.Expiration)
	return t.mutate(fmt.Sprintf("update user %q", u.ARN), qUpdateUser,
		u.Name, u.Metadata, days, criterion, storecodec.Millis(u.Updated), u.ARN)
}

// DeleteUser deletes the user row (its endpoints cascade), then the rows
// that name it without a foreign key: its admin role, tags and keys, and
// its memberships, moderator roles and bans in every channel.
func (t *tx) DeleteUser(arn string) error {
	return t.deleteMember(fmt.Sprintf("delete user %q", arn), qDeleteUser, arn)
}

func (t *tx) deleteMember(what string, q *query, arn string) error {
	if err := t.mutate(what, q, arn); err != nil {
		return err
	}
	for _, q := range []*query{qDeleteAdminsOf, qDeleteTagsOf, qDeleteKeysOf, qDeleteMembershipsOf, qDeleteModeratorRolesOf, qDeleteBansOf} {
		if _, err := t.exec(q, arn); err != nil {
			return fail(err, what)
		}
	}
	return nil
}

func (t *tx) ListUsers(appInstanceARN string, p carillon.Page) ([]carillon.AppInstanceUser, error) {
	return list(t, fmt.Sprintf("list users of %q", appInstanceARN), qListUsers, scanUser,
		appInstanceARN, p.After, limit(p.Limit))
}

// Bots.

const botCols = `arn, app_instance_arn, name, metadata, lex, created, updated`

var (
	qCreateBot = writeQuery(`INSERT INTO bots (` + botCols + `) VALUES (?, ?, ?, ?, ?, ?, ?)`)
	qGetBot    = readQuery(`SELECT ` + botCols + ` FROM bots WHERE arn = ?`)
	qUpdateBot = writeQuery(`UPDATE bots SET name = ?, metadata = ?, lex = ?, updated = ? WHERE arn = ?`)
	qDeleteBot = writeQuery(`DELETE FROM bots WHERE arn = ?`)
	qListBots  = readQuery(`SELECT ` + botCols + ` FROM bots WHERE app_instance_arn = ? AND arn > ? ORDER BY arn LIMIT ?`)
)

func scanBot(s scanner) (carillon.AppInstanceBot, error) {
	var r storecodec.BotRow
	if err := s.Scan(r.Dest(plain)...); err != nil {
		return carillon.AppInstanceBot{}, err
	}
	return r.Bot()
}

func (t *tx) CreateBot(b *carillon.AppInstanceBot) error {
	what := fmt.Sprintf("create bot %q", b.ARN)
	lex, err := storecodec.LexColumn(b.Lex)
	if err != nil {
		return fail(err, what)
	}
	return t.write(what, qCreateBot,
		b.ARN, b.AppInstanceARN, b.Name, b.Metadata, lex, storecodec.Millis(b.Created), storecodec.Millis(b.Updated))
}

func (t *tx) GetBot(arn string) (*carillon.AppInstanceBot, error) {
	b, err := scanBot(t.queryRow(qGetBot, arn))
	if err != nil {
		return nil, fail(err, fmt.Sprintf("bot %q", arn))
	}
	return &b, nil
}

func (t *tx) UpdateBot(b *carillon.AppInstanceBot) error {
	what := fmt.Sprintf("update bot %q", b.ARN)
	lex, err := storecodec.LexColumn(b.Lex)
	if err != nil {
		return fail(err, what)
	}
	return t.mutate(what, qUpdateBot, b.Name, b.Metadata, lex, storecodec.Millis(b.Updated), b.ARN)
}

// DeleteBot deletes the bot row, then its admin role, tags and keys, and
// its memberships, moderator roles and bans in every channel.
func (t *tx) DeleteBot(arn string) error {
	return t.deleteMember(fmt.Sprintf("delete bot %q", arn), qDeleteBot, arn)
}

func (t *tx) ListBots(appInstanceARN string, p carillon.Page) ([]carillon.AppInstanceBot, error) {
	return list(t, fmt.Sprintf("list bots of %q", appInstanceARN), qListBots, scanBot,
		appInstanceARN, p.After, limit(p.Limit))
}

// Admins.

const adminCols = `app_instance_arn, admin_arn, created`

var (
	qCreateAdmin = writeQuery(`INSERT INTO admins (` + adminCols + `) VALUES (?, ?, ?)`)
	qGetAdmin    = readQuery(`SELECT ` + adminCols + ` FROM admins WHERE app_instance_arn = ? AND admin_arn = ?`)
	qDeleteAdmin = writeQuery(`DELETE FROM admins WHERE app_instance_arn = ? AND admin_arn = ?`)
	qListAdmins  = readQuery(`SELECT ` + adminCols + ` FROM admins WHERE app_instance_arn = ? AND admin_arn > ? ORDER BY admin_arn LIMIT ?`)
	qCountAdmins = readQuery(`SELECT count(*) FROM admins WHERE app_instance_arn = ?`)
)

func scanAdmin(s scanner) (carillon.AppInstanceAdmin, error) {
	var a carillon.AppInstanceAdmin
	err := s.Scan(&a.AppInstanceARN, &a.AdminARN, storecodec.Time(&a.Created))
	return a, err
}

func (t *tx) CreateAdmin(a *carillon.AppInstanceAdmin) error {
	return t.write(fmt.Sprintf("create admin %q of %q", a.AdminARN, a.AppInstanceARN), qCreateAdmin,
		a.AppInstanceARN, a.AdminARN, storecodec.Millis(a.Created))
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
		appInstanceARN, p.After, limit(p.Limit))
}

func (t *tx) CountAdmins(appInstanceARN string) (int, error) {
	return t.count(fmt.Sprintf("count admins of %q", appInstanceARN), qCountAdmins, appInstanceARN)
}

func (t *tx) count(what string, q *query, args ...any) (int, error) {
	var n int
	if err := t.queryRow(q, args...).Scan(&n); err != nil {
		return 0, fail(err, what)
	}
	return n, nil
}

// Endpoints.

const endpointCols = `user_arn, endpoint_id, name, type, resource_arn, device_token, voip_device_token,
	allow_messages, state_status, state_reason, created, updated`

var (
	qCreateEndpoint = writeQuery(`INSERT INTO endpoints (` + endpointCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	qGetEndpoint    = readQuery(`SELECT ` + endpointCols + ` FROM endpoints WHERE user_arn = ? AND endpoint_id = ?`)
	qUpdateEndpoint = writeQuery(`UPDATE endpoints SET name = ?, resource_arn = ?, voip_device_token = ?, allow_messages = ?,
	state_status = ?, state_reason = ?, updated = ?
	WHERE user_arn = ? AND endpoint_id = ?`)
	qDeleteEndpoint = writeQuery(`DELETE FROM endpoints WHERE user_arn = ? AND endpoint_id = ?`)
	qListEndpoints  = readQuery(`SELECT ` + endpointCols + ` FROM endpoints WHERE user_arn = ? AND endpoint_id > ? ORDER BY endpoint_id LIMIT ?`)
	qCountEndpoints = readQuery(`SELECT count(*) FROM endpoints WHERE user_arn = ?`)
	qEndpointsOf    = readQuery(`SELECT ` + endpointCols + ` FROM endpoints WHERE user_arn IN (SELECT value FROM json_each(?))`)
)

func scanEndpoint(s scanner) (carillon.UserEndpoint, error) {
	var e carillon.UserEndpoint
	err := s.Scan(&e.UserARN, &e.ID, &e.Name, &e.Type, &e.ResourceARN, &e.DeviceToken, &e.VoipDeviceToken,
		&e.AllowMessages, &e.StateStatus, &e.StateReason, storecodec.Time(&e.Created), storecodec.Time(&e.Updated))
	return e, err
}

func (t *tx) CreateEndpoint(e *carillon.UserEndpoint) error {
	return t.write(fmt.Sprintf("create endpoint %q of %q", e.ID, e.UserARN), qCreateEndpoint,
		e.UserARN, e.ID, e.Name, e.Type, e.ResourceARN, e.DeviceToken, e.VoipDeviceToken,
		e.AllowMessages, e.StateStatus, e.StateReason, storecodec.Millis(e.Created), storecodec.Millis(e.Updated))
}

func (t *tx) GetEndpoint(userARN, id string) (*carillon.UserEndpoint, error) {
	e, err := scanEndpoint(t.queryRow(qGetEndpoint, userARN, id))
	if err != nil {
		return nil, fail(err, fmt.Sprintf("endpoint %q of %q", id, userARN))
	}
	return &e, nil
}

func (t *tx) UpdateEndpoint(e *carillon.UserEndpoint) error {
	return t.mutate(fmt.Sprintf("update endpoint %q of %q", e.ID, e.UserARN), qUpdateEndpoint,
		e.Name, e.ResourceARN, e.VoipDeviceToken, e.AllowMessages, e.StateStatus, e.StateReason, storecodec.Millis(e.Updated), e.UserARN, e.ID)
}

func (t *tx) EndpointsOf(userARNs []string) ([]carillon.UserEndpoint, error) {
	what := fmt.Sprintf("endpoints of %d users", len(userARNs))
	if len(userARNs) == 0 {
		return []carillon.UserEndpoint{}, nil
	}
	arns, err := json.Marshal(userARNs)
	if err != nil {
		return nil, fail(err, what)
	}
	eps, err := list(t, what, qEndpointsOf, scanEndpoint, string(arns))
	if eps == nil && err == nil {
		eps = []carillon.UserEndpoint{}
	}
	return eps, err
}

func (t *tx) DeleteEndpoint(userARN, id string) error {
	return t.mutate(fmt.Sprintf("delete endpoint %q of %q", id, userARN), qDeleteEndpoint, userARN, id)
}

func (t *tx) ListEndpoints(userARN string, p carillon.Page) ([]carillon.UserEndpoint, error) {
	return list(t, fmt.Sprintf("list endpoints of %q", userARN), qListEndpoints, scanEndpoint,
		userARN, p.After, limit(p.Limit))
}

func (t *tx) CountEndpoints(userARN string) (int, error) {
	return t.count(fmt.Sprintf("count endpoints of %q", userARN), qCountEndpoints, userARN)
}
