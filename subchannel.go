package carillon

import "time"

// SubChannel is one of the sub-channels an elastic channel spreads its
// members over. The service decides who is in which (docs/semantics.md,
// "Elastic channels").
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

// SubChannelTx stores the sub-channels of elastic channels, and the
// sub-channel memberships of their moderators.
type SubChannelTx interface {
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
}
