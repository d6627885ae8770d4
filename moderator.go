package carillon

import "time"

// Moderator gives a user or bot moderator rights over a channel.
type Moderator struct {
	ChannelARN    string
	ModeratorARN  string
	ModeratorName string // filled by the store on reads
	CreatedBy     string
	Created       time.Time
}

// ModeratorTx stores the moderators of channels.
type ModeratorTx interface {
	// CreateModerator: ErrExists if already a moderator.
	CreateModerator(m *Moderator) error
	GetModerator(channelARN, moderatorARN string) (*Moderator, error)
	DeleteModerator(channelARN, moderatorARN string) error
	// ListModerators pages by moderator ARN.
	ListModerators(channelARN string, p Page) ([]Moderator, error)
	CountModerators(channelARN string) (int, error)
	// ListChannelsModeratedBy pages by channel ARN.
	ListChannelsModeratedBy(moderatorARN string, p Page) ([]Channel, error)
}
