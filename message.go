package carillon

import "time"

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
	// Status is SENT, PENDING, FAILED or DENIED (package messaging's
	// Status constants: it holds the lifecycle of a message).
	Status       string
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

// MessageTx stores channel messages.
type MessageTx interface {
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
