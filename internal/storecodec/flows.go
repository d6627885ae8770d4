package storecodec

import (
	"encoding/json"
	"fmt"

	"github.com/carillonhq/carillon"
)

// processorJSON is the stored form of a Processor.
type processorJSON struct {
	Name           string `json:"name"`
	LambdaARN      string `json:"lambda_arn"`
	InvocationType string `json:"invocation_type"`
	ExecutionOrder int    `json:"execution_order"`
	FallbackAction string `json:"fallback_action"`
}

// ProcessorsColumn encodes a flow's processors as a JSON array, in the
// order given: "[]" for none.
func ProcessorsColumn(ps []carillon.Processor) (string, error) {
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

// Processors decodes what ProcessorsColumn encoded: nil for none.
func Processors(column string) ([]carillon.Processor, error) {
	var ps []processorJSON
	if err := json.Unmarshal([]byte(column), &ps); err != nil {
		return nil, err
	}
	var out []carillon.Processor
	for _, p := range ps {
		out = append(out, carillon.Processor{
			Name: p.Name, LambdaARN: p.LambdaARN, InvocationType: p.InvocationType,
			ExecutionOrder: p.ExecutionOrder, FallbackAction: p.FallbackAction,
		})
	}
	return out, nil
}

// ChannelFlowRow is where a channel flow row is scanned.
type ChannelFlowRow struct {
	flow       carillon.ChannelFlow
	processors string
}

// Dest returns the destinations of the columns arn, app_instance_arn,
// name, processors, created, updated.
func (r *ChannelFlowRow) Dest(text Text) []any {
	f := &r.flow
	return []any{&f.ARN, &f.AppInstanceARN, text(&f.Name), &r.processors, Time(&f.Created), Time(&f.Updated)}
}

// ChannelFlow is the flow the row holds.
func (r *ChannelFlowRow) ChannelFlow() (carillon.ChannelFlow, error) {
	f := r.flow
	ps, err := Processors(r.processors)
	if err != nil {
		return f, fmt.Errorf("processors of channel flow %q: %w", f.ARN, err)
	}
	f.Processors = ps
	return f, nil
}

// heldMessageJSON is the stored form of an invocation's Message: every
// field. Times are milliseconds since the epoch, absent for the zero
// time.
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

// HeldMessageColumn encodes the message an invocation holds, as JSON.
func HeldMessageColumn(m *carillon.Message) (string, error) {
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

// HeldMessage decodes what HeldMessageColumn encoded.
func HeldMessage(column string) (carillon.Message, error) {
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

// InvocationRow is where an invocation row is scanned.
type InvocationRow struct {
	inv     carillon.Invocation
	message string
}

// Dest returns the destinations of the columns callback_id, channel_arn,
// message_id, flow_arn, kind, step, message, state, attempts,
// next_attempt, deadline, created.
func (r *InvocationRow) Dest() []any {
	inv := &r.inv
	return []any{&inv.CallbackID, &inv.ChannelARN, &inv.MessageID, &inv.FlowARN, &inv.Kind, &inv.Step, &r.message,
		&inv.State, &inv.Attempts, Time(&inv.NextAttempt), Time(&inv.Deadline), Time(&inv.Created)}
}

// Invocation is the invocation the row holds.
func (r *InvocationRow) Invocation() (carillon.Invocation, error) {
	inv := r.inv
	m, err := HeldMessage(r.message)
	if err != nil {
		return inv, fmt.Errorf("message of invocation %q: %w", inv.CallbackID, err)
	}
	inv.Message = m
	return inv, nil
}
