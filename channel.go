package carillon

import "time"

// Channel is a conversation of an AppInstance.
type Channel struct {
	ARN            string
	AppInstanceARN string
	Name           string
	Mode           string // UNRESTRICTED or RESTRICTED
	Privacy        string // PUBLIC or PRIVATE
	Metadata       string
	CreatedBy      string // the bearer that created it
	FlowARN        string // "" without a channel flow
	Elastic        *ElasticConfig
	Expiration     *ExpirationSettings
	Created        time.Time
	Updated        time.Time
	// LastMessageAt is when the last persistent message was sent.
	LastMessageAt time.Time
}

// ElasticConfig makes a channel elastic: its members are spread over
// sub-channels (subchannel.go).
type ElasticConfig struct {
	MaximumSubChannels             int
	TargetMembershipsPerSubChannel int
	MinimumMembershipPercentage    int
}

// ChannelTx stores channels.
type ChannelTx interface {
	// CreateChannel: ErrExists if the ARN is taken.
	CreateChannel(c *Channel) error
	GetChannel(arn string) (*Channel, error)
	// UpdateChannel replaces every field but ARN, AppInstanceARN,
	// CreatedBy and Created; which fields may change is the service's
	// rule.
	UpdateChannel(c *Channel) error
	// SetChannelLastMessageAt sets LastMessageAt, and nothing else: the
	// write of every persistent message, which UpdateChannel's whole row
	// would make rewrite the indexes of the columns it does not change.
	// ErrNotFound if the channel does not exist.
	SetChannelLastMessageAt(arn string, at time.Time) error
	// DeleteChannel deletes the channel with its memberships, moderators,
	// bans, messages and tags. (DeleteUser and DeleteBot remove a bearer's
	// memberships, moderator roles and bans in every channel; its
	// messages stay.)
	DeleteChannel(arn string) error
	// ListChannels pages by ARN through an AppInstance's channels of the
	// given privacy ("" for both).
	ListChannels(appInstanceARN, privacy string, p Page) ([]Channel, error)
	// SearchChannelsByMembers pages by ARN through the channels of an
	// AppInstance whose members include every ARN of members (exact: and
	// no one else). With scopedTo != "", only channels scopedTo is a
	// member of.
	SearchChannelsByMembers(appInstanceARN string, members []string, exact bool, scopedTo string, p Page) ([]Channel, error)
}
