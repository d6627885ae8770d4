package messaging

import (
	"github.com/carillonhq/carillon"
)

// ExpireChannel deletes a channel whose expiration settings have come due,
// as the system rather than as a bearer: like DeleteChannel, with the
// DELETE_CHANNEL event to its members first, in the transaction tx that
// deletes it. Whether the channel is due is the caller's business (package
// jobs asks the store in the same transaction). A missing channel returns
// the store's ErrNotFound.
func ExpireChannel(tx carillon.Tx, channelARN string) error {
	ch, err := tx.GetChannel(channelARN)
	if err != nil {
		return err
	}
	return deleteChannel(tx, ch)
}
