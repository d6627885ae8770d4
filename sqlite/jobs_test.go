package sqlite

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/storetest"
)

// TestJobsQueryPlans checks that the queries of the background jobs are
// ranges of their partial indexes, on an empty database and once ANALYZE
// has seen one where few channels and users expire, few AppInstances keep
// messages for a limited time, and one channel has many messages in
// sub-channels.
func TestJobsQueryPlans(t *testing.T) {
	// ExpiredChannels and ExpiredUsers read each row they return from the
	// table too (SQLite does not treat an index of a VIRTUAL column as
	// covering it): one primary-key lookup per row, at most limit.
	want := []struct {
		q    *query
		want []string
	}{
		{qExpiredChannels, []string{"SEARCH channels USING INDEX channels_by_expiry (expires_at>? AND expires_at<?)"}},
		{qExpiredUsers, []string{"SEARCH users USING INDEX users_by_expiry (expires_at>? AND expires_at<?)"}},
		{qAppInstancesWithRetention, []string{"SEARCH app_instances USING INDEX app_instances_with_retention (arn>?)"}},
		{qDeleteMessagesBefore, []string{
			"SEARCH messages USING INTEGER PRIMARY KEY (rowid=?)",
			"SEARCH messages USING COVERING INDEX messages_by_time (channel_arn=? AND sub_channel_id=? AND created<?)",
		}},
		{qNextSubChannel, []string{"SEARCH messages USING COVERING INDEX messages_by_time (channel_arn=? AND sub_channel_id>?)"}},
	}
	check := func(t *testing.T, db *DB) {
		for _, c := range want {
			plan := queryPlan(t, db, c.q.sql)
			joined := strings.Join(plan, "; ")
			for _, step := range c.want {
				if !strings.Contains(joined, step) {
					t.Errorf("%s\nplan: %s\nwant the step: %s", c.q.sql, joined, step)
				}
			}
			for _, step := range plan {
				if strings.HasPrefix(step, "SCAN ") || strings.Contains(step, "TEMP B-TREE") {
					t.Errorf("%s\nplan: %s", c.q.sql, joined)
				}
			}
		}
	}
	t.Run("empty", func(t *testing.T) {
		db := openFresh(t)
		if _, err := db.w.ExecContext(t.Context(), `ANALYZE`); err != nil {
			t.Fatal(err)
		}
		check(t, db)
	})
	t.Run("with statistics", func(t *testing.T) {
		db := openFresh(t)
		err := db.Update(t.Context(), func(tx carillon.Tx) error {
			for a := range 20 {
				app := fmt.Sprintf("%s%02d", testApp, a)
				if err := tx.CreateAppInstance(&carillon.AppInstance{ARN: app}); err != nil {
					return err
				}
				if a == 0 {
					if err := tx.PutRetentionSettings(app, &carillon.RetentionSettings{ChannelDays: 1}); err != nil {
						return err
					}
				}
				for i := range 50 {
					var exp *carillon.ExpirationSettings
					if i == 0 {
						exp = &carillon.ExpirationSettings{Days: 1, Criterion: "CREATED_TIMESTAMP"}
					}
					if err := tx.CreateUser(&carillon.AppInstanceUser{
						ARN: fmt.Sprintf("%s/user/u%02d", app, i), AppInstanceARN: app, Expiration: exp, Created: storetest.Start,
					}); err != nil {
						return err
					}
					if err := tx.CreateChannel(&carillon.Channel{
						ARN: fmt.Sprintf("%s/channel/c%02d", app, i), AppInstanceARN: app, Expiration: exp, Created: storetest.Start,
					}); err != nil {
						return err
					}
				}
			}
			ch := testApp + "00/channel/c01"
			for i := range 3000 {
				if err := tx.CreateMessage(&carillon.Message{
					ChannelARN: ch, ID: fmt.Sprint(i), SubChannelID: fmt.Sprint("s", i%30),
					Created: storetest.Start.Add(time.Duration(i) * time.Millisecond),
				}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.w.ExecContext(t.Context(), `ANALYZE`); err != nil {
			t.Fatal(err)
		}
		check(t, db)
	})
}

// TestMigrateExpiration upgrades a database holding channels and users
// with expiration settings from before 0008_expiration: their expiry is
// computed for the rows already there.
func TestMigrateExpiration(t *testing.T) {
	path := tempPath(t)
	clock := storetest.NewFakeClock(storetest.Start)
	w := migratedBefore(t, path, clock, "0008_expiration")
	start := storetest.Start.UnixMilli()
	for _, q := range []string{
		`INSERT INTO app_instances (arn, name, metadata, created, updated) VALUES ('` + testApp + `', '', '', ?1, ?1)`,
		`INSERT INTO channels (arn, app_instance_arn, name, mode, privacy, metadata, created_by, flow_arn,
			expiration_days, expiration_criterion, created, updated, last_message_at)
		VALUES ('` + testApp + `/channel/c', '` + testApp + `', '', 'UNRESTRICTED', 'PUBLIC', '', '', '',
			1, 'LAST_MESSAGE_TIMESTAMP', ?1, ?1, ?1 + 3600000)`,
		`INSERT INTO users (arn, app_instance_arn, name, metadata, expiration_days, expiration_criterion, created, updated)
		VALUES ('` + testApp + `/user/u', '` + testApp + `', '', '', 2, 'CREATED_TIMESTAMP', ?1, ?1)`,
	} {
		if _, err := w.ExecContext(t.Context(), q, start); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	db := openTest(t, path, clock)
	defer db.Close()
	err := db.View(t.Context(), func(tx carillon.Tx) error {
		day := 24 * time.Hour
		for _, c := range []struct {
			at              time.Time
			channels, users int
		}{
			{storetest.Start.Add(day), 0, 0},
			{storetest.Start.Add(day + time.Hour), 1, 0},
			{storetest.Start.Add(2 * day), 1, 1},
		} {
			chs, err := tx.ExpiredChannels(c.at, 0)
			if err != nil {
				return err
			}
			users, err := tx.ExpiredUsers(c.at, 0)
			if err != nil {
				return err
			}
			if len(chs) != c.channels || len(users) != c.users {
				t.Errorf("at %v: expired channels %v, users %v; want %d and %d", c.at, chs, users, c.channels, c.users)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
