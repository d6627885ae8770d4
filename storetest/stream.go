package storetest

// The conformance of StreamTx. Beyond what streaming.go (at the module root) documents, the
// suite checks these choices, which the exporter relies on:
//
//   - Replacing the configurations keeps the cursor of a stream that stays
//     configured where it was (whatever the new Since), so that a Put that
//     changes nothing about a stream loses none of its backlog.
//   - A cursor never moves back.
//   - DeleteAppInstance deletes the AppInstance's configurations and
//     cursors, and only its.

import (
	"github.com/carillonhq/carillon"
)

const (
	streamA = "arn:aws:kinesis:us-east-1:111122223333:stream/chime-messaging-a"
	streamB = "arn:aws:kinesis:us-east-1:111122223333:stream/chime-messaging-b"
)

func streamConfig(app, dataType, resource string, since int64) carillon.StreamingConfiguration {
	return carillon.StreamingConfiguration{AppInstanceARN: app, DataType: dataType, ResourceARN: resource, Since: since}
}

func testStreamingConfigurations(e *env) {
	t := e.t
	e.create(newApp(appA), newApp(appB))

	e.view(func(tx carillon.Tx) error {
		got, err := tx.StreamingConfigurations(appA)
		noErr(t, "StreamingConfigurations of an AppInstance without any", err)
		check(t, "configurations before any Put", got, []carillon.StreamingConfiguration{})
		return nil
	})
	err := e.write(func(tx carillon.Tx) error {
		return tx.PutStreamingConfigurations(appA+"-missing", []carillon.StreamingConfiguration{
			streamConfig(appA+"-missing", carillon.StreamChannel, streamA, 0),
		})
	})
	wantErr(t, "PutStreamingConfigurations of a missing AppInstance", err, carillon.ErrNotFound)

	// Both data types to one stream: one cursor, at the lower Since.
	both := []carillon.StreamingConfiguration{
		streamConfig(appA, carillon.StreamChannelMessage, streamA, 7),
		streamConfig(appA, carillon.StreamChannel, streamA, 5),
	}
	e.update(func(tx carillon.Tx) error { return tx.PutStreamingConfigurations(appA, both) })
	e.update(func(tx carillon.Tx) error {
		return tx.PutStreamingConfigurations(appB, []carillon.StreamingConfiguration{streamConfig(appB, carillon.StreamChannel, streamB, 9)})
	})
	e.view(func(tx carillon.Tx) error {
		got, err := tx.StreamingConfigurations(appA)
		noErr(t, "StreamingConfigurations", err)
		check(t, "configurations, by data type", got, []carillon.StreamingConfiguration{both[1], both[0]})
		all, err := tx.AllStreamingConfigurations()
		noErr(t, "AllStreamingConfigurations", err)
		check(t, "every configuration", all, []carillon.StreamingConfiguration{
			both[1], both[0], streamConfig(appB, carillon.StreamChannel, streamB, 9),
		})
		cursors, err := tx.StreamCursors()
		noErr(t, "StreamCursors", err)
		check(t, "cursors", cursors, []carillon.StreamCursor{
			{AppInstanceARN: appA, ResourceARN: streamA, Seq: 5},
			{AppInstanceARN: appB, ResourceARN: streamB, Seq: 9},
		})
		return nil
	})

	// Cursors move forward only.
	e.update(func(tx carillon.Tx) error {
		noErr(t, "AdvanceStreamCursor", tx.AdvanceStreamCursor(appA, streamA, 20))
		noErr(t, "AdvanceStreamCursor back", tx.AdvanceStreamCursor(appA, streamA, 10))
		noErr(t, "AdvanceStreamCursor to where it is", tx.AdvanceStreamCursor(appA, streamA, 20))
		wantErr(t, "AdvanceStreamCursor of a stream not configured", tx.AdvanceStreamCursor(appA, streamB, 30), carillon.ErrNotFound)
		return nil
	})
	cursorOf := func(app, resource string) (int64, bool) {
		cs := read(e, func(tx carillon.Tx) ([]carillon.StreamCursor, error) { return tx.StreamCursors() })
		for _, c := range cs {
			if c.AppInstanceARN == app && c.ResourceARN == resource {
				return c.Seq, true
			}
		}
		return 0, false
	}
	if seq, _ := cursorOf(appA, streamA); seq != 20 {
		t.Errorf("cursor at %d after advancing to 20 then 10, want 20", seq)
	}

	// Replacing: the stream that stays keeps its cursor; a new stream
	// gets one at its Since; a stream no longer named loses its cursor.
	e.update(func(tx carillon.Tx) error {
		return tx.PutStreamingConfigurations(appA, []carillon.StreamingConfiguration{
			streamConfig(appA, carillon.StreamChannelMessage, streamA, 30),
			streamConfig(appA, carillon.StreamChannel, streamB, 31),
		})
	})
	if seq, ok := cursorOf(appA, streamA); !ok || seq != 20 {
		t.Errorf("cursor of a stream that stays configured: %d (%v), want 20", seq, ok)
	}
	if seq, ok := cursorOf(appA, streamB); !ok || seq != 31 {
		t.Errorf("cursor of a newly configured stream: %d (%v), want 31", seq, ok)
	}
	e.update(func(tx carillon.Tx) error {
		return tx.PutStreamingConfigurations(appA, []carillon.StreamingConfiguration{streamConfig(appA, carillon.StreamChannel, streamB, 40)})
	})
	if _, ok := cursorOf(appA, streamA); ok {
		t.Errorf("the cursor of a stream no longer configured is kept")
	}
	if seq, _ := cursorOf(appA, streamB); seq != 31 {
		t.Errorf("cursor of streamB %d after a Put naming it again, want 31", seq)
	}

	// Delete: the AppInstance's configurations and cursors go; deleting
	// again is no error; the other AppInstance keeps its.
	e.update(func(tx carillon.Tx) error { return tx.DeleteStreamingConfigurations(appA) })
	e.update(func(tx carillon.Tx) error { return tx.DeleteStreamingConfigurations(appA) })
	e.view(func(tx carillon.Tx) error {
		got, err := tx.StreamingConfigurations(appA)
		noErr(t, "StreamingConfigurations after Delete", err)
		check(t, "configurations after Delete", got, []carillon.StreamingConfiguration{})
		cursors, err := tx.StreamCursors()
		noErr(t, "StreamCursors", err)
		check(t, "cursors after Delete", cursors, []carillon.StreamCursor{{AppInstanceARN: appB, ResourceARN: streamB, Seq: 9}})
		return nil
	})
}

func testStreamingCascade(e *env) {
	t := e.t
	// appA+"d" shares appA's ARN as a prefix.
	e.create(newApp(appA), newApp(appA+"d"))
	for _, app := range []string{appA, appA + "d"} {
		e.update(func(tx carillon.Tx) error {
			return tx.PutStreamingConfigurations(app, []carillon.StreamingConfiguration{streamConfig(app, carillon.StreamChannel, streamA, 3)})
		})
	}
	e.update(func(tx carillon.Tx) error { return tx.DeleteAppInstance(appA) })
	e.view(func(tx carillon.Tx) error {
		all, err := tx.AllStreamingConfigurations()
		noErr(t, "AllStreamingConfigurations", err)
		check(t, "configurations after DeleteAppInstance", all, []carillon.StreamingConfiguration{streamConfig(appA+"d", carillon.StreamChannel, streamA, 3)})
		cursors, err := tx.StreamCursors()
		noErr(t, "StreamCursors", err)
		check(t, "cursors after DeleteAppInstance", cursors, []carillon.StreamCursor{{AppInstanceARN: appA + "d", ResourceARN: streamA, Seq: 3}})
		return nil
	})
}

func testStreamingReadOnly(e *env) {
	t := e.t
	e.create(newApp(appA))
	e.view(func(tx carillon.Tx) error {
		wantErr(t, "PutStreamingConfigurations in a View",
			tx.PutStreamingConfigurations(appA, []carillon.StreamingConfiguration{streamConfig(appA, carillon.StreamChannel, streamA, 0)}), carillon.ErrReadOnly)
		wantErr(t, "DeleteStreamingConfigurations in a View", tx.DeleteStreamingConfigurations(appA), carillon.ErrReadOnly)
		wantErr(t, "AdvanceStreamCursor in a View", tx.AdvanceStreamCursor(appA, streamA, 1), carillon.ErrReadOnly)
		return nil
	})
}
