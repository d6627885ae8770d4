package postgres

import (
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/internal/storecodec"
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

func scanChannelFlow(s pgx.Row) (carillon.ChannelFlow, error) {
	var r storecodec.ChannelFlowRow
	if err := s.Scan(r.Dest(bytea)...); err != nil {
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
	processors, err := storecodec.ProcessorsColumn(f.Processors)
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

func scanInvocation(s pgx.Row) (carillon.Invocation, error) {
	var r storecodec.InvocationRow
	if err := s.Scan(r.Dest()...); err != nil {
		return carillon.Invocation{}, err
	}
	return r.Invocation()
}

// scanDueInvocation scans a row of qDueInvocations, which ends with due_at.
func scanDueInvocation(s pgx.Row) (carillon.Invocation, error) {
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
