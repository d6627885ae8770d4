package carillon

import (
	"strings"
	"time"
)

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
// sub-channels.
type ElasticConfig struct {
	MaximumSubChannels             int
	TargetMembershipsPerSubChannel int
	MinimumMembershipPercentage    int
}

// SubChannel is one of the sub-channels an elastic channel spreads its
// members over. The service decides who is in which (semantics §3).
type SubChannel struct {
	ChannelARN string
	ID         string
	// Memberships counts the memberships whose SubChannelID is ID. The
	// store maintains it as memberships are created, updated and
	// deleted; sub-channel memberships (CreateSubChannelMembership) do
	// not count. It is not stored by CreateSubChannel.
	Memberships int
	Created     time.Time
}

// SubChannelAudience is the Event.Channel of the events of one sub-channel
// of an elastic channel, whose audience is the members of that
// sub-channel: the channel ARN, "#" and the sub-channel ID. Channel ARNs
// never contain "#" (the ChannelId pattern has none), so the two parts
// stay apart. An event whose Channel is the channel ARN itself, with
// ToMembers, reaches the members of every sub-channel.
func SubChannelAudience(channelARN, subChannelID string) string {
	if subChannelID == "" {
		return channelARN
	}
	return channelARN + "#" + subChannelID
}

// AudienceChannel splits an Event.Channel into the channel ARN and the
// sub-channel ID, "" when the audience is the whole channel.
func AudienceChannel(audience string) (channelARN, subChannelID string) {
	channelARN, subChannelID, _ = strings.Cut(audience, "#")
	return channelARN, subChannelID
}

// Membership makes a user or bot a member of a channel.
type Membership struct {
	ChannelARN string
	MemberARN  string
	// MemberName is filled by the store from the user or bot on reads.
	MemberName   string
	Type         string // DEFAULT or HIDDEN
	InvitedBy    string
	SubChannelID string
	// ReadMarker is when the member last marked the channel read.
	ReadMarker  time.Time
	Preferences *MembershipPreferences
	Created     time.Time
	Updated     time.Time
}

// MembershipPreferences are a member's push notification preferences.
type MembershipPreferences struct {
	AllowNotifications string // ALL, NONE or FILTERED
	FilterRule         string
}

// Moderator gives a user or bot moderator rights over a channel.
type Moderator struct {
	ChannelARN    string
	ModeratorARN  string
	ModeratorName string // filled by the store on reads
	CreatedBy     string
	Created       time.Time
}

// Ban keeps a user or bot out of a channel.
type Ban struct {
	ChannelARN string
	MemberARN  string
	MemberName string // filled by the store on reads
	CreatedBy  string
	Created    time.Time
}

// Message is a channel message. NON_PERSISTENT messages are never stored.
type Message struct {
	ChannelARN   string
	ID           string
	SubChannelID string
	Sender       string
	SenderName   string // the sender's name when the message was sent
	Content      string
	Metadata     string
	ContentType  string
	Type         string // STANDARD or CONTROL
	Persistence  string // PERSISTENT (only these are stored)
	Status       string // SENT, PENDING, FAILED or DENIED
	StatusDetail string
	Redacted     bool
	Attributes   map[string][]string
	Push         *PushNotification
	// Target is the one member a targeted message is visible to, besides
	// its sender; "" for messages visible to the channel.
	Target     string
	Created    time.Time
	Updated    time.Time
	LastEdited time.Time
	// Seq orders the channel's messages; the store assigns it.
	Seq int64
}

// PushNotification is the notification sent with a message.
type PushNotification struct {
	Title, Body, Type string
}

// MessageQuery selects a page of a channel's messages.
type MessageQuery struct {
	Channel string
	// SubChannel is matched exactly: "" is the channel's own messages.
	SubChannel string
	// NotBefore and NotAfter bound Created, inclusively; zero: unbounded.
	NotBefore, NotAfter time.Time
	Descending          bool
	// After resumes after the message with this (Created, Seq), in the
	// query's order; nil for the first page.
	After *MessageCursor
	// Limit counts the messages kept after VisibleTo, so a page is full
	// whenever enough visible messages exist.
	Limit int
	// VisibleTo keeps only messages without a Target and those the
	// bearer sent or is the target of, and, of messages whose Status is
	// not SENT (held by a channel flow, or failed), only those the bearer
	// sent; "" keeps every message.
	VisibleTo string
}

// MessageCursor is a position in a channel's message order.
type MessageCursor struct {
	Created time.Time
	Seq     int64
}

// ChannelMembershipOf is a membership with the channel it belongs to, as
// ListChannelMembershipsForAppInstanceUser returns them.
type ChannelMembershipOf struct {
	Channel    Channel
	Membership Membership
}

// MessagingTx stores the resources of the Chime SDK Messaging API.
type MessagingTx interface {
	// CreateChannel: ErrExists if the ARN is taken.
	CreateChannel(c *Channel) error
	GetChannel(arn string) (*Channel, error)
	// UpdateChannel replaces every field but ARN, AppInstanceARN,
	// CreatedBy and Created; which fields may change is the service's
	// rule.
	UpdateChannel(c *Channel) error
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

	// CreateMembership: ErrExists if the member is already in the channel.
	CreateMembership(m *Membership) error
	GetMembership(channelARN, memberARN string) (*Membership, error)
	// UpdateMembership replaces Type, SubChannelID, ReadMarker,
	// Preferences and Updated.
	UpdateMembership(m *Membership) error
	DeleteMembership(channelARN, memberARN string) error
	// ListMemberships pages by member ARN; typ and subChannel filter when
	// not "".
	ListMemberships(channelARN, typ, subChannel string, p Page) ([]Membership, error)
	CountMemberships(channelARN string) (int, error)
	// ListMembershipsOf pages by channel ARN through a member's channels.
	ListMembershipsOf(memberARN string, p Page) ([]ChannelMembershipOf, error)

	// CreateSubChannel: ErrExists if the channel has a sub-channel with
	// that ID; ErrNotFound if the channel is missing. Its Memberships
	// count starts with the memberships that already name it.
	CreateSubChannel(s *SubChannel) error
	GetSubChannel(channelARN, id string) (*SubChannel, error)
	// ListSubChannels pages by ID through a channel's sub-channels.
	ListSubChannels(channelARN string, p Page) ([]SubChannel, error)
	// DeleteSubChannel deletes the sub-channel with its messages and its
	// sub-channel memberships. Memberships whose SubChannelID names it
	// keep it: moving them elsewhere first is the service's business.
	DeleteSubChannel(channelARN, id string) error

	// CreateSubChannelMembership puts a member of a channel in one more of
	// its sub-channels, m.SubChannelID, besides the one its membership
	// names (if any): how a moderator of an elastic channel, whose
	// membership names none, is in several. It stores Type, InvitedBy,
	// Created and Updated. ErrExists if the member is in that sub-channel
	// this way already; ErrNotFound if the membership of the channel or
	// the sub-channel is missing. DeleteMembership deletes a member's
	// sub-channel memberships with its membership.
	CreateSubChannelMembership(m *Membership) error
	GetSubChannelMembership(channelARN, subChannelID, memberARN string) (*Membership, error)
	DeleteSubChannelMembership(channelARN, subChannelID, memberARN string) error
	// ListSubChannelMemberships pages by member ARN through the
	// sub-channel memberships of one sub-channel (not the memberships
	// whose SubChannelID names it: ListMemberships lists those).
	ListSubChannelMemberships(channelARN, subChannelID string, p Page) ([]Membership, error)
	// ListSubChannelMembershipsOf pages by sub-channel ID through a
	// member's sub-channel memberships in one channel.
	ListSubChannelMembershipsOf(channelARN, memberARN string, p Page) ([]Membership, error)

	// CreateModerator: ErrExists if already a moderator.
	CreateModerator(m *Moderator) error
	GetModerator(channelARN, moderatorARN string) (*Moderator, error)
	DeleteModerator(channelARN, moderatorARN string) error
	// ListModerators pages by moderator ARN.
	ListModerators(channelARN string, p Page) ([]Moderator, error)
	CountModerators(channelARN string) (int, error)
	// ListChannelsModeratedBy pages by channel ARN.
	ListChannelsModeratedBy(moderatorARN string, p Page) ([]Channel, error)

	// CreateBan: ErrExists if already banned.
	CreateBan(b *Ban) error
	GetBan(channelARN, memberARN string) (*Ban, error)
	DeleteBan(channelARN, memberARN string) error
	// ListBans pages by member ARN.
	ListBans(channelARN string, p Page) ([]Ban, error)

	// CreateMessage stores a message and assigns its Seq, which increases
	// across the store and is never reused (gaps are possible); ErrExists
	// if the id is taken in the channel.
	CreateMessage(m *Message) error
	GetMessage(channelARN, id string) (*Message, error)
	// UpdateMessage replaces Content, Metadata, ContentType, Attributes,
	// Push, Status, StatusDetail, Redacted, Updated and LastEdited. The
	// rest (Created, Seq, sender, type, target) stays, so a message never
	// moves in the order.
	UpdateMessage(m *Message) error
	DeleteMessage(channelARN, id string) error
	ListMessages(q MessageQuery) ([]Message, error)
}
