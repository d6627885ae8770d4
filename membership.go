package carillon

import "time"

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

// ChannelMembershipOf is a membership with the channel it belongs to, as
// ListChannelMembershipsForAppInstanceUser returns them.
type ChannelMembershipOf struct {
	Channel    Channel
	Membership Membership
}

// MembershipTx stores the memberships of channels.
type MembershipTx interface {
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
}
