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

// FlowTx stores channel flows.
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
}
