package storetest

// The conformance of FlowTx and InvocationTx. Beyond what flow.go and
// invocation.go (at the module root) document, the
// suite checks these choices, which services rely on:
//
//   - Creating a flow of a missing AppInstance, or an invocation in a
//     missing channel, returns ErrNotFound. Creating an invocation for a
//     message another invocation holds returns ErrExists.
//   - Processors come back in the order they were given, whatever their
//     ExecutionOrder; a flow without processors reads back with none.
//   - ListChannelsWithFlow lists the channels whose FlowARN is the flow's,
//     as CreateChannel and UpdateChannel set it; it lists none for "".
//   - DeleteChannelFlow deletes the flow and its tags only: channels keep
//     their FlowARN (refusing to delete a flow in use is the service's
//     check) and the flow's invocations stay. DeleteChannel deletes the
//     channel's invocations; DeleteAppInstance its flows and the
//     invocations of its channels.
//   - The held Message round-trips every field, Seq included.
//   - DueInvocations orders by the time that makes each due (NextAttempt
//     for a DUE one, Deadline for an AWAITING one), then by CallbackID;
//     limit <= 0 is no limit. The zero time is before any now.

import (
	"fmt"
	"slices"
	"time"

	"github.com/carillonhq/carillon"
)

// Fixtures.

func flowARN(app, id string) string { return app + "/channel-flow/" + id }

func newFlow(app, id string) *carillon.ChannelFlow {
	return &carillon.ChannelFlow{
		ARN: flowARN(app, id), AppInstanceARN: app, Name: "flow " + id,
		Processors: []carillon.Processor{{
			Name: "p-" + id, LambdaARN: "arn:aws:lambda:us-east-1:111122223333:function:" + id,
			InvocationType: "ASYNC", ExecutionOrder: 1, FallbackAction: "CONTINUE",
		}},
		Created: Start, Updated: Start,
	}
}

// newInvocation returns a DUE invocation holding a new message.
func newInvocation(channel, messageID, callbackID string) *carillon.Invocation {
	m := newMessage(channel, messageID)
	m.Status = "PENDING"
	return &carillon.Invocation{
		CallbackID: callbackID, ChannelARN: channel, MessageID: messageID,
		FlowARN: "flow of " + channel, Kind: carillon.InvocationCreate, Message: *m,
		State: carillon.InvocationDue, NextAttempt: Start, Deadline: Start.Add(48 * time.Hour), Created: Start,
	}
}

// createFlow creates a flow resource for env.create.
func createFlow(tx carillon.Tx, r any) error {
	switch r := r.(type) {
	case *carillon.ChannelFlow:
		return tx.CreateChannelFlow(r)
	case *carillon.Invocation:
		return tx.CreateInvocation(r)
	}
	return fmt.Errorf("create: unexpected %T", r)
}

func flowKey(f carillon.ChannelFlow) string { return f.ARN }

func callbackIDs(invs []carillon.Invocation) []string {
	return keys(invs, func(i carillon.Invocation) string { return i.CallbackID })
}

func (e *env) getFlow(arn string) *carillon.ChannelFlow {
	e.t.Helper()
	return read(e, func(tx carillon.Tx) (*carillon.ChannelFlow, error) { return tx.GetChannelFlow(arn) })
}

func (e *env) getInvocation(callbackID string) *carillon.Invocation {
	e.t.Helper()
	return read(e, func(tx carillon.Tx) (*carillon.Invocation, error) { return tx.GetInvocation(callbackID) })
}

func (e *env) dueInvocations(now time.Time, limit int) []carillon.Invocation {
	e.t.Helper()
	return read(e, func(tx carillon.Tx) ([]carillon.Invocation, error) { return tx.DueInvocations(now, limit) })
}

func testChannelFlow(e *env) {
	t := e.t
	e.create(newApp(appA))
	// Processors out of ExecutionOrder, and with every field set.
	f1 := newFlow(appA, "f1")
	f1.Processors = []carillon.Processor{
		{Name: "third", LambdaARN: "arn:aws:lambda:us-east-1:111122223333:function:c", InvocationType: "ASYNC", ExecutionOrder: 3, FallbackAction: "ABORT"},
		{Name: "first", LambdaARN: "arn:aws:lambda:us-east-1:111122223333:function:a", InvocationType: "ASYNC", ExecutionOrder: 1, FallbackAction: "CONTINUE"},
		{Name: "second", LambdaARN: "arn:aws:lambda:us-east-1:111122223333:function:b", InvocationType: "ASYNC", ExecutionOrder: 2, FallbackAction: "ABORT"},
	}
	f2 := newFlow(appA, "f2")
	f2.Processors, f2.Name = nil, ""
	f3 := newFlow(appA, "f3")
	f3.Created, f3.Updated = time.Time{}, time.Time{}
	e.create(f1, f2, f3)

	check(t, "GetChannelFlow", e.getFlow(f1.ARN), f1)
	check(t, "GetChannelFlow without processors", e.getFlow(f2.ARN), f2)
	check(t, "GetChannelFlow created at the zero time", e.getFlow(f3.ARN), f3)
	if got := e.getFlow(f2.ARN); len(got.Processors) != 0 {
		t.Errorf("Processors of a flow without any: %v", got.Processors)
	}
	if got := e.getFlow(f3.ARN); !got.Created.IsZero() || !got.Updated.IsZero() {
		t.Errorf("GetChannelFlow: Created %v, Updated %v; want the zero time", got.Created, got.Updated)
	}

	wantErr(t, "CreateChannelFlow twice", e.write(func(tx carillon.Tx) error {
		return tx.CreateChannelFlow(newFlow(appA, "f1"))
	}), carillon.ErrExists)
	wantErr(t, "CreateChannelFlow of a missing AppInstance", e.write(func(tx carillon.Tx) error {
		return tx.CreateChannelFlow(newFlow(appB, "f1"))
	}), carillon.ErrNotFound)
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetChannelFlow(flowARN(appA, "nope"))
		wantErr(t, "GetChannelFlow of a missing one", err, carillon.ErrNotFound)
		_, err = tx.GetChannelFlow(flowARN(appB, "f1"))
		wantErr(t, "GetChannelFlow of the ARN refused", err, carillon.ErrNotFound)
		return nil
	})

	// UpdateChannelFlow replaces Name, Processors and Updated only; the
	// new processors keep their order too.
	later := Start.Add(time.Hour)
	e.update(func(tx carillon.Tx) error {
		return tx.UpdateChannelFlow(&carillon.ChannelFlow{
			ARN: f1.ARN, AppInstanceARN: appB, Name: "renamed",
			Processors: []carillon.Processor{f1.Processors[2], {Name: "new", ExecutionOrder: 2}},
			Created:    later, Updated: later,
		})
	})
	want := *f1
	want.Name, want.Updated = "renamed", later
	want.Processors = []carillon.Processor{f1.Processors[2], {Name: "new", ExecutionOrder: 2}}
	check(t, "GetChannelFlow after UpdateChannelFlow", e.getFlow(f1.ARN), &want)
	want.Processors = nil
	e.update(func(tx carillon.Tx) error { return tx.UpdateChannelFlow(&want) })
	check(t, "GetChannelFlow after UpdateChannelFlow removing the processors", e.getFlow(f1.ARN), &want)
	check(t, "GetChannelFlow of another flow", e.getFlow(f2.ARN), f2)
	wantErr(t, "UpdateChannelFlow of a missing one", e.write(func(tx carillon.Tx) error {
		return tx.UpdateChannelFlow(newFlow(appA, "nope"))
	}), carillon.ErrNotFound)

	// DeleteChannelFlow deletes the flow and its tags, not another's.
	e.update(func(tx carillon.Tx) error {
		if err := tx.PutTags(f1.ARN, []carillon.Tag{{Key: "k", Value: "v"}}); err != nil {
			return err
		}
		return tx.PutTags(f2.ARN, []carillon.Tag{{Key: "k", Value: "v2"}})
	})
	e.update(func(tx carillon.Tx) error { return tx.DeleteChannelFlow(f1.ARN) })
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetChannelFlow(f1.ARN)
		wantErr(t, "GetChannelFlow after DeleteChannelFlow", err, carillon.ErrNotFound)
		tags, err := tx.Tags(f1.ARN)
		noErr(t, "Tags", err)
		check(t, "tags of a deleted flow", tags, []carillon.Tag{})
		tags, err = tx.Tags(f2.ARN)
		noErr(t, "Tags", err)
		check(t, "tags of another flow", tags, []carillon.Tag{{Key: "k", Value: "v2"}})
		return nil
	})
	wantErr(t, "DeleteChannelFlow of a missing one", e.write(func(tx carillon.Tx) error {
		return tx.DeleteChannelFlow(f1.ARN)
	}), carillon.ErrNotFound)
	check(t, "GetChannelFlow of another flow after DeleteChannelFlow", e.getFlow(f2.ARN), f2)

	// The ARN is free again.
	e.create(newFlow(appA, "f1"))
	check(t, "GetChannelFlow of a recreated flow", e.getFlow(f1.ARN), newFlow(appA, "f1"))
}

func testChannelFlowList(e *env) {
	t := e.t
	sibling := appA + "d"
	e.create(newApp(appA), newApp(sibling), newApp(appB))
	var want []string
	for _, id := range []string{"f3", "f1", "F2", "f10", "f-1", "f0"} {
		e.create(newFlow(appA, id), newFlow(sibling, id))
		want = append(want, flowARN(appA, id))
	}
	slices.Sort(want)
	checkPaging(e, "ListChannelFlows", want, func(tx carillon.Tx, p carillon.Page) ([]carillon.ChannelFlow, error) {
		return tx.ListChannelFlows(appA, p)
	}, flowKey)

	f := newFlow(appA, "F2")
	f.Processors = append(f.Processors, carillon.Processor{Name: "p2", ExecutionOrder: 2, FallbackAction: "ABORT"})
	e.update(func(tx carillon.Tx) error { return tx.UpdateChannelFlow(f) })
	check(t, "ListChannelFlows rows", read(e, func(tx carillon.Tx) ([]carillon.ChannelFlow, error) {
		return tx.ListChannelFlows(appA, carillon.Page{Limit: 1})
	}), []carillon.ChannelFlow{*f})
	check(t, "ListChannelFlows of an AppInstance without flows", read(e, func(tx carillon.Tx) ([]carillon.ChannelFlow, error) {
		return tx.ListChannelFlows(appB, carillon.Page{})
	}), []carillon.ChannelFlow{})
	check(t, "ListChannelFlows of a missing AppInstance", read(e, func(tx carillon.Tx) ([]carillon.ChannelFlow, error) {
		return tx.ListChannelFlows(appA+"x", carillon.Page{})
	}), []carillon.ChannelFlow{})
}

func testChannelsWithFlow(e *env) {
	t := e.t
	sibling := appA + "d"
	f1, f2 := flowARN(appA, "f1"), flowARN(appA, "f1-x") // one ARN a prefix of the other
	e.create(newApp(appA), newApp(sibling), newFlow(appA, "f1"), newFlow(appA, "f1-x"))
	// Channels associated by UpdateChannel, as AssociateChannelFlow does,
	// and one created with its flow.
	withFlow := func(tx carillon.Tx, c *carillon.Channel, flow string) error {
		c.FlowARN = flow
		return tx.UpdateChannel(c)
	}
	var want1, want2 []string
	channels := map[string]*carillon.Channel{}
	for i, id := range []string{"c3", "c1", "C2", "c10", "c-1", "c0", "c5", "c6"} {
		c := newChannel(appA, id)
		e.create(c)
		channels[id] = c
		switch i % 3 {
		case 0:
			e.update(func(tx carillon.Tx) error { return withFlow(tx, c, f1) })
			want1 = append(want1, c.ARN)
		case 1:
			e.update(func(tx carillon.Tx) error { return withFlow(tx, c, f2) })
			want2 = append(want2, c.ARN)
		}
	}
	created := newChannel(sibling, "s1") // the store does not check where a flow comes from
	created.FlowARN = f1
	e.create(created)
	want1 = append(want1, created.ARN)
	slices.Sort(want1)
	slices.Sort(want2)

	list := func(flow string) func(tx carillon.Tx, p carillon.Page) ([]carillon.Channel, error) {
		return func(tx carillon.Tx, p carillon.Page) ([]carillon.Channel, error) {
			return tx.ListChannelsWithFlow(flow, p)
		}
	}
	checkPaging(e, "ListChannelsWithFlow", want1, list(f1), channelKey)
	checkPaging(e, "ListChannelsWithFlow of a flow whose ARN has another's as a prefix", want2, list(f2), channelKey)
	checkPaging(e, "ListChannelsWithFlow of a flow without channels", []string{}, list(flowARN(appA, "f1-")), channelKey)
	checkPaging(e, "ListChannelsWithFlow of no flow", []string{}, list(""), channelKey)
	check(t, "ListChannelsWithFlow rows", read(e, func(tx carillon.Tx) ([]carillon.Channel, error) {
		return tx.ListChannelsWithFlow(f2, carillon.Page{Limit: 1})
	}), []carillon.Channel{*channels["c-1"]})

	// Disassociated, a channel leaves the list; moved, it joins the other.
	e.update(func(tx carillon.Tx) error {
		if err := withFlow(tx, channels["c3"], ""); err != nil {
			return err
		}
		return withFlow(tx, channels["c10"], f2)
	})
	want1 = slices.DeleteFunc(want1, func(arn string) bool {
		return arn == channels["c3"].ARN || arn == channels["c10"].ARN
	})
	want2 = append(want2, channels["c10"].ARN)
	slices.Sort(want2)
	checkPaging(e, "ListChannelsWithFlow after a disassociation", want1, list(f1), channelKey)
	checkPaging(e, "ListChannelsWithFlow after a channel moved to it", want2, list(f2), channelKey)

	// A deleted channel leaves the list.
	e.update(func(tx carillon.Tx) error { return tx.DeleteChannel(channels["c1"].ARN) })
	want2 = slices.DeleteFunc(want2, func(arn string) bool { return arn == channels["c1"].ARN })
	checkPaging(e, "ListChannelsWithFlow after DeleteChannel", want2, list(f2), channelKey)
}

// fullMessage returns a message with every field set, held for a flow.
func fullMessage(channel, id string) carillon.Message {
	return carillon.Message{
		ChannelARN: channel, ID: id, SubChannelID: "sub", Sender: userARN(appA, "u1"), SenderName: "sender",
		Content: "hé \u0000 \"quoted\" <b>", Metadata: "metadata", ContentType: "application/json",
		Type: "STANDARD", Persistence: "PERSISTENT", Status: "PENDING", StatusDetail: "detail", Redacted: true,
		Attributes: map[string][]string{"CHIME.mentions": {"a", "b"}, "empty": {}, "k": {"v \u2028"}},
		Push:       &carillon.PushNotification{Title: "title", Body: "body", Type: "VOIP"},
		Target:     userARN(appA, "u2"),
		Created:    Start.Add(123 * time.Millisecond), Updated: Start.Add(time.Second),
		LastEdited: time.Date(2024, 3, 4, 5, 6, 7, 999_000_000, time.FixedZone("UTC-8", -8*3600)),
		Seq:        1 << 40,
	}
}

func testInvocation(e *env) {
	t := e.t
	c1, c2 := channelARN(appA, "c1"), channelARN(appA, "c2")
	e.create(newApp(appA), newChannel(appA, "c1"), newChannel(appA, "c2"))
	i1 := newInvocation(c1, "m1", "cb1")
	i1.Message = fullMessage(c1, "m1")
	i1.Kind, i1.Step, i1.State, i1.Attempts = carillon.InvocationUpdate, 2, carillon.InvocationAwaiting, 3
	i2 := newInvocation(c1, "m2", "cb2")
	i3 := newInvocation(c2, "m1", "cb3") // the same message id in another channel
	// The zero times round-trip.
	i4 := newInvocation(c2, "m4", "cb4")
	i4.NextAttempt, i4.Deadline, i4.Created, i4.Message = time.Time{}, time.Time{}, time.Time{}, carillon.Message{}
	e.create(i1, i2, i3, i4)

	check(t, "GetInvocation", e.getInvocation("cb1"), i1)
	check(t, "GetInvocation of another", e.getInvocation("cb2"), i2)
	check(t, "GetInvocation of the same message id in another channel", e.getInvocation("cb3"), i3)
	got := e.getInvocation("cb4")
	check(t, "GetInvocation with zero times and an empty message", got, i4)
	if !got.NextAttempt.IsZero() || !got.Deadline.IsZero() || !got.Created.IsZero() || !got.Message.Created.IsZero() {
		t.Errorf("GetInvocation: NextAttempt %v, Deadline %v, Created %v, Message.Created %v; want the zero time",
			got.NextAttempt, got.Deadline, got.Created, got.Message.Created)
	}
	getOf := func(channel, id string) *carillon.Invocation {
		t.Helper()
		return read(e, func(tx carillon.Tx) (*carillon.Invocation, error) { return tx.GetMessageInvocation(channel, id) })
	}
	check(t, "GetMessageInvocation", getOf(c1, "m1"), i1)
	check(t, "GetMessageInvocation in another channel", getOf(c2, "m1"), i3)
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetInvocation("nope")
		wantErr(t, "GetInvocation of a missing one", err, carillon.ErrNotFound)
		_, err = tx.GetMessageInvocation(c1, "nope")
		wantErr(t, "GetMessageInvocation of a message not held", err, carillon.ErrNotFound)
		_, err = tx.GetMessageInvocation(c2, "m2")
		wantErr(t, "GetMessageInvocation of a message held in another channel", err, carillon.ErrNotFound)
		_, err = tx.GetMessageInvocation(channelARN(appA, "nope"), "m1")
		wantErr(t, "GetMessageInvocation in a missing channel", err, carillon.ErrNotFound)
		return nil
	})

	wantErr(t, "CreateInvocation of a taken CallbackID", e.write(func(tx carillon.Tx) error {
		return tx.CreateInvocation(newInvocation(c2, "m9", "cb1"))
	}), carillon.ErrExists)
	wantErr(t, "CreateInvocation of a message held already", e.write(func(tx carillon.Tx) error {
		return tx.CreateInvocation(newInvocation(c1, "m1", "cb9"))
	}), carillon.ErrExists)
	wantErr(t, "CreateInvocation in a missing channel", e.write(func(tx carillon.Tx) error {
		return tx.CreateInvocation(newInvocation(channelARN(appA, "nope"), "m1", "cb9"))
	}), carillon.ErrNotFound)
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetInvocation("cb9")
		wantErr(t, "GetInvocation of a refused one", err, carillon.ErrNotFound)
		return nil
	})

	// UpdateInvocation replaces FlowARN, Step, Message, State, Attempts,
	// NextAttempt and Deadline; the rest stays.
	later := Start.Add(time.Hour)
	edited := fullMessage(c1, "m2")
	edited.Content, edited.Attributes, edited.Push = "processed", nil, nil
	e.update(func(tx carillon.Tx) error {
		return tx.UpdateInvocation(&carillon.Invocation{
			CallbackID: "cb2", ChannelARN: c2, MessageID: "other", FlowARN: "another flow",
			Kind: carillon.InvocationUpdate, Step: 1, Message: edited, State: carillon.InvocationAwaiting,
			Attempts: 4, NextAttempt: later, Deadline: later.Add(time.Minute), Created: later,
		})
	})
	want := *i2
	want.FlowARN, want.Step, want.Message, want.State = "another flow", 1, edited, carillon.InvocationAwaiting
	want.Attempts, want.NextAttempt, want.Deadline = 4, later, later.Add(time.Minute)
	check(t, "GetInvocation after UpdateInvocation", e.getInvocation("cb2"), &want)
	check(t, "GetMessageInvocation after UpdateInvocation", getOf(c1, "m2"), &want)
	want.NextAttempt, want.Deadline, want.Message = time.Time{}, time.Time{}, *newMessage(c1, "m2")
	e.update(func(tx carillon.Tx) error { return tx.UpdateInvocation(&want) })
	check(t, "GetInvocation after UpdateInvocation to zero times", e.getInvocation("cb2"), &want)
	check(t, "GetInvocation of another after UpdateInvocation", e.getInvocation("cb1"), i1)
	wantErr(t, "UpdateInvocation of a missing one", e.write(func(tx carillon.Tx) error {
		return tx.UpdateInvocation(newInvocation(c1, "m1", "nope"))
	}), carillon.ErrNotFound)

	e.update(func(tx carillon.Tx) error { return tx.DeleteInvocation("cb1") })
	wantErr(t, "DeleteInvocation twice", e.write(func(tx carillon.Tx) error {
		return tx.DeleteInvocation("cb1")
	}), carillon.ErrNotFound)
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetInvocation("cb1")
		wantErr(t, "GetInvocation after DeleteInvocation", err, carillon.ErrNotFound)
		_, err = tx.GetMessageInvocation(c1, "m1")
		wantErr(t, "GetMessageInvocation after DeleteInvocation", err, carillon.ErrNotFound)
		return nil
	})
	check(t, "GetInvocation of another after DeleteInvocation", e.getInvocation("cb3"), i3)

	// The next step: the message is held again under a new CallbackID,
	// in the transaction that lets go of the old one.
	next := *i2
	next.CallbackID, next.Step = "cb2-next", 2
	e.update(func(tx carillon.Tx) error {
		if err := tx.DeleteInvocation("cb2"); err != nil {
			return err
		}
		return tx.CreateInvocation(&next)
	})
	check(t, "GetMessageInvocation after the next step", getOf(c1, "m2"), &next)
	// And a message let go of can be held again.
	e.create(newInvocation(c1, "m1", "cb1"))
	check(t, "GetMessageInvocation of a message held again", getOf(c1, "m1"), newInvocation(c1, "m1", "cb1"))
}

// testInvocationHeldMessage: every field of the held message round-trips,
// through each way of reading an invocation.
func testInvocationHeldMessage(e *env) {
	t := e.t
	ch := channelARN(appA, "c1")
	e.create(newApp(appA), newChannel(appA, "c1"))
	full := fullMessage(ch, "m1")
	bare := carillon.Message{ChannelARN: ch, ID: "m2"} // every other field at its zero value
	before := carillon.Message{
		ChannelARN: ch, ID: "m3", Created: time.Date(1969, 12, 31, 23, 59, 59, 999_000_000, time.UTC),
		Attributes: map[string][]string{}, Push: &carillon.PushNotification{},
	}
	for i, m := range []carillon.Message{full, bare, before} {
		inv := newInvocation(ch, m.ID, fmt.Sprintf("cb%d", i))
		inv.Message = m
		e.create(inv)
		check(t, "GetInvocation's message "+m.ID, e.getInvocation(inv.CallbackID).Message, m)
		got := read(e, func(tx carillon.Tx) (*carillon.Invocation, error) { return tx.GetMessageInvocation(ch, m.ID) })
		check(t, "GetMessageInvocation's message "+m.ID, got.Message, m)
	}
	got := e.getInvocation("cb0").Message
	for _, tm := range []time.Time{got.Created, got.Updated, got.LastEdited} {
		if tm.Location() != time.UTC {
			t.Errorf("a time of the held message is in %v, want UTC", tm.Location())
		}
	}
	if got.Push == nil || got.Push.Type != "VOIP" || len(got.Attributes["CHIME.mentions"]) != 2 {
		t.Errorf("held message: Push %v, Attributes %v", got.Push, got.Attributes)
	}
	if got := e.getInvocation("cb1").Message; got.Push != nil || len(got.Attributes) != 0 || !got.Created.IsZero() {
		t.Errorf("a bare held message reads back with Push %v, Attributes %v, Created %v", got.Push, got.Attributes, got.Created)
	}
	due := e.dueInvocations(Start, 0)
	check(t, "DueInvocations' messages", keys(due, func(i carillon.Invocation) string { return i.Message.ID }), []string{"m1", "m2", "m3"})
	for _, inv := range due {
		check(t, "DueInvocations' message "+inv.Message.ID, inv, *e.getInvocation(inv.CallbackID))
	}
	// Milliseconds are kept, finer fractions dropped.
	fine := fullMessage(ch, "m4")
	fine.Created = Start.Add(1234567 * time.Nanosecond)
	inv := newInvocation(ch, "m4", "cb4")
	inv.Message = fine
	e.create(inv)
	if got := e.getInvocation("cb4").Message.Created; !got.Equal(Start.Add(time.Millisecond)) {
		t.Errorf("held message created at %v reads back as %v, want %v", fine.Created, got, Start.Add(time.Millisecond))
	}
}

func testDueInvocations(e *env) {
	t := e.t
	c1, c2 := channelARN(appA, "c1"), channelARN(appA, "c2")
	e.create(newApp(appA), newChannel(appA, "c1"), newChannel(appA, "c2"))
	now := Start.Add(time.Hour)
	mk := func(cb, state string, nextAttempt, deadline time.Time) *carillon.Invocation {
		ch := c1
		if len(cb)%2 == 0 {
			ch = c2
		}
		inv := newInvocation(ch, "m-"+cb, cb)
		inv.State, inv.NextAttempt, inv.Deadline = state, nextAttempt, deadline
		return inv
	}
	due, awaiting := carillon.InvocationDue, carillon.InvocationAwaiting
	future := now.Add(48 * time.Hour)
	e.create(
		// DUE: by NextAttempt, at or before now; the Deadline does not count.
		mk("d-past", due, now.Add(-10*time.Minute), future),
		mk("d-now", due, now, future),
		mk("d-soon", due, now.Add(time.Millisecond), future),
		mk("d-later", due, now.Add(time.Hour), now.Add(-time.Hour)),
		mk("d-old", due, now.Add(-30*time.Minute), now.Add(-time.Hour)),
		mk("d-tie", due, now.Add(-10*time.Minute), future),
		mk("d-zero", due, time.Time{}, future),
		// AWAITING: by Deadline, once passed; the NextAttempt does not count.
		mk("a-past", awaiting, future, now.Add(-5*time.Minute)),
		mk("a-now", awaiting, now.Add(-time.Hour), now),
		mk("a-later", awaiting, now.Add(-time.Hour), now.Add(time.Minute)),
		mk("a-tie", awaiting, future, now.Add(-10*time.Minute)),
		mk("a-zero", awaiting, future, time.Time{}),
	)
	want := []string{"a-zero", "d-zero", "d-old", "a-tie", "d-past", "d-tie", "a-past", "d-now"}
	check(t, "DueInvocations", callbackIDs(e.dueInvocations(now, 0)), want)
	check(t, "DueInvocations with a negative limit", callbackIDs(e.dueInvocations(now, -1)), want)
	for n := 1; n <= len(want)+1; n++ {
		check(t, fmt.Sprintf("DueInvocations with limit %d", n), callbackIDs(e.dueInvocations(now, n)), want[:min(n, len(want))])
	}
	check(t, "DueInvocations rows", e.dueInvocations(now, 2)[1], *mk("d-zero", due, time.Time{}, future))

	// now is an instant: a millisecond later, d-soon is due and a-now has
	// passed; half of one later, only a-now.
	check(t, "DueInvocations half a millisecond later", callbackIDs(e.dueInvocations(now.Add(500*time.Microsecond), 0)),
		[]string{"a-zero", "d-zero", "d-old", "a-tie", "d-past", "d-tie", "a-past", "a-now", "d-now"})
	check(t, "DueInvocations a millisecond later", callbackIDs(e.dueInvocations(now.Add(time.Millisecond), 0)),
		[]string{"a-zero", "d-zero", "d-old", "a-tie", "d-past", "d-tie", "a-past", "a-now", "d-now", "d-soon"})
	check(t, "DueInvocations earlier", callbackIDs(e.dueInvocations(now.Add(-20*time.Minute), 0)),
		[]string{"a-zero", "d-zero", "d-old"})
	check(t, "DueInvocations at the zero time", callbackIDs(e.dueInvocations(time.Time{}, 0)), []string{"d-zero"})
	check(t, "DueInvocations much later", len(e.dueInvocations(now.Add(72*time.Hour), 0)), 12)

	// Updates move invocations in and out: d-past invoked (awaiting its
	// callback), d-soon retried earlier, a-past given a later deadline.
	e.update(func(tx carillon.Tx) error {
		for _, u := range []*carillon.Invocation{
			mk("d-past", awaiting, now.Add(-10*time.Minute), future),
			mk("d-soon", due, now.Add(-time.Minute), future),
			mk("a-past", awaiting, future, future),
			mk("d-tie", due, now.Add(-40*time.Minute), future),
		} {
			if err := tx.UpdateInvocation(u); err != nil {
				return err
			}
		}
		return tx.DeleteInvocation("a-zero")
	})
	check(t, "DueInvocations after updates", callbackIDs(e.dueInvocations(now, 0)),
		[]string{"d-zero", "d-tie", "d-old", "a-tie", "d-soon", "d-now"})
	check(t, "DueInvocations with none due", e.dueInvocations(time.Time{}.Add(-time.Hour), 0), []carillon.Invocation{})
}

// testFlowCascades: what deleting a channel, an AppInstance or a flow
// does to flows and invocations.
func testFlowCascades(e *env) {
	t := e.t
	siblings := []string{appA + "d", appA + "-d"}
	apps := append([]string{appA}, siblings...)
	for _, app := range apps {
		e.create(newApp(app), newFlow(app, "f1"), newFlow(app, "f2"))
		for _, id := range []string{"c1", "c2", "c1-x"} {
			c := newChannel(app, id)
			c.FlowARN = flowARN(app, "f1")
			e.create(c)
			for _, m := range []string{"m1", "m2"} {
				inv := newInvocation(c.ARN, m, c.ARN+"/"+m)
				inv.FlowARN = c.FlowARN
				e.create(inv)
			}
		}
	}
	cb := func(app, channel, m string) string { return channelARN(app, channel) + "/" + m }
	allDue := func() []string {
		t.Helper()
		ids := callbackIDs(e.dueInvocations(Start, 0))
		slices.Sort(ids)
		return ids
	}
	var want []string
	for _, app := range apps {
		for _, id := range []string{"c1", "c2", "c1-x"} {
			want = append(want, cb(app, id, "m1"), cb(app, id, "m2"))
		}
	}
	slices.Sort(want)
	check(t, "invocations before the deletes", allDue(), want)

	// DeleteChannel deletes the channel's invocations, not those of a
	// channel whose ARN has its ARN as a prefix.
	e.update(func(tx carillon.Tx) error { return tx.DeleteChannel(channelARN(appA, "c1")) })
	e.view(func(tx carillon.Tx) error {
		for _, m := range []string{"m1", "m2"} {
			_, err := tx.GetInvocation(cb(appA, "c1", m))
			wantErr(t, "GetInvocation after DeleteChannel", err, carillon.ErrNotFound)
			_, err = tx.GetMessageInvocation(channelARN(appA, "c1"), m)
			wantErr(t, "GetMessageInvocation after DeleteChannel", err, carillon.ErrNotFound)
		}
		return nil
	})
	want = slices.DeleteFunc(want, func(id string) bool { return id == cb(appA, "c1", "m1") || id == cb(appA, "c1", "m2") })
	check(t, "invocations after DeleteChannel", allDue(), want)
	// Recreated, the channel holds no message.
	e.create(newChannel(appA, "c1"))
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetMessageInvocation(channelARN(appA, "c1"), "m1")
		wantErr(t, "GetMessageInvocation in a recreated channel", err, carillon.ErrNotFound)
		return nil
	})

	// DeleteChannelFlow deletes the flow only: its channels keep naming
	// it and its invocations stay.
	f1 := flowARN(appA, "f1")
	e.update(func(tx carillon.Tx) error { return tx.DeleteChannelFlow(f1) })
	check(t, "invocations after DeleteChannelFlow", allDue(), want)
	check(t, "ListChannelsWithFlow after DeleteChannelFlow", keys(read(e, func(tx carillon.Tx) ([]carillon.Channel, error) {
		return tx.ListChannelsWithFlow(f1, carillon.Page{})
	}), channelKey), []string{channelARN(appA, "c1-x"), channelARN(appA, "c2")})
	check(t, "GetChannel after DeleteChannelFlow", read(e, func(tx carillon.Tx) (*carillon.Channel, error) {
		return tx.GetChannel(channelARN(appA, "c2"))
	}).FlowARN, f1)
	check(t, "ListChannelFlows after DeleteChannelFlow", keys(read(e, func(tx carillon.Tx) ([]carillon.ChannelFlow, error) {
		return tx.ListChannelFlows(appA, carillon.Page{})
	}), flowKey), []string{flowARN(appA, "f2")})

	// DeleteAppInstance deletes its flows and its channels' invocations,
	// not those of AppInstances whose ARN has its ARN as a prefix.
	beforeFlows := map[string][]carillon.ChannelFlow{}
	for _, app := range siblings {
		beforeFlows[app] = read(e, func(tx carillon.Tx) ([]carillon.ChannelFlow, error) {
			return tx.ListChannelFlows(app, carillon.Page{})
		})
	}
	e.update(func(tx carillon.Tx) error { return tx.DeleteAppInstance(appA) })
	want = slices.DeleteFunc(want, func(id string) bool {
		return id == cb(appA, "c2", "m1") || id == cb(appA, "c2", "m2") || id == cb(appA, "c1-x", "m1") || id == cb(appA, "c1-x", "m2")
	})
	check(t, "invocations after DeleteAppInstance", allDue(), want)
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetChannelFlow(flowARN(appA, "f2"))
		wantErr(t, "GetChannelFlow after DeleteAppInstance", err, carillon.ErrNotFound)
		_, err = tx.GetMessageInvocation(channelARN(appA, "c2"), "m1")
		wantErr(t, "GetMessageInvocation after DeleteAppInstance", err, carillon.ErrNotFound)
		flows, err := tx.ListChannelFlows(appA, carillon.Page{})
		noErr(t, "ListChannelFlows", err)
		check(t, "ListChannelFlows after DeleteAppInstance", flows, []carillon.ChannelFlow{})
		chs, err := tx.ListChannelsWithFlow(f1, carillon.Page{})
		noErr(t, "ListChannelsWithFlow", err)
		check(t, "ListChannelsWithFlow after DeleteAppInstance", chs, []carillon.Channel{})
		for _, app := range siblings {
			flows, err := tx.ListChannelFlows(app, carillon.Page{})
			noErr(t, "ListChannelFlows", err)
			check(t, "flows of "+app+" after DeleteAppInstance", flows, beforeFlows[app])
		}
		return nil
	})

	// A new AppInstance with the same ARN has no flows.
	e.create(newApp(appA))
	check(t, "flows of the new AppInstance", read(e, func(tx carillon.Tx) ([]carillon.ChannelFlow, error) {
		return tx.ListChannelFlows(appA, carillon.Page{})
	}), []carillon.ChannelFlow{})
}

func testFlowReadOnly(e *env) {
	t := e.t
	ch := channelARN(appA, "c1")
	f := newFlow(appA, "f1")
	inv := newInvocation(ch, "m1", "cb1")
	e.create(newApp(appA), f, newChannel(appA, "c1"), inv)

	writes := map[string]func(tx carillon.Tx) error{
		"CreateChannelFlow": func(tx carillon.Tx) error { return tx.CreateChannelFlow(newFlow(appA, "f2")) },
		"UpdateChannelFlow": func(tx carillon.Tx) error {
			u := *f
			u.Name = "renamed"
			return tx.UpdateChannelFlow(&u)
		},
		"DeleteChannelFlow": func(tx carillon.Tx) error { return tx.DeleteChannelFlow(f.ARN) },
		"CreateInvocation":  func(tx carillon.Tx) error { return tx.CreateInvocation(newInvocation(ch, "m2", "cb2")) },
		"UpdateInvocation": func(tx carillon.Tx) error {
			u := *inv
			u.State = carillon.InvocationAwaiting
			return tx.UpdateInvocation(&u)
		},
		"DeleteInvocation": func(tx carillon.Tx) error { return tx.DeleteInvocation(inv.CallbackID) },
	}
	e.view(func(tx carillon.Tx) error {
		for name, write := range writes {
			wantErr(t, name+" in a View", write(tx), carillon.ErrReadOnly)
		}
		return nil
	})
	check(t, "the flow after writes in a View", e.getFlow(f.ARN), f)
	check(t, "the invocation after writes in a View", e.getInvocation(inv.CallbackID), inv)
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetChannelFlow(flowARN(appA, "f2"))
		wantErr(t, "GetChannelFlow of a flow created in a View", err, carillon.ErrNotFound)
		_, err = tx.GetInvocation("cb2")
		wantErr(t, "GetInvocation of an invocation created in a View", err, carillon.ErrNotFound)
		return nil
	})
}

// testFlowGoesOnAfterError: ErrExists and ErrNotFound of the flow methods
// leave the transaction usable too.
func testFlowGoesOnAfterError(e *env) {
	t := e.t
	ch := channelARN(appA, "c1")
	e.create(newApp(appA), newFlow(appA, "f1"), newChannel(appA, "c1"), newInvocation(ch, "m1", "cb1"))
	e.update(func(tx carillon.Tx) error {
		if err := tx.CreateChannelFlow(newFlow(appA, "f2")); err != nil {
			return err
		}
		missing := channelARN(appA, "nope")
		wantErr(t, "CreateChannelFlow of a taken ARN", tx.CreateChannelFlow(newFlow(appA, "f1")), carillon.ErrExists)
		wantErr(t, "CreateChannelFlow of a missing AppInstance", tx.CreateChannelFlow(newFlow(appB, "f1")), carillon.ErrNotFound)
		wantErr(t, "UpdateChannelFlow of a missing one", tx.UpdateChannelFlow(newFlow(appA, "nope")), carillon.ErrNotFound)
		wantErr(t, "DeleteChannelFlow of a missing one", tx.DeleteChannelFlow(flowARN(appA, "nope")), carillon.ErrNotFound)
		wantErr(t, "CreateInvocation of a taken CallbackID", tx.CreateInvocation(newInvocation(ch, "m2", "cb1")), carillon.ErrExists)
		wantErr(t, "CreateInvocation of a held message", tx.CreateInvocation(newInvocation(ch, "m1", "cb2")), carillon.ErrExists)
		wantErr(t, "CreateInvocation in a missing channel", tx.CreateInvocation(newInvocation(missing, "m1", "cb2")), carillon.ErrNotFound)
		wantErr(t, "UpdateInvocation of a missing one", tx.UpdateInvocation(newInvocation(ch, "m1", "nope")), carillon.ErrNotFound)
		wantErr(t, "DeleteInvocation of a missing one", tx.DeleteInvocation("nope"), carillon.ErrNotFound)
		_, err := tx.GetMessageInvocation(ch, "nope")
		wantErr(t, "GetMessageInvocation of a message not held", err, carillon.ErrNotFound)
		return tx.CreateInvocation(newInvocation(ch, "m2", "cb2"))
	})
	check(t, "flows written around the errors", keys(read(e, func(tx carillon.Tx) ([]carillon.ChannelFlow, error) {
		return tx.ListChannelFlows(appA, carillon.Page{})
	}), flowKey), []string{flowARN(appA, "f1"), flowARN(appA, "f2")})
	check(t, "invocations written around the errors", callbackIDs(e.dueInvocations(Start, 0)), []string{"cb1", "cb2"})
}
