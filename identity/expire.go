package identity

import (
	"github.com/carillonhq/carillon"
)

// ExpireAppInstanceUser deletes a user whose expiration settings have come
// due, as DeleteAppInstanceUser does (the OnDeleteMember hook first, then
// its endpoints, admin role, tags, access keys, memberships, moderator
// roles and bans), in the transaction tx. Its messages stay. Whether the
// user is due is the caller's business (package jobs asks the store in the
// same transaction). A missing user returns the store's ErrNotFound.
func (s *Service) ExpireAppInstanceUser(tx carillon.Tx, userARN string) error {
	return s.removeMember(tx, userARN, carillon.Tx.DeleteUser)
}
