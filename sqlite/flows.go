package sqlite

import (
	"fmt"
	"time"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/internal/storecodec"
)

// Channel flows.

const channelFlowCols = `arn, app_instance_arn, name, processors, created, updated`

var (
	qCreateChannelFlow = writeQuery(`INSERT INTO channel_flows (` + channelFlowCols + `) VALUES (` + placeholders(6) + `)`)
	qGetChannelFlow    = readQuery(`SELECT ` + channelFlowCols + ` FROM channel_flows WHERE arn = ?`)
	qUpdateChannelFlow = writeQuery(`UPDATE channel_flows SET name = ?, processors = ?, updated = ? WHERE arn = ?`)
	qDeleteChannelFlow = writeQuery(`DELETE FROM channel_flows WHERE arn = ?`)
	// The AppInstance's index is forced, as for qListChannels: walking
	// the primary key from the cursor on would read the flows of the
	// AppInstances after it.
	qListChannelFlows = readQuery(`SELECT ` + channelFlowCols + ` FROM channel_flows INDEXED BY channel_flows_by_app_instance
	WHERE app_instance_arn = ? AND arn > ? ORDER BY arn LIMIT ?`)
	// The literal flow_arn <> '' makes the partial index usable; it also
	// makes the list of the flow "" empty, as "" is no flow.
	qListChannelsWithFlow = readQuery(`SELECT ` + cChannelCols + ` FROM channels c INDEXED BY channels_by_flow
	WHERE c.flow_arn = ?1 AND c.flow_arn <> '' AND c.arn > ?2 ORDER BY c.arn LIMIT ?3`)
)

func scanChannelFlow(s scanner) (carillon.ChannelFlow, error) {
	var r storecodec.ChannelFlowRow
	if err := s.Scan(r.Dest(plain)...); err != nil {
		return carillon.ChannelFlow{}, err
	}
	return r.ChannelFlow()
}

// CreateChannelFlow inserts f; ErrExists if its ARN is taken, ErrNotFound
// if its AppInstance does not exist.
func (t *tx) CreateChannelFlow(f *carillon.ChannelFlow) error {
	what := fmt.Sprintf("create channel flow %q", f.ARN)
	if err := t.writable(what); err != nil {
		return err
	}
	processors, err := storecodec.ProcessorsColumn(f.Processors)
	if err != nil {
		return fail(err, what)
	}
	return t.write(what, qCreateChannelFlow, f.ARN, f.AppInstanceARN, f.Name, processors, storecodec.Millis(f.Created), storecodec.Millis(f.Updated))
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
	what := fmt.Sprintf("update channel flow %q", f.ARN)
	if err := t.writable(what); err != nil {
		return err
	}
	processors, err := storecodec.ProcessorsColumn(f.Processors)
	if err != nil {
		return fail(err, what)
	}
	return t.mutate(what, qUpdateChannelFlow, f.Name, processors, storecodec.Millis(f.Updated), f.ARN)
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
		appInstanceARN, p.After, limit(p.Limit))
}

// ListChannelsWithFlow pages by ARN through the channels whose FlowARN is
// flowARN; none for "".
func (t *tx) ListChannelsWithFlow(flowARN string, p carillon.Page) ([]carillon.Channel, error) {
	return list(t, fmt.Sprintf("list channels with flow %q", flowARN), qListChannelsWithFlow, scanChannel,
		flowARN, p.After, limit(p.Limit))
}

// Invocations.

const invocationCols = `callback_id, channel_arn, message_id, flow_arn, kind, step, message, state, attempts,
	next_attempt, deadline, created`

var (
	qCreateInvocation     = writeQuery(`INSERT INTO invocations (` + invocationCols + `) VALUES (` + placeholders(12) + `)`)
	qGetInvocation        = readQuery(`SELECT ` + invocationCols + ` FROM invocations WHERE callback_id = ?`)
	qGetMessageInvocation = readQuery(`SELECT ` + invocationCols + ` FROM invocations WHERE channel_arn = ? AND message_id = ?`)
	qUpdateInvocation     = writeQuery(`UPDATE invocations SET flow_arn = ?, step = ?, message = ?, state = ?, attempts = ?,
	next_attempt = ?, deadline = ? WHERE callback_id = ?`)
	qDeleteInvocation = writeQuery(`DELETE FROM invocations WHERE callback_id = ?`)
	// qDueInvocations merges two ranges, each read in order from its
	// partial index: the DUE invocations whose next_attempt has come, and
	// the awaiting ones whose deadline has passed. The compound's ORDER BY
	// is the order both indexes give, so SQLite merges them as they come
	// and stops at the limit, without sorting. due_at, the time each is
	// ordered by, is selected for the ORDER BY only.
	qDueInvocations = readQuery(`SELECT ` + invocationCols + `, next_attempt AS due_at
	FROM invocations INDEXED BY invocations_due WHERE state = 'DUE' AND next_attempt <= ?1
	UNION ALL
	SELECT ` + invocationCols + `, deadline AS due_at
	FROM invocations INDEXED BY invocations_awaiting WHERE state = 'AWAITING_CALLBACK' AND deadline < ?2
	ORDER BY due_at, callback_id LIMIT ?3`)
)

func scanInvocation(s scanner) (carillon.Invocation, error) {
	var r storecodec.InvocationRow
	if err := s.Scan(r.Dest()...); err != nil {
		return carillon.Invocation{}, err
	}
	return r.Invocation()
}

// scanDueInvocation scans a row of qDueInvocations, which ends with due_at.
func scanDueInvocation(s scanner) (carillon.Invocation, error) {
	var r storecodec.InvocationRow
	var dueAt int64
	if err := s.Scan(append(r.Dest(), &dueAt)...); err != nil {
		return carillon.Invocation{}, err
	}
	return r.Invocation()
}

// CreateInvocation inserts inv: ErrExists if its CallbackID is taken or
// its message is held already, ErrNotFound if its channel does not exist.
// NextAttempt and Deadline are stored even when zero, as sort keys.
func (t *tx) CreateInvocation(inv *carillon.Invocation) error {
	what := fmt.Sprintf("create invocation %q", inv.CallbackID)
	if err := t.writable(what); err != nil {
		return err
	}
	message, err := storecodec.HeldMessageColumn(&inv.Message)
	if err != nil {
		return fail(err, what)
	}
	return t.write(what, qCreateInvocation, inv.CallbackID, inv.ChannelARN, inv.MessageID, inv.FlowARN, inv.Kind,
		inv.Step, message, inv.State, inv.Attempts, inv.NextAttempt.UnixMilli(), inv.Deadline.UnixMilli(), storecodec.Millis(inv.Created))
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
	what := fmt.Sprintf("update invocation %q", inv.CallbackID)
	if err := t.writable(what); err != nil {
		return err
	}
	message, err := storecodec.HeldMessageColumn(&inv.Message)
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
	return list(t, "due invocations", qDueInvocations, scanDueInvocation, now.UnixMilli(), storecodec.CeilMillis(now), limit(n))
}
