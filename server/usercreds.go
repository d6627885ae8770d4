package server

import (
	"context"
	"time"

	"github.com/carillonhq/carillon"
)

// MinProcessLifetime is the shortest lifetime ProcessCredentials issues:
// the AWS SDKs refresh credentials 10 to 15 minutes before they expire,
// so a shorter-lived key would be refreshed on every call.
const MinProcessLifetime = 15 * time.Minute

// ProcessCredentials serves the AWS CLI's credential_process setting,
// which runs its command before every CLI call: it returns an expiring key
// of bearer that still has at least half of ttl to live, and issues one
// only when there is none, so that the calls of an hour share a key
// instead of leaving one behind each. A key reused must also expire within
// ttl: one issued for longer is not handed out under a shorter lifetime.
// On the way it deletes the bearer's expired keys, which can sign
// nothing. reused says whether the key was reused.
func ProcessCredentials(ctx context.Context, store carillon.Store, bearer string, ttl time.Duration) (out IssuedCredentials, reused bool, err error) {
	if ttl < MinProcessLifetime {
		return out, false, carillon.Errorf(carillon.BadRequest, "the lifetime of a credential_process key must be at least %v: the AWS SDKs refresh credentials 10 to 15 minutes before they expire", MinProcessLifetime)
	}
	err = store.Update(ctx, func(tx carillon.Tx) error {
		reused = false
		if err := bearerExists(tx, bearer); err != nil {
			return err
		}
		keys, err := tx.ListAccessKeys(bearer)
		if err != nil {
			return err
		}
		now := tx.Now()
		var best *carillon.AccessKey
		for i := range keys {
			k := &keys[i]
			switch {
			case k.Expires.IsZero() || k.SessionID == "":
				// Long-lived keys are issued by hand, for something else.
			case !k.Expires.After(now):
				if err := tx.DeleteAccessKey(k.ID); err != nil {
					return err
				}
			case k.Expires.Sub(now) >= ttl/2 && !k.Expires.After(now.Add(ttl)):
				if best == nil || k.Expires.After(best.Expires) {
					best = k
				}
			}
		}
		if best == nil {
			best = &carillon.AccessKey{ID: NewAccessKeyID(), Secret: NewSecret(), Bearer: bearer, Created: now,
				Expires: now.Add(ttl), SessionID: NewSessionToken()}
			if err := tx.CreateAccessKey(best); err != nil {
				return err
			}
		} else {
			reused = true
		}
		out = issued(best)
		return nil
	})
	return out, reused, err
}

// ListUserCredentials returns the per-user keys, of bearer or, when it is
// "", of every bearer, in access key id order. Their secrets are left out.
func ListUserCredentials(ctx context.Context, store carillon.Store, bearer string) ([]carillon.AccessKey, error) {
	var keys []carillon.AccessKey
	err := store.View(ctx, func(tx carillon.Tx) error {
		if bearer != "" {
			var err error
			keys, err = tx.ListAccessKeys(bearer)
			return err
		}
		const pageSize = 500
		after := ""
		for {
			page, err := tx.ListAllAccessKeys(carillon.Page{After: after, Limit: pageSize})
			if err != nil {
				return err
			}
			keys = append(keys, page...)
			if len(page) < pageSize {
				return nil
			}
			after = page[len(page)-1].ID
		}
	})
	for i := range keys {
		keys[i].Secret, keys[i].SessionID = "", ""
	}
	return keys, err
}

// issued is the credential_process form of a key.
func issued(k *carillon.AccessKey) IssuedCredentials {
	out := IssuedCredentials{Version: 1, AccessKeyID: k.ID, SecretAccessKey: k.Secret, SessionToken: k.SessionID, Bearer: k.Bearer}
	if !k.Expires.IsZero() {
		exp := k.Expires
		out.Expiration = &exp
	}
	return out
}
