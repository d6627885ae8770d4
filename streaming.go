package carillon

// Streaming data types: what PutMessagingStreamingConfigurations exports.
const (
	StreamChannel        = "Channel"
	StreamChannelMessage = "ChannelMessage"
)

// StreamingConfiguration sends one data type of an AppInstance's events
// to a stream, named by its ARN (a Kinesis data stream, or an ARN the
// server maps to another sink: package stream knows which).
type StreamingConfiguration struct {
	AppInstanceARN string
	DataType       string // StreamChannel or StreamChannelMessage
	ResourceARN    string
	// Since is the Seq of the newest outbox event when the configuration
	// was made: only later events are exported for it (AWS back-fills
	// nothing).
	Since int64
}

// StreamCursor is how far the events of an AppInstance have been exported
// to one stream: every event with Seq <= Seq has been acknowledged by the
// sink, or was not for that stream.
type StreamCursor struct {
	AppInstanceARN string
	ResourceARN    string
	Seq            int64
}

// StreamTx stores streaming configurations and the durable export cursor
// of each stream an AppInstance exports to.
type StreamTx interface {
	// PutStreamingConfigurations replaces the AppInstance's
	// configurations with cs (each with AppInstanceARN set to
	// appInstanceARN). A ResourceARN that had no cursor gets one at the
	// lowest Since of its configurations; the cursors of ResourceARNs no
	// longer configured are deleted. ErrNotFound if the AppInstance does
	// not exist.
	PutStreamingConfigurations(appInstanceARN string, cs []StreamingConfiguration) error
	// StreamingConfigurations returns the AppInstance's configurations
	// ordered by DataType (none: an empty list and no error).
	StreamingConfigurations(appInstanceARN string) ([]StreamingConfiguration, error)
	// DeleteStreamingConfigurations deletes the AppInstance's
	// configurations and cursors; deleting none is not an error.
	DeleteStreamingConfigurations(appInstanceARN string) error
	// AllStreamingConfigurations returns every AppInstance's
	// configurations, ordered by AppInstanceARN then DataType.
	AllStreamingConfigurations() ([]StreamingConfiguration, error)
	// StreamCursors returns every cursor, ordered by AppInstanceARN then
	// ResourceARN.
	StreamCursors() ([]StreamCursor, error)
	// AdvanceStreamCursor moves a cursor forward to seq; a seq at or
	// below the cursor leaves it. ErrNotFound if there is no such cursor
	// (its configuration was deleted or replaced).
	AdvanceStreamCursor(appInstanceARN, resourceARN string, seq int64) error
}
