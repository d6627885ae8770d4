package postgres

import (
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carillonhq/carillon/storetest"
)

// TestQueryPlans checks that an index serves the filter and the order of
// the queries that page through what grows without bound (messages,
// memberships, the outbox, what the jobs look for), so that a page costs
// a seek and a walk rather than a scan and a sort. The tables are empty,
// so the planner is told to avoid scans and sorts wherever an index can
// do without them: a Seq Scan or a Sort left in the plan means no index
// can.
func TestQueryPlans(t *testing.T) {
	ctx := t.Context()
	db := openTest(t, testDatabase(t), storetest.NewFakeClock(storetest.Start))
	defer db.Close()
	const ch, app, user = "arn:c", "arn:a", "arn:u"
	now := time.Now().UnixMilli()
	queries := map[string]struct {
		sql  string
		args []any
	}{
		// DueInvocations reads both partial indexes, only the rows due,
		// but PostgreSQL sorts them rather than merging the two ranges
		// (sortOK): the sort is of what is due now, not of every
		// invocation.
		"ListMessages":                {qListMessagesForward, []any{ch, "", int64(0), int64(0), now, int64(1 << 62), "", 50}},
		"ListMessages, descending":    {qListMessagesReverse, []any{ch, "", int64(0), int64(0), now, int64(1 << 62), user, 50}},
		"ListMemberships":             {qListMemberships, []any{ch, "", 50}},
		"ListMemberships of a type":   {qListMembershipsOfType, []any{ch, "HIDDEN", "", 50}},
		"ListMemberships of a sub":    {qListMembershipsOfSubChannel, []any{ch, "s1", "", "", 50}},
		"ListMembershipsOf":           {qListMembershipsOf, []any{user, "", 50}},
		"ListChannels":                {qListChannels, []any{app, "", 50}},
		"ListChannels of a privacy":   {qListChannelsOfPrivacy, []any{app, "PUBLIC", "", 50}},
		"ListChannelsModeratedBy":     {qListChannelsModeratedBy, []any{user, "", 50}},
		"ListUsers":                   {qListUsers, []any{app, "", 50}},
		"Events":                      {qEvents, []any{int64(10), 512}},
		"ExpiredChannels":             {qExpiredChannels, []any{now, 100}},
		"ExpiredUsers":                {qExpiredUsers, []any{now, 100}},
		"DueInvocations (sortOK)":     {qDueInvocations, []any{now, now, 100}},
		"AppInstancesWithRetention":   {qAppInstancesWithRetention, []any{"", 100}},
		"DeleteIdempotentBefore":      {qDeleteIdempotentBefore, []any{now, 100}},
		"DeleteMessagesBefore":        {qDeleteMessagesBefore, []any{ch, "", now, 100}},
		"ListSubChannelMembershipsOf": {qListSubChannelMembershipsOf, []any{ch, user, "", 50}},
	}
	err := pgx.BeginFunc(ctx, db.w, func(tx pgx.Tx) error {
		for _, set := range []string{"SET LOCAL enable_seqscan = off", "SET LOCAL enable_sort = off"} {
			if _, err := tx.Exec(ctx, set); err != nil {
				return err
			}
		}
		for name, q := range queries {
			rows, err := tx.Query(ctx, "EXPLAIN "+q.sql, q.args...)
			if err != nil {
				return err
			}
			lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			for _, l := range lines {
				node := strings.TrimLeft(strings.TrimSpace(l), "-> ")
				sorts := strings.HasPrefix(node, "Sort ") || strings.HasPrefix(node, "Incremental Sort")
				if strings.HasPrefix(node, "Seq Scan") || sorts && !strings.Contains(name, "(sortOK)") {
					t.Errorf("%s: no index serves it:\n%s", name, strings.Join(lines, "\n"))
					break
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
