package messaging

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api"
	"github.com/carillonhq/carillon/api/messagingapi"
	"github.com/carillonhq/carillon/sqlite"
	"github.com/carillonhq/carillon/storetest"
)

var testARNs = carillon.ARNs{Partition: "aws", Region: "us-east-1", Account: "111122223333"}

// newTestService is a Service with the given limits over a fresh SQLite
// store, with one AppInstance and the users named by ids.
func newTestService(t *testing.T, limits Limits, ids ...string) (s *Service, app string, users []string) {
	t.Helper()
	ctx := context.Background()
	clock := storetest.NewFakeClock(time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.UTC))
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "carillon.db"), clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	app = testARNs.AppInstance("app")
	err = db.Update(ctx, func(tx carillon.Tx) error {
		if err := tx.CreateAppInstance(&carillon.AppInstance{ARN: app, Name: "App", Created: tx.Now(), Updated: tx.Now()}); err != nil {
			return err
		}
		for _, id := range ids {
			u := &carillon.AppInstanceUser{ARN: testARNs.Child(app, carillon.TypeUser, id), AppInstanceARN: app, Name: "Name " + id, Created: tx.Now(), Updated: tx.Now()}
			if err := tx.CreateUser(u); err != nil {
				return err
			}
			users = append(users, u.ARN)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return New(Config{Store: db, ARNs: testARNs, Limits: limits}), app, users
}

func TestModeratorQuota(t *testing.T) {
	t.Parallel()
	s, app, u := newTestService(t, Limits{MembershipsPerChannel: 100, ModeratorsPerChannel: 3}, "u0", "u1", "u2", "u3")
	ctx := context.Background()

	// The creator and three ModeratorArns are one moderator too many;
	// nothing of the channel is left behind.
	_, err := s.CreateChannel(ctx, &messagingapi.CreateChannelRequest{
		AppInstanceArn: &app, Name: api.String("Too many"), ChimeBearer: &u[0], ChannelId: api.String("c"),
		ModeratorArns: []string{u[1], u[2], u[3]},
	})
	if !carillon.IsKind(err, carillon.ResourceLimitExceeded) {
		t.Fatalf("CreateChannel with 4 moderators: %v", err)
	}
	// The creator and two ModeratorArns fit; the same id is free again.
	out, err := s.CreateChannel(ctx, &messagingapi.CreateChannelRequest{
		AppInstanceArn: &app, Name: api.String("Full"), ChimeBearer: &u[0], ChannelId: api.String("c"),
		ModeratorArns: []string{u[1], u[2]},
	})
	if err != nil {
		t.Fatalf("CreateChannel with 3 moderators: %v", err)
	}
	ch := *out.ChannelArn
	addModerator := func(target string) error {
		_, err := s.CreateChannelModerator(ctx, &messagingapi.CreateChannelModeratorRequest{ChannelArn: &ch, ChannelModeratorArn: &target, ChimeBearer: &u[0]})
		return err
	}
	if err := addModerator(u[3]); !carillon.IsKind(err, carillon.ResourceLimitExceeded) {
		t.Fatalf("a 4th moderator: %v", err)
	}
	// A duplicate is a conflict even at the quota.
	if err := addModerator(u[1]); !carillon.IsKind(err, carillon.Conflict) {
		t.Fatalf("a duplicate moderator at the quota: %v", err)
	}
	if err := s.DeleteChannelModerator(ctx, &messagingapi.DeleteChannelModeratorRequest{ChannelArn: &ch, ChannelModeratorArn: &u[2], ChimeBearer: &u[0]}); err != nil {
		t.Fatal(err)
	}
	if err := addModerator(u[3]); err != nil {
		t.Fatalf("a moderator after one left: %v", err)
	}
	list, err := s.ListChannelModerators(ctx, &messagingapi.ListChannelModeratorsRequest{ChannelArn: &ch, ChimeBearer: &u[0]})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range list.ChannelModerators {
		got = append(got, *m.Moderator.Arn)
	}
	slices.Sort(got)
	if want := []string{u[0], u[1], u[3]}; !slices.Equal(got, want) {
		t.Errorf("moderators %v, want %v", got, want)
	}
}

func TestSearchQuery(t *testing.T) {
	t.Parallel()
	field := func(op messagingapi.SearchFieldOperator, values ...string) messagingapi.SearchField {
		key := messagingapi.SearchFieldKeyMembers
		return messagingapi.SearchField{Key: &key, Operator: &op, Values: values}
	}
	eq := func(v ...string) messagingapi.SearchField { return field(messagingapi.SearchFieldOperatorEquals, v...) }
	inc := func(v ...string) messagingapi.SearchField {
		return field(messagingapi.SearchFieldOperatorIncludes, v...)
	}
	cases := []struct {
		name    string
		fields  []messagingapi.SearchField
		members []string
		exact   bool
		none    bool
	}{
		{"one INCLUDES", []messagingapi.SearchField{inc("a", "b", "a")}, []string{"a", "b"}, false, false},
		{"INCLUDES union", []messagingapi.SearchField{inc("a"), inc("b", "a")}, []string{"a", "b"}, false, false},
		{"one EQUALS", []messagingapi.SearchField{eq("b", "a")}, []string{"a", "b"}, true, false},
		{"same EQUALS twice", []messagingapi.SearchField{eq("b", "a"), eq("a", "b", "b")}, []string{"a", "b"}, true, false},
		{"different EQUALS", []messagingapi.SearchField{eq("a", "b"), eq("a")}, nil, false, true},
		{"EQUALS holding the INCLUDES", []messagingapi.SearchField{inc("b"), eq("a", "b")}, []string{"a", "b"}, true, false},
		{"EQUALS without an INCLUDES value", []messagingapi.SearchField{eq("a", "b"), inc("c")}, nil, false, true},
	}
	for _, c := range cases {
		members, exact, none := searchQuery(c.fields)
		if none != c.none || (!none && (exact != c.exact || !slices.Equal(slices.Sorted(slices.Values(members)), c.members))) {
			t.Errorf("%s: %v exact=%v none=%v", c.name, members, exact, none)
		}
	}
}
