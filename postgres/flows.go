package postgres

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carillonhq/carillon"
)

// Channel flows.

const channelFlowCols = `arn, app_instance_arn, name, processors, created, updated`

var (
	qCreateChannelFlow = `INSERT INTO channel_flows (` + channelFlowCols + `) SELECT ` + params("text", "text", "bytea", "text", "bigint", "bigint") + `
	WHERE EXISTS (SELECT 1 FROM app_instances WHERE arn = $2) ON CONFLICT DO NOTHING`
	qGetChannelFlow    = `SELECT ` + channelFlowCols + ` FROM channel_flows WHERE arn = $1`
	qUpdateChannelFlow = `UPDATE channel_flows SET name = $1, processors = $2, updated = $3 WHERE arn = $4`
	qDeleteChannelFlow = `DELETE FROM channel_flows WHERE arn = $1`
	qListChannelFlows  = `SELECT ` + channelFlowCols + ` FROM channel_flows
	WHERE app_instance_arn = $1 AND arn > $2 ORDER BY arn LIMIT $3`
	// The literal flow_arn <> '' makes the partial index usable; it also
	// makes the list of the flow "" empty, as "" is no flow.
	qListChannelsWithFlow = `SELECT ` + cChannelCols + ` FROM channels c
	WHERE c.flow_arn = $1 AND c.flow_arn <> '' AND c.arn > $2 ORDER BY c.arn LIMIT $3`
)

// processorJSON is the stored form of a Processor, with its own JSON names
// so that renaming a Go field cannot change what is stored.
type processorJSON struct {
	Name           string `json:"name"`
	LambdaARN      string `json:"lambda_arn"`
	InvocationType string `json:"invocation_type"`
	ExecutionOrder int    `json:"execution_order"`
	FallbackAction string `json:"fallback_action"`
}

// processorsColumn encodes a flow's processors as a JSON array, in the
// order given: "[]" for none.
func processorsColumn(ps []carillon.Processor) (string, error) {
	out := make([]processorJSON, 0, len(ps))
	for _, p := range ps {
		out = append(out, processorJSON{
			Name: p.Name, LambdaARN: p.LambdaARN, InvocationType: p.InvocationType,
			ExecutionOrder: p.ExecutionOrder, FallbackAction: p.FallbackAction,
		})
	}
	b, err := json.Marshal(out)
	return string(b), err
}

func scanChannelFlow(s pgx.Row) (carillon.ChannelFlow, error) {
	var f carillon.ChannelFlow
	var processors string
	if err := s.Scan(&f.ARN, &f.AppInstanceARN, bstr{&f.Name}, &processors, msTime{&f.Created}, msTime{&f.Updated}); err != nil {
		return f, err
	}
	var ps []processorJSON
	if err := json.Unmarshal([]byte(processors), &ps); err != nil {
		return f, fmt.Errorf("processors of channel flow %q: %w", f.ARN, err)
	}
	for _, p := range ps {
		f.Processors = append(f.Processors, carillon.Processor{
			Name: p.Name, LambdaARN: p.LambdaARN, InvocationType: p.InvocationType,
			ExecutionOrder: p.ExecutionOrder, FallbackAction: p.FallbackAction,
		})
	}
	return f, nil
}

// CreateChannelFlow inserts f; ErrExists if its ARN is taken, ErrNotFound
// if its AppInstance does not exist.
func (t *tx) CreateChannelFlow(f *carillon.ChannelFlow) error {
	what := fmt.Sprintf("create channel flow %q", f.ARN)
	if err := t.writable(what); err != nil {
		return err
	}
	processors, err := processorsColumn(f.Processors)
	if err != nil {
		return fail(err, what)
	}
	return t.insert(what, qCreateChannelFlow, appInstanceExists, []any{f.AppInstanceARN},
		f.ARN, f.AppInstanceARN, b(f.Name), processors, ms(f.Created), ms(f.Updated))
}

func (t *tx) GetChannelFlow(arn string) (*carillon.ChannelFlow, error) {
	f, err := scanChannelFlow(t.queryRow(qGetChannelFlow, arn))
	if err != nil {
		return nil, fail(err, fmt.Sprintf("channel flow %q", arn))
	}
	return &f, nil
}

// UpdateChannelFlow replaces Name, Processors and Updated.
func (t *tx) UpdateChannelFlow(f *carillon.ChannelFlow) error {
	if err := t.touch("flow", f.ARN); err != nil {
		return fail(err, "lock a row")
	}
	what := fmt.Sprintf("update channel flow %q", f.ARN)
	if err := t.writable(what); err != nil {
		return err
	}
	processors, err := processorsColumn(f.Processors)
	if err != nil {
		return fail(err, what)
	}
	return t.mutate(what, qUpdateChannelFlow, b(f.Name), processors, ms(f.Updated), f.ARN)
}

// DeleteChannelFlow deletes the flow and its tags (keyed by ARN only, as a
// channel's are). Whether channels still use the flow is the service's
// check: their flow_arn is left as it is, and so are the invocations of
// the flow.
func (t *tx) DeleteChannelFlow(arn string) error {
	what := fmt.Sprintf("delete channel flow %q", arn)
	if err := t.mutate(what, qDeleteChannelFlow, arn); err != nil {
		return err
	}
	if _, err := t.exec(qDeleteTagsOf, arn); err != nil {
		return fail(err, what)
	}
	return nil
}

func (t *tx) ListChannelFlows(appInstanceARN string, p carillon.Page) ([]carillon.ChannelFlow, error) {
	return list(t, fmt.Sprintf("list channel flows of %q", appInstanceARN), qListChannelFlows, scanChannelFlow,
		appInstanceARN, after(p.After), limit(p.Limit))
}

// ListChannelsWithFlow pages by ARN through the channels whose FlowARN is
// flowARN; none for "".
func (t *tx) ListChannelsWithFlow(flowARN string, p carillon.Page) ([]carillon.Channel, error) {
	return list(t, fmt.Sprintf("list channels with flow %q", flowARN), qListChannelsWithFlow, scanChannel,
		flowARN, after(p.After), limit(p.Limit))
}

// Invocations.

const invocationCols = `callback_id, channel_arn, message_id, flow_arn, kind, step, message, state, attempts,
	next_attempt, deadline, created`

var (
	qCreateInvocation = `INSERT INTO invocations (` + invocationCols + `) SELECT ` + params("text", "text", "text", "text", "text",
		"int", "text", "text", "int", "bigint", "bigint", "bigint") + `
	WHERE EXISTS (SELECT 1 FROM channels WHERE arn = $2) ON CONFLICT DO NOTHING`
	qGetInvocation        = `SELECT ` + invocationCols + ` FROM invocations WHERE callback_id = $1`
	qGetMessageInvocation = `SELECT ` + invocationCols + ` FROM invocations WHERE channel_arn = $1 AND message_id = $2`
	qUpdateInvocation     = `UPDATE invocations SET flow_arn = $1, step = $2, message = $3, state = $4, attempts = $5,
	next_attempt = $6, deadline = $7 WHERE callback_id = $8`
	qDeleteInvocation = `DELETE FROM invocations WHERE callback_id = $1`
	// qDueInvocations merges two ranges, each read in order from its
	// partial index: the DUE invocations whose next_attempt has come, and
	// the awaiting ones whose deadline has passed. due_at, the time each
	// is ordered by, is selected for the ORDER BY only.
	qDueInvocations = `SELECT ` + invocationCols + `, next_attempt AS due_at
	FROM invocations WHERE state = 'DUE' AND next_attempt <= $1
	UNION ALL
	SELECT ` + invocationCols + `, deadline AS due_at
	FROM invocations WHERE state = 'AWAITING_CALLBACK' AND deadline < $2
	ORDER BY due_at, callback_id LIMIT $3`
)

// heldMessageJSON is the stored form of an invocation's Message: every
// field, with JSON names of its own. Times are milliseconds since the
// epoch, absent for the zero time.
type heldMessageJSON struct {
	ChannelARN   string              `json:"channel_arn"`
	ID           string              `json:"id"`
	SubChannelID string              `json:"sub_channel_id"`
	Sender       string              `json:"sender"`
	SenderName   string              `json:"sender_name"`
	Content      string              `json:"content"`
	Metadata     string              `json:"metadata"`
	ContentType  string              `json:"content_type"`
	Type         string              `json:"type"`
	Persistence  string              `json:"persistence"`
	Status       string              `json:"status"`
	StatusDetail string              `json:"status_detail"`
	Redacted     bool                `json:"redacted"`
	Attributes   map[string][]string `json:"attributes,omitempty"`
	Push         *pushJSON           `json:"push,omitempty"`
	Target       string              `json:"target"`
	Created      *int64              `json:"created,omitempty"`
	Updated      *int64              `json:"updated,omitempty"`
	LastEdited   *int64              `json:"last_edited,omitempty"`
	Seq          int64               `json:"seq"`
}

// msPtr is t in milliseconds since the epoch, nil for the zero time.
func msPtr(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	n := t.UnixMilli()
	return &n
}

// msPtrTime is the inverse of msPtr, in UTC.
func msPtrTime(n *int64) time.Time {
	if n == nil {
		return time.Time{}
	}
	return time.UnixMilli(*n).UTC()
}

func heldMessageColumn(m *carillon.Message) (string, error) {
	h := heldMessageJSON{
		ChannelARN: m.ChannelARN, ID: m.ID, SubChannelID: m.SubChannelID, Sender: m.Sender, SenderName: m.SenderName,
		Content: m.Content, Metadata: m.Metadata, ContentType: m.ContentType, Type: m.Type, Persistence: m.Persistence,
		Status: m.Status, StatusDetail: m.StatusDetail, Redacted: m.Redacted, Attributes: m.Attributes, Target: m.Target,
		Created: msPtr(m.Created), Updated: msPtr(m.Updated), LastEdited: msPtr(m.LastEdited), Seq: m.Seq,
	}
	if m.Push != nil {
		h.Push = &pushJSON{Title: m.Push.Title, Body: m.Push.Body, Type: m.Push.Type}
	}
	b, err := json.Marshal(h)
	return string(b), err
}

func heldMessage(column string) (carillon.Message, error) {
	var h heldMessageJSON
	if err := json.Unmarshal([]byte(column), &h); err != nil {
		return carillon.Message{}, err
	}
	m := carillon.Message{
		ChannelARN: h.ChannelARN, ID: h.ID, SubChannelID: h.SubChannelID, Sender: h.Sender, SenderName: h.SenderName,
		Content: h.Content, Metadata: h.Metadata, ContentType: h.ContentType, Type: h.Type, Persistence: h.Persistence,
		Status: h.Status, StatusDetail: h.StatusDetail, Redacted: h.Redacted, Attributes: h.Attributes, Target: h.Target,
		Created: msPtrTime(h.Created), Updated: msPtrTime(h.Updated), LastEdited: msPtrTime(h.LastEdited), Seq: h.Seq,
	}
	if h.Push != nil {
		m.Push = &carillon.PushNotification{Title: h.Push.Title, Body: h.Push.Body, Type: h.Push.Type}
	}
	return m, nil
}

// invocationDest returns the scan destinations of invocationCols; message
// receives the JSON of the held message.
func invocationDest(inv *carillon.Invocation, message *string) []any {
	return []any{&inv.CallbackID, &inv.ChannelARN, &inv.MessageID, &inv.FlowARN, &inv.Kind, &inv.Step, message,
		&inv.State, &inv.Attempts, msTime{&inv.NextAttempt}, msTime{&inv.Deadline}, msTime{&inv.Created}}
}

func decodeInvocation(inv *carillon.Invocation, message string) error {
	m, err := heldMessage(message)
	if err != nil {
		return fmt.Errorf("message of invocation %q: %w", inv.CallbackID, err)
	}
	inv.Message = m
	return nil
}

func scanInvocation(s pgx.Row) (carillon.Invocation, error) {
	var inv carillon.Invocation
	var message string
	if err := s.Scan(invocationDest(&inv, &message)...); err != nil {
		return inv, err
	}
	return inv, decodeInvocation(&inv, message)
}

// scanDueInvocation scans a row of qDueInvocations, which ends with due_at.
func scanDueInvocation(s pgx.Row) (carillon.Invocation, error) {
	var inv carillon.Invocation
	var message string
	var dueAt int64
	if err := s.Scan(append(invocationDest(&inv, &message), &dueAt)...); err != nil {
		return inv, err
	}
	return inv, decodeInvocation(&inv, message)
}

// CreateInvocation inserts inv: ErrExists if its CallbackID is taken or
// its message is held already, ErrNotFound if its channel does not exist.
// NextAttempt and Deadline are stored even when zero, as sort keys.
func (t *tx) CreateInvocation(inv *carillon.Invocation) error {
	what := fmt.Sprintf("create invocation %q", inv.CallbackID)
	if err := t.writable(what); err != nil {
		return err
	}
	message, err := heldMessageColumn(&inv.Message)
	if err != nil {
		return fail(err, what)
	}
	return t.insert(what, qCreateInvocation, channelExists, []any{inv.ChannelARN}, inv.CallbackID, inv.ChannelARN, inv.MessageID, inv.FlowARN, inv.Kind,
		inv.Step, message, inv.State, inv.Attempts, inv.NextAttempt.UnixMilli(), inv.Deadline.UnixMilli(), ms(inv.Created))
}

func (t *tx) GetInvocation(callbackID string) (*carillon.Invocation, error) {
	inv, err := scanInvocation(t.queryRow(qGetInvocation, callbackID))
	if err != nil {
		return nil, fail(err, fmt.Sprintf("invocation %q", callbackID))
	}
	return &inv, nil
}

func (t *tx) GetMessageInvocation(channelARN, messageID string) (*carillon.Invocation, error) {
	inv, err := scanInvocation(t.queryRow(qGetMessageInvocation, channelARN, messageID))
	if err != nil {
		return nil, fail(err, fmt.Sprintf("invocation of message %q in %q", messageID, channelARN))
	}
	return &inv, nil
}

// UpdateInvocation replaces FlowARN, Step, Message, State, Attempts,
// NextAttempt and Deadline.
func (t *tx) UpdateInvocation(inv *carillon.Invocation) error {
	if err := t.touch("invocation", inv.CallbackID); err != nil {
		return fail(err, "lock a row")
	}
	what := fmt.Sprintf("update invocation %q", inv.CallbackID)
	if err := t.writable(what); err != nil {
		return err
	}
	message, err := heldMessageColumn(&inv.Message)
	if err != nil {
		return fail(err, what)
	}
	return t.mutate(what, qUpdateInvocation, inv.FlowARN, inv.Step, message, inv.State, inv.Attempts,
		inv.NextAttempt.UnixMilli(), inv.Deadline.UnixMilli(), inv.CallbackID)
}

func (t *tx) DeleteInvocation(callbackID string) error {
	return t.mutate(fmt.Sprintf("delete invocation %q", callbackID), qDeleteInvocation, callbackID)
}

// DueInvocations returns up to limit (all with limit <= 0) DUE
// invocations whose NextAttempt is at or before now and AWAITING ones
// whose Deadline is before now, ordered by that time (NextAttempt for the
// one, Deadline for the other), then by CallbackID. The stored times are
// whole milliseconds, so a NextAttempt is at or before now when it is at
// or before now rounded down, and a Deadline before now when it is before
// now rounded up.
func (t *tx) DueInvocations(now time.Time, n int) ([]carillon.Invocation, error) {
	return list(t, "due invocations", qDueInvocations, scanDueInvocation, now.UnixMilli(), ceilMilli(now), limit(n))
}
