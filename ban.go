package carillon

import "time"

// Ban keeps a user or bot out of a channel.
type Ban struct {
	ChannelARN string
	MemberARN  string
	MemberName string // filled by the store on reads
	CreatedBy  string
	Created    time.Time
}

// BanTx stores the bans of channels.
type BanTx interface {
	// CreateBan: ErrExists if already banned.
	CreateBan(b *Ban) error
	GetBan(channelARN, memberARN string) (*Ban, error)
	DeleteBan(channelARN, memberARN string) error
	// ListBans pages by member ARN.
	ListBans(channelARN string, p Page) ([]Ban, error)
}
