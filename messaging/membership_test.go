package messaging

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api"
	"github.com/carillonhq/carillon/api/messagingapi"
	"github.com/carillonhq/carillon/sqlite"
	"github.com/carillonhq/carillon/storetest"
)

// msgTestService is a Service with the given limits over a fresh SQLite
// store, with one AppInstance, the users named by ids, and a PUBLIC
// UNRESTRICTED channel created by the first of them, its only member.
func msgTestService(t *testing.T, limits Limits, ids ...string) (s *Service, db carillon.Store, channel string, users []string) {
	t.Helper()
	ctx := context.Background()
	arns := carillon.ARNs{Partition: "aws", Region: "us-east-1", Account: "111122223333"}
	clock := storetest.NewFakeClock(time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.UTC))
	sdb, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "carillon.db"), clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sdb.Close() })
	app := arns.AppInstance("app")
	err = sdb.Update(ctx, func(tx carillon.Tx) error {
		if err := tx.CreateAppInstance(&carillon.AppInstance{ARN: app, Name: "App", Created: tx.Now(), Updated: tx.Now()}); err != nil {
			return err
		}
		for _, id := range ids {
			u := &carillon.AppInstanceUser{ARN: arns.Child(app, carillon.TypeUser, id), AppInstanceARN: app, Name: "Name " + id, Created: tx.Now(), Updated: tx.Now()}
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
	s = New(Config{Store: sdb, ARNs: arns, Limits: limits})
	out, err := s.CreateChannel(ctx, &messagingapi.CreateChannelRequest{
		AppInstanceArn: &app, Name: api.String("Channel"), ChimeBearer: &users[0], ChannelId: api.String("c"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, sdb, *out.ChannelArn, users
}

func TestMembershipQuota(t *testing.T) {
	t.Parallel()
	s, db, ch, u := msgTestService(t, Limits{MembershipsPerChannel: 3, ModeratorsPerChannel: 10}, "u0", "u1", "u2", "u3", "u4", "u5")
	ctx := context.Background()
	add := func(member string) error {
		_, err := s.CreateChannelMembership(ctx, &messagingapi.CreateChannelMembershipRequest{
			ChannelArn: &ch, ChimeBearer: &u[0], MemberArn: &member, Type: new(messagingapi.ChannelMembershipTypeDefault),
		})
		return err
	}
	batch := func(members ...string) *messagingapi.BatchCreateChannelMembershipResponse {
		out, err := s.BatchCreateChannelMembership(ctx, &messagingapi.BatchCreateChannelMembershipRequest{
			ChannelArn: &ch, ChimeBearer: &u[0], MemberArns: members,
		})
		if err != nil {
			t.Fatalf("BatchCreateChannelMembership: %v", err)
		}
		return out
	}

	// The creator and u1 make two of three; a batch fills the last place
	// and reports the rest, in order, as over the quota.
	if err := add(u[1]); err != nil {
		t.Fatal(err)
	}
	out := batch(u[2], u[3], u[4])
	if n := len(out.BatchChannelMemberships.Members); n != 1 || *out.BatchChannelMemberships.Members[0].Arn != u[2] {
		t.Errorf("batch added %+v, want only %s", out.BatchChannelMemberships.Members, u[2])
	}
	if len(out.Errors) != 2 {
		t.Fatalf("batch errors %+v, want 2", out.Errors)
	}
	for i, e := range out.Errors {
		if *e.MemberArn != u[3+i] || *e.ErrorCode != messagingapi.ErrorCodeResourcelimitexceeded || api.Deref(e.ErrorMessage) == "" {
			t.Errorf("batch error %d: %s %s %q", i, *e.MemberArn, *e.ErrorCode, api.Deref(e.ErrorMessage))
		}
	}
	// Full: one more is refused, an existing member is still fine.
	if err := add(u[5]); !carillon.IsKind(err, carillon.ResourceLimitExceeded) {
		t.Errorf("a 4th member: %v, want ResourceLimitExceeded", err)
	}
	if err := add(u[1]); err != nil {
		t.Errorf("adding an existing member at the quota: %v", err)
	}
	if out := batch(u[1], u[2]); len(out.Errors) != 0 || len(out.BatchChannelMemberships.Members) != 2 {
		t.Errorf("batch of existing members at the quota: %+v", out)
	}
	// Leaving frees a place.
	if err := s.DeleteChannelMembership(ctx, &messagingapi.DeleteChannelMembershipRequest{ChannelArn: &ch, ChimeBearer: &u[1], MemberArn: &u[1]}); err != nil {
		t.Fatal(err)
	}
	if err := add(u[5]); err != nil {
		t.Errorf("adding after a member left: %v", err)
	}
	var n int
	if err := db.View(ctx, func(tx carillon.Tx) error {
		var err error
		n, err = tx.CountMemberships(ch)
		return err
	}); err != nil || n != 3 {
		t.Errorf("%d memberships (%v), want 3", n, err)
	}
}

// TestBatchRollsBackOnStoreFailure: a failure of the store fails the whole batch and
// leaves nothing behind, unlike a member's own failure.
func TestBatchRollsBackOnStoreFailure(t *testing.T) {
	t.Parallel()
	s, db, ch, u := msgTestService(t, DefaultLimits, "u0", "u1", "u2")
	ctx := context.Background()
	s.store = failingStore{Store: db, failOn: u[2]}
	_, err := s.BatchCreateChannelMembership(ctx, &messagingapi.BatchCreateChannelMembershipRequest{
		ChannelArn: &ch, ChimeBearer: &u[0], MemberArns: []string{u[1], u[2]},
	})
	if err == nil || carillon.KindOf(err) != carillon.ServiceFailure {
		t.Fatalf("batch over a failing store: %v, want a ServiceFailure", err)
	}
	_ = db.View(ctx, func(tx carillon.Tx) error {
		if _, err := tx.GetMembership(ch, u[1]); !isNotFound(err) {
			t.Errorf("u1's membership survived the failed batch: %v", err)
		}
		return nil
	})
}

// failingStore fails CreateMembership of one member with an engine error.
type failingStore struct {
	carillon.Store
	failOn string
}

func (f failingStore) Update(ctx context.Context, fn func(tx carillon.Tx) error) error {
	return f.Store.Update(ctx, func(tx carillon.Tx) error { return fn(failingTx{Tx: tx, failOn: f.failOn}) })
}

type failingTx struct {
	carillon.Tx
	failOn string
}

func (f failingTx) CreateMembership(m *carillon.Membership) error {
	if m.MemberARN == f.failOn {
		return errDisk
	}
	return f.Tx.CreateMembership(m)
}

var errDisk = errors.New("disk on fire")

func TestMayAddMember(t *testing.T) {
	t.Parallel()
	const self, other = "self", "other"
	def := &carillon.Membership{Type: membershipDefault}
	hid := &carillon.Membership{Type: membershipHidden}
	cases := []struct {
		name          string
		admin, mod    bool
		member        *carillon.Membership
		mode          string
		target, typ   string
		wantForbidden bool
	}{
		{"admin adds HIDDEN", true, false, nil, modeRestricted, other, membershipHidden, false},
		{"moderator adds other", false, true, nil, modeRestricted, other, membershipDefault, false},
		{"self-join RESTRICTED", false, false, nil, modeRestricted, self, membershipDefault, false},
		{"self-join HIDDEN", false, false, nil, modeUnrestricted, self, membershipHidden, true},
		{"member adds other UNRESTRICTED", false, false, def, modeUnrestricted, other, membershipDefault, false},
		{"member adds other RESTRICTED", false, false, def, modeRestricted, other, membershipDefault, true},
		{"member adds HIDDEN", false, false, def, modeUnrestricted, other, membershipHidden, true},
		{"hidden member adds other", false, false, hid, modeUnrestricted, other, membershipDefault, true},
		{"non-member adds other", false, false, nil, modeUnrestricted, other, membershipDefault, true},
	}
	for _, c := range cases {
		a := &actor{arn: self, admin: c.admin, moderator: c.mod, member: c.member, channel: &carillon.Channel{Mode: c.mode}}
		err := a.mayAddMember(c.target, c.typ)
		if got := carillon.IsKind(err, carillon.Forbidden); got != c.wantForbidden || (!got && err != nil) {
			t.Errorf("%s: %v, want forbidden %v", c.name, err, c.wantForbidden)
		}
	}
}
