package storecache

import (
	"context"
	"fmt"
	"testing"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api/messagingapi"
	"github.com/carillonhq/carillon/messaging"
	"github.com/carillonhq/carillon/storetest"
)

// cachedMethods are the reads the cache serves.
var cachedMethods = []string{"GetUser", "GetBot", "GetAdmin", "GetChannel", "GetModerator", "GetMembership", "GetBan"}

// TestStoreCallsPerRequest counts the calls that reach the store (each one
// SQL statement in the SQLite engine) for each hot operation of the
// messaging service, with and without the cache, once the cache is warm
// and nothing else runs: the authorization reads become at most one, the
// View's snapshot read.
func TestStoreCallsPerRequest(t *testing.T) {
	type counts struct{ total, authz int }
	measure := func(withCache bool) map[string]counts {
		counting := newCountingStore(openSQLite(t, storetest.NewFakeClock(storetest.Start)))
		var store carillon.Store = counting
		if withCache {
			store = New(counting, Options{})
		}
		defer store.Close()
		ctx := context.Background()
		const app = "arn:aws:chime:us-east-1:111122223333:app-instance/app"
		user, other, ch := app+"/user/u0", app+"/user/u1", app+"/channel/c0"
		if err := store.Update(ctx, func(tx carillon.Tx) error {
			if err := tx.CreateAppInstance(&carillon.AppInstance{ARN: app}); err != nil {
				return err
			}
			for _, u := range []string{user, other} {
				if err := tx.CreateUser(&carillon.AppInstanceUser{ARN: u, AppInstanceARN: app, Name: u}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := store.Update(ctx, func(tx carillon.Tx) error {
			if err := tx.CreateChannel(&carillon.Channel{ARN: ch, AppInstanceARN: app, Name: "c", Mode: "RESTRICTED", Privacy: "PRIVATE", CreatedBy: user}); err != nil {
				return err
			}
			for _, u := range []string{user, other} {
				if err := tx.CreateMembership(&carillon.Membership{ChannelARN: ch, MemberARN: u, Type: "DEFAULT"}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		svc := messaging.New(messaging.Config{
			Store:  store,
			ARNs:   carillon.ARNs{Partition: "aws", Region: "us-east-1", Account: "111122223333"},
			Limits: messaging.DefaultLimits,
		})
		typ, persistence := messagingapi.ChannelMessageTypeStandard, messagingapi.ChannelMessagePersistenceTypePersistent
		var id string
		n := 0
		ops := []struct {
			name string
			run  func() error
		}{
			{"SendChannelMessage", func() error {
				n++
				out, err := svc.SendChannelMessage(ctx, &messagingapi.SendChannelMessageRequest{
					ChannelArn: &ch, ChimeBearer: &user, Content: ptr("hello"), Type: &typ, Persistence: &persistence,
					ClientRequestToken: ptr(fmt.Sprint("token-", n)),
				})
				if err == nil {
					id = *out.MessageId
				}
				return err
			}},
			{"GetChannelMessage", func() error {
				_, err := svc.GetChannelMessage(ctx, &messagingapi.GetChannelMessageRequest{ChannelArn: &ch, ChimeBearer: &other, MessageId: &id})
				return err
			}},
			{"ListChannelMessages", func() error {
				_, err := svc.ListChannelMessages(ctx, &messagingapi.ListChannelMessagesRequest{ChannelArn: &ch, ChimeBearer: &other})
				return err
			}},
			{"UpdateChannelReadMarker", func() error {
				_, err := svc.UpdateChannelReadMarker(ctx, &messagingapi.UpdateChannelReadMarkerRequest{ChannelArn: &ch, ChimeBearer: &other})
				return err
			}},
		}
		out := map[string]counts{}
		for round := range 3 {
			for _, op := range ops {
				counting.take()
				if err := op.run(); err != nil {
					t.Fatalf("%s: %v", op.name, err)
				}
				calls, total := counting.take()
				authz := 0
				for _, m := range cachedMethods {
					authz += calls[m]
				}
				if round == 2 {
					out[op.name] = counts{total, authz}
				}
			}
		}
		return out
	}
	without, with := measure(false), measure(true)
	for _, op := range []string{"SendChannelMessage", "GetChannelMessage", "ListChannelMessages", "UpdateChannelReadMarker"} {
		b, a := without[op], with[op]
		t.Logf("%-24s store calls %2d -> %2d, of which authorization reads %d -> %d", op, b.total, a.total, b.authz, a.authz)
		if b.authz < 6 {
			t.Errorf("%s: %d authorization reads without the cache; the test no longer measures what it says", op, b.authz)
		}
		if a.authz > 1 {
			t.Errorf("%s: %d authorization reads reach the store through a warm cache, want at most 1", op, a.authz)
		}
		if a.total-a.authz != b.total-b.authz {
			t.Errorf("%s: the cache changed the other calls: %d -> %d", op, b.total-b.authz, a.total-a.authz)
		}
	}
}

func ptr[T any](v T) *T { return &v }
