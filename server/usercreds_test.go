package server

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/sqlite"
	"github.com/carillonhq/carillon/storetest"
)

// TestProcessCredentialsReuse: the credential_process mode hands out the
// same key while it has at least half its lifetime left, then a new one;
// it never hands out a long-lived key, nor one issued for longer than
// asked, and it clears the bearer's expired keys.
func TestProcessCredentialsReuse(t *testing.T) {
	ctx := context.Background()
	clock := storetest.NewFakeClock(storetest.Start)
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "carillon.db"), clock)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	const app = "arn:aws:chime:us-east-1:000000000000:app-instance/a"
	const alice, bob = app + "/user/alice", app + "/user/bob"
	if err := store.Update(ctx, func(tx carillon.Tx) error {
		if err := tx.CreateAppInstance(&carillon.AppInstance{ARN: app, Name: "a"}); err != nil {
			return err
		}
		for _, u := range []string{alice, bob} {
			if err := tx.CreateUser(&carillon.AppInstanceUser{ARN: u, AppInstanceARN: app, Name: u}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Keys that must never be handed out: alice's long-lived key, and
	// one that lives longer than the lifetime asked for.
	longLived, err := CreateUserCredentials(ctx, store, alice, 0)
	if err != nil {
		t.Fatal(err)
	}
	tooLong, err := CreateUserCredentials(ctx, store, alice, 12*time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	process := func(bearer string) (IssuedCredentials, bool) {
		t.Helper()
		out, reused, err := ProcessCredentials(ctx, store, bearer, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if out.SessionToken == "" || out.Expiration == nil || out.Version != 1 || out.Bearer != bearer {
			t.Fatalf("process credentials %+v", out)
		}
		return out, reused
	}
	first, reused := process(alice)
	if reused || first.AccessKeyID == longLived.AccessKeyID || first.AccessKeyID == tooLong.AccessKeyID {
		t.Fatalf("first call: %s reused=%v; want a new key", first.AccessKeyID, reused)
	}
	if want := storetest.Start.Add(time.Hour); !first.Expiration.Equal(want) {
		t.Errorf("expiration %v, want %v", first.Expiration, want)
	}
	clock.Advance(29 * time.Minute)
	again, reused := process(alice)
	if !reused || again.AccessKeyID != first.AccessKeyID {
		t.Fatalf("within the first half of its life: %s reused=%v, want %s reused", again.AccessKeyID, reused, first.AccessKeyID)
	}
	if again.SecretAccessKey != first.SecretAccessKey || again.SessionToken != first.SessionToken {
		t.Fatal("the reused key came back with another secret or session token")
	}
	if other, _ := process(bob); other.AccessKeyID == first.AccessKeyID {
		t.Fatal("bob was given alice's key")
	}

	clock.Advance(2 * time.Minute) // 31 minutes: less than half is left
	second, reused := process(alice)
	if reused || second.AccessKeyID == first.AccessKeyID {
		t.Fatalf("past half its life: %s reused=%v, want a new key", second.AccessKeyID, reused)
	}
	clock.Advance(30 * time.Minute) // the first key has expired; the second has half its life left
	if third, reused := process(alice); !reused || third.AccessKeyID != second.AccessKeyID {
		t.Fatalf("the second key with 30 of 60 minutes left: got %s reused=%v, want %s reused", third.AccessKeyID, reused, second.AccessKeyID)
	}
	keys, err := ListUserCredentials(ctx, store, alice)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, k := range keys {
		ids[k.ID] = true
		if k.Secret != "" || k.SessionID != "" {
			t.Errorf("ListUserCredentials gave the secret of %s", k.ID)
		}
	}
	if len(keys) != 3 || !ids[longLived.AccessKeyID] || !ids[tooLong.AccessKeyID] || !ids[second.AccessKeyID] {
		t.Fatalf("alice's keys %v: want the long-lived one, the 12-hour one and the second process key; the expired one deleted", ids)
	}

	if _, _, err := ProcessCredentials(ctx, store, alice, 10*time.Minute); !carillon.IsKind(err, carillon.BadRequest) {
		t.Errorf("a 10-minute lifetime: %v, want BadRequest", err)
	}
	if _, _, err := ProcessCredentials(ctx, store, app+"/user/nobody", time.Hour); !carillon.IsKind(err, carillon.NotFound) {
		t.Errorf("a missing user: %v, want NotFound", err)
	}
}
