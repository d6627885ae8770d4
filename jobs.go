package carillon

import "time"

// ExpirationSettings schedules the deletion of a user or a channel. A nil
// *ExpirationSettings means the resource does not expire.
type ExpirationSettings struct {
	Days      int
	Criterion string // CREATED_TIMESTAMP or LAST_MESSAGE_TIMESTAMP
}

// AppInstanceRetention is an AppInstance's retention settings, as
// AppInstancesWithRetention lists them.
type AppInstanceRetention struct {
	AppInstanceARN string
	Settings       RetentionSettings
}

// JobsTx is what the background jobs (package jobs) ask of the store:
// what has expired, and the removal of old messages in bounded batches.
// Each method costs a seek and a walk of the rows it returns or deletes,
// however many channels, users or messages are not due.
type JobsTx interface {
	// ExpiredChannels returns the ARNs of up to limit channels (limit <= 0:
	// all) whose expiration is due at now, the earliest due first (then by
	// ARN). A channel with Expiration set and Days > 0 is due Days days
	// after its Created time, or, with the LAST_MESSAGE_TIMESTAMP
	// criterion, after its LastMessageAt (its Created time while
	// LastMessageAt is zero); "after" is inclusive: due at exactly that
	// instant, to the millisecond. A channel whose time to count from is
	// zero never expires. The store keeps this up to date on every write
	// of the channel: settings changed, or a message that moved
	// LastMessageAt, count at once.
	ExpiredChannels(now time.Time, limit int) ([]string, error)
	// ExpiredUsers is ExpiredChannels for AppInstanceUsers, which count
	// from their Created time whatever the criterion.
	ExpiredUsers(now time.Time, limit int) ([]string, error)
	// AppInstancesWithRetention pages by ARN through the AppInstances
	// whose retention settings have ChannelDays > 0.
	AppInstancesWithRetention(p Page) ([]AppInstanceRetention, error)
	// DeleteMessagesBefore deletes up to limit messages (limit <= 0: all
	// of them) of a channel, in every sub-channel, whose Created time is
	// before `before` (strictly); a zero before deletes them whatever
	// their age. Within a sub-channel the oldest go first. It returns how
	// many it deleted: fewer than limit means none is left to delete. A
	// missing channel has no messages (0, nil). Deleting messages changes
	// nothing else: not the channel's LastMessageAt, nor the invocations
	// of channel flows holding them.
	DeleteMessagesBefore(channelARN string, before time.Time, limit int) (int, error)
}
