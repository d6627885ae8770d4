package carillon

import "time"

// Invocation kinds: what a held message is waiting to become.
const (
	InvocationCreate = "CREATE" // a new message (SendChannelMessage)
	InvocationUpdate = "UPDATE" // an edit (UpdateChannelMessage)
)

// Invocation states.
const (
	// InvocationDue: the processor is to be invoked at NextAttempt.
	InvocationDue = "DUE"
	// InvocationAwaiting: the processor was invoked and the callback is
	// awaited until Deadline.
	InvocationAwaiting = "AWAITING_CALLBACK"
)

// Invocation is a message held by a channel flow: the message as the
// processors have made it so far, which processor is next, and whether
// its callback is awaited. It is stored so that nothing held is lost
// across a restart. Package messaging holds a message (the first
// Invocation) and completes it; package flows moves it from processor to
// processor.
type Invocation struct {
	// CallbackID identifies the current step; ChannelFlowCallback names it.
	CallbackID string
	ChannelARN string
	MessageID  string
	FlowARN    string
	Kind       string // InvocationCreate or InvocationUpdate
	// Step is the index, in ExecutionOrder, of the current processor.
	Step int
	// Message is the message as processed so far. For an edit it holds
	// the edited version; the stored message keeps the previous one until
	// the edit is SENT.
	Message Message
	State   string // InvocationDue or InvocationAwaiting
	// Attempts counts failed invocations of the current step.
	Attempts int
	// NextAttempt is when a DUE invocation runs; for one being invoked it
	// is the end of the lease after which another runner may retry it.
	NextAttempt time.Time
	// Deadline is when callbacks stop being accepted (48 hours after the
	// message was sent, by default).
	Deadline time.Time
	Created  time.Time
}

// InvocationTx stores the messages channel flows hold.
type InvocationTx interface {
	// CreateInvocation: ErrExists if the CallbackID is taken.
	CreateInvocation(inv *Invocation) error
	GetInvocation(callbackID string) (*Invocation, error)
	// GetMessageInvocation returns the invocation holding a message, if
	// any (ErrNotFound otherwise).
	GetMessageInvocation(channelARN, messageID string) (*Invocation, error)
	// UpdateInvocation replaces everything but CallbackID, ChannelARN,
	// MessageID, Kind and Created; a new step gets a new CallbackID
	// through DeleteInvocation and CreateInvocation.
	UpdateInvocation(inv *Invocation) error
	DeleteInvocation(callbackID string) error
	// DueInvocations returns up to limit DUE invocations whose
	// NextAttempt is at or before now, and AWAITING ones whose Deadline
	// has passed, oldest first.
	DueInvocations(now time.Time, limit int) ([]Invocation, error)
}
