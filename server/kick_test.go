package server

import (
	"context"
	"errors"
	"testing"

	"github.com/carillonhq/carillon"
)

// fakeStore runs an Update's function on a transaction whose invocation
// writes succeed, and fails the Update when the function does.
type fakeStore struct{ carillon.Store }

type fakeTx struct{ carillon.Tx }

func (fakeTx) CreateInvocation(*carillon.Invocation) error { return nil }
func (fakeTx) UpdateInvocation(*carillon.Invocation) error { return nil }

func (fakeStore) Update(_ context.Context, fn func(carillon.Tx) error) error { return fn(fakeTx{}) }

// A commit wakes the flow runner only when it wrote an invocation; a
// failed Update wakes nothing.
func TestKickingStoreWakesTheRunnerForInvocations(t *testing.T) {
	var kicks []bool
	k := kickingStore{Store: fakeStore{}, kick: func(invocations bool) { kicks = append(kicks, invocations) }}
	ctx := context.Background()
	updates := []func(carillon.Tx) error{
		func(carillon.Tx) error { return nil },
		func(tx carillon.Tx) error { return tx.CreateInvocation(&carillon.Invocation{}) },
		func(tx carillon.Tx) error { return tx.UpdateInvocation(&carillon.Invocation{}) },
		func(tx carillon.Tx) error {
			_ = tx.CreateInvocation(&carillon.Invocation{})
			return errors.New("rolled back")
		},
	}
	for _, fn := range updates {
		_ = k.Update(ctx, fn)
	}
	if want := []bool{false, true, true}; len(kicks) != len(want) || kicks[0] != want[0] || kicks[1] != want[1] || kicks[2] != want[2] {
		t.Fatalf("kicks %v, want %v", kicks, want)
	}
}
