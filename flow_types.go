package carillon

import "time"

// ChannelFlow is a pipeline of processors that messages of its channels go
// through before members see them.
type ChannelFlow struct {
	ARN            string
	AppInstanceARN string
	Name           string
	// Processors in the order the client gave them; they run in
	// ExecutionOrder.
	Processors []Processor
	Created    time.Time
	Updated    time.Time
}

// Processor is one step of a channel flow: a Lambda function (or, in
// Carillon, an HTTP endpoint mapped to its ARN) that receives each message
// and answers with ChannelFlowCallback.
type Processor struct {
	Name           string
	LambdaARN      string
	InvocationType string // ASYNC
	ExecutionOrder int
	FallbackAction string // CONTINUE or ABORT
}

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
// across a restart.
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

// FlowTx stores channel flows and the messages they hold.
type FlowTx interface {
	// CreateChannelFlow: ErrExists if the ARN is taken; ErrNotFound if the
	// AppInstance does not exist.
	CreateChannelFlow(f *ChannelFlow) error
	GetChannelFlow(arn string) (*ChannelFlow, error)
	// UpdateChannelFlow replaces Name, Processors and Updated.
	UpdateChannelFlow(f *ChannelFlow) error
	DeleteChannelFlow(arn string) error
	// ListChannelFlows pages by ARN through an AppInstance's flows.
	ListChannelFlows(appInstanceARN string, p Page) ([]ChannelFlow, error)
	// ListChannelsWithFlow pages by ARN through the channels associated
	// with a flow.
	ListChannelsWithFlow(flowARN string, p Page) ([]Channel, error)

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
