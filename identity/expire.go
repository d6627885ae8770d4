package identity

import (
	"github.com/carillonhq/carillon"
)

// ExpireAppInstanceUser deletes a user whose expiration settings have come
// due, as the system does: what DeleteAppInstanceUser deletes (its
// endpoints, admin role, tags, access keys, and its memberships, moderator
// roles and bans), in the transaction tx, without an event, as
// DeleteAppInstanceUser announces none. Its messages stay. Whether the user
// is due is the caller's business (package jobs asks the store in the same
// transaction), and so is taking it out of its elastic channels first
// (messaging.ForgetMember), as the OnDeleteMember hook does for
// DeleteAppInstanceUser. A missing user returns the store's ErrNotFound.
func ExpireAppInstanceUser(tx carillon.Tx, userARN string) error {
	return tx.DeleteUser(userARN)
}
