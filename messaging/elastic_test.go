package messaging

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/carillonhq/carillon"
)

// elasticSim is a channel's sub-channels and who is in each, driven by the
// plans of planJoin and planMerges as the service carries them out.
type elasticSim struct {
	t      *testing.T
	r      elasticRules
	subs   []population        // in ID order, as the store lists them
	in     map[string][]string // sub-channel → its members
	of     map[string]string   // member → its sub-channel
	nextID int
	joined int
	opened int
}

func newElasticSim(t *testing.T, r elasticRules) *elasticSim {
	// An elastic channel starts with one sub-channel.
	s := &elasticSim{t: t, r: r, in: map[string][]string{}, of: map[string]string{}}
	s.open(s.newID())
	return s
}

// newID hands out IDs in increasing order, as time-ordered UUIDs are.
func (s *elasticSim) newID() string {
	s.nextID++
	return fmt.Sprintf("s%04d", s.nextID)
}

func (s *elasticSim) open(id string) {
	s.opened++
	s.subs = append(s.subs, population{id: id})
	s.in[id] = []string{}
}

func (s *elasticSim) index(id string) int {
	return slices.IndexFunc(s.subs, func(p population) bool { return p.id == id })
}

// move moves n members of from to to, the first ones, as the service
// moves the first by ARN.
func (s *elasticSim) move(from, to string, n int) error {
	switch {
	case from == to:
		return fmt.Errorf("a transfer from %s to itself", from)
	case n <= 0:
		return fmt.Errorf("a transfer of %d members", n)
	case s.index(from) < 0 || s.index(to) < 0:
		return fmt.Errorf("a transfer between %s and %s, not both open", from, to)
	case len(s.in[from]) < n:
		return fmt.Errorf("a transfer of %d members out of %s, which has %d", n, from, len(s.in[from]))
	}
	moved := s.in[from][:n]
	s.in[from] = s.in[from][n:]
	for _, m := range moved {
		s.of[m] = to
	}
	s.in[to] = append(s.in[to], moved...)
	s.subs[s.index(from)].n -= n
	s.subs[s.index(to)].n += n
	return nil
}

// join adds a member; it reports whether the plan let it in.
func (s *elasticSim) join() (bool, error) {
	before := slices.Clone(s.subs)
	p, ok := planJoin(s.r, s.subs, s.newID())
	if !ok {
		for _, sub := range s.subs {
			if sub.n < s.r.target {
				return false, fmt.Errorf("join refused while %s has %d of %d", sub.id, sub.n, s.r.target)
			}
		}
		if len(s.subs) < s.r.maxSubs {
			return false, fmt.Errorf("join refused with %d of %d sub-channels", len(s.subs), s.r.maxSubs)
		}
		return false, nil
	}
	if p.open != "" {
		if len(p.moves) > 0 && p.open != p.into {
			return false, fmt.Errorf("scale-out into %s, joiner into %s", p.open, p.into)
		}
		for _, sub := range before {
			if sub.n < s.r.target {
				return false, fmt.Errorf("opened %s while %s had room (%d of %d)", p.open, sub.id, sub.n, s.r.target)
			}
		}
		s.open(p.open)
	} else {
		// Joins fill the fullest sub-channel that has room.
		i := s.index(p.into)
		if i < 0 {
			return false, fmt.Errorf("joiner into %s, which is not open", p.into)
		}
		for _, sub := range before {
			if sub.n < s.r.target && sub.n > before[i].n {
				return false, fmt.Errorf("joiner into %s (%d) rather than the fuller %s (%d)", p.into, before[i].n, sub.id, sub.n)
			}
		}
	}
	for _, mv := range p.moves {
		if mv.to != p.open {
			return false, fmt.Errorf("a scale-out transfer into %s, not the new %s", mv.to, p.open)
		}
		if err := s.move(mv.from, mv.to, mv.n); err != nil {
			return false, err
		}
	}
	s.joined++
	m := fmt.Sprint("m", s.joined)
	s.of[m] = p.into
	s.in[p.into] = append(s.in[p.into], m)
	s.subs[s.index(p.into)].n++
	if p.open != "" && len(before) > 0 {
		// After a scale-out every sub-channel is within one member of
		// the others, and none is below the minimum.
		lo, hi := s.subs[0].n, s.subs[0].n
		for _, sub := range s.subs {
			lo, hi = min(lo, sub.n), max(hi, sub.n)
		}
		if hi-lo > 1 || lo < s.r.minimum {
			return false, fmt.Errorf("after a scale-out the sub-channels hold %v (minimum %d)", s.subs, s.r.minimum)
		}
	}
	return true, nil
}

// leave removes a member picked by rnd and carries out the merges.
func (s *elasticSim) leave(rnd *rand.Rand) error {
	members := make([]string, 0, len(s.of))
	for m := range s.of {
		members = append(members, m)
	}
	slices.Sort(members)
	m := members[rnd.IntN(len(members))]
	sub := s.of[m]
	delete(s.of, m)
	s.in[sub] = slices.DeleteFunc(s.in[sub], func(x string) bool { return x == m })
	s.subs[s.index(sub)].n--
	for _, mv := range planMerges(s.r, s.subs) {
		i := s.index(mv.from)
		if i < 0 {
			return fmt.Errorf("a merge of %s, which is not open", mv.from)
		}
		if s.subs[i].n >= s.r.minimum {
			return fmt.Errorf("a merge of %s, which has %d, not below the minimum %d", mv.from, s.subs[i].n, s.r.minimum)
		}
		if mv.n != s.subs[i].n {
			return fmt.Errorf("a merge of %d of the %d members of %s", mv.n, s.subs[i].n, mv.from)
		}
		if mv.n > 0 {
			if err := s.move(mv.from, mv.to, mv.n); err != nil {
				return err
			}
		} else if s.index(mv.to) < 0 || mv.to == mv.from {
			return fmt.Errorf("a merge of %s into %s", mv.from, mv.to)
		}
		s.subs = slices.Delete(s.subs, i, i+1)
		delete(s.in, mv.from)
	}
	// Nothing is left to merge.
	if f, d := nextMerge(s.r, s.subs); f >= 0 {
		return fmt.Errorf("after the merges %s (%d) could still merge into %s (%d)", s.subs[f].id, s.subs[f].n, s.subs[d].id, s.subs[d].n)
	}
	return nil
}

// check verifies the invariants of the balancing.
func (s *elasticSim) check() error {
	if len(s.subs) == 0 || len(s.subs) > s.r.maxSubs {
		return fmt.Errorf("%d sub-channels, want 1 to %d", len(s.subs), s.r.maxSubs)
	}
	seen := map[string]string{}
	total := 0
	for _, sub := range s.subs {
		// The documented slack above the target is zero.
		if sub.n > s.r.target {
			return fmt.Errorf("%s has %d members, over the target %d", sub.id, sub.n, s.r.target)
		}
		if sub.n != len(s.in[sub.id]) {
			return fmt.Errorf("%s counts %d members and has %d", sub.id, sub.n, len(s.in[sub.id]))
		}
		for _, m := range s.in[sub.id] {
			if other, dup := seen[m]; dup {
				return fmt.Errorf("%s is in %s and %s", m, other, sub.id)
			}
			seen[m] = sub.id
			if s.of[m] != sub.id {
				return fmt.Errorf("%s is in %s, recorded in %s", m, sub.id, s.of[m])
			}
		}
		total += sub.n
	}
	if total != len(s.of) || len(s.in) != len(s.subs) {
		return fmt.Errorf("%d members in the sub-channels, %d in the channel; %d member lists for %d sub-channels", total, len(s.of), len(s.in), len(s.subs))
	}
	if !slices.IsSortedFunc(s.subs, func(a, b population) int {
		switch {
		case a.id < b.id:
			return -1
		case a.id > b.id:
			return 1
		}
		return 0
	}) {
		return fmt.Errorf("sub-channels out of ID order: %v", s.subs)
	}
	return nil
}

// TestElasticBalancingProperty drives the balancing with thousands of
// random sequences of joins and leaves over random configurations and
// checks, after every operation: no sub-channel holds more than
// TargetMembershipsPerSubChannel members (no slack), there are between 1
// and MaximumSubChannels sub-channels, every member is in exactly one,
// joins are refused only when every sub-channel is full and no other may
// be opened, and after a leave no merge the rules call for is left
// undone.
func TestElasticBalancingProperty(t *testing.T) {
	const seed = 20260102
	rnd := rand.New(rand.NewPCG(seed, 0))
	stats := map[string]int{}
	for run := range 3000 {
		r := rulesOf(elasticConfigT{max: 2 + rnd.IntN(7), target: 2 + rnd.IntN(11), pct: 1 + rnd.IntN(40)}.config())
		sim := newElasticSim(t, r)
		joinBias := 0.3 + 0.5*rnd.Float64()
		ops := rnd.IntN(400)
		for op := range ops {
			var err error
			if len(sim.of) == 0 || rnd.Float64() < joinBias {
				var ok bool
				if ok, err = sim.join(); err == nil && !ok {
					stats["refused joins"]++
				}
			} else {
				before := len(sim.subs)
				err = sim.leave(rnd)
				stats["merges"] += before - len(sim.subs)
			}
			if err == nil {
				err = sim.check()
			}
			if err != nil {
				t.Fatalf("seed %d, run %d (%+v), operation %d: %v", seed, run, r, op, err)
			}
			stats["max sub-channels"] = max(stats["max sub-channels"], len(sim.subs))
		}
		stats["operations"] += ops
		stats["sub-channels opened"] += sim.opened - 1
	}
	// The sequences exercised what the properties are about.
	for _, k := range []string{"refused joins", "merges", "sub-channels opened"} {
		if stats[k] < 100 {
			t.Errorf("only %d %s over all runs: %v", stats[k], k, stats)
		}
	}
	t.Logf("%v", stats)
}

// elasticConfigT builds an ElasticConfig for the tests.
type elasticConfigT struct{ max, target, pct int }

func (c elasticConfigT) config() *carillon.ElasticConfig {
	return &carillon.ElasticConfig{MaximumSubChannels: c.max, TargetMembershipsPerSubChannel: c.target, MinimumMembershipPercentage: c.pct}
}

func TestPlanJoinAndMergesExamples(t *testing.T) {
	r := rulesOf(elasticConfigT{max: 3, target: 4, pct: 40}.config()) // minimum 2
	if r.minimum != 2 {
		t.Fatalf("minimum = %d, want ceil(4 × 40%%) = 2", r.minimum)
	}
	pops := func(ns ...int) []population {
		out := make([]population, len(ns))
		for i, n := range ns {
			out[i] = population{id: fmt.Sprint("s", i+1), n: n}
		}
		return out
	}
	for _, c := range []struct {
		subs []int
		want joinPlan
		ok   bool
	}{
		{nil, joinPlan{open: "new", into: "new"}, true},
		{[]int{0}, joinPlan{into: "s1"}, true},
		{[]int{3, 1, 3}, joinPlan{into: "s1"}, true},
		{[]int{4, 1, 3}, joinPlan{into: "s3"}, true},
		// 4 + 4 + the joiner over 3: 3, 3, 3.
		{[]int{4, 4}, joinPlan{open: "new", into: "new", moves: []transfer{{"s1", "new", 1}, {"s2", "new", 1}}}, true},
		{[]int{4, 4, 4}, joinPlan{}, false},
	} {
		got, ok := planJoin(r, pops(c.subs...), "new")
		if ok != c.ok || !equalJoinPlans(got, c.want) {
			t.Errorf("planJoin(%v) = %+v, %v; want %+v, %v", c.subs, got, ok, c.want, c.ok)
		}
	}
	r5 := rulesOf(elasticConfigT{max: 5, target: 5, pct: 40}.config()) // minimum 2
	// 5 × 4 + 1 over 5: the new one gets 5, the others 4.
	got, _ := planJoin(r5, pops(5, 5, 5, 5), "new")
	want := joinPlan{open: "new", into: "new", moves: []transfer{{"s1", "new", 1}, {"s2", "new", 1}, {"s3", "new", 1}, {"s4", "new", 1}}}
	if !equalJoinPlans(got, want) {
		t.Errorf("planJoin(5,5,5,5) = %+v, want %+v", got, want)
	}
	// 5 × 2 + 1 over 3: 4, 4, 3; the new one and the first keep 4.
	got, _ = planJoin(r5, pops(5, 5), "new")
	want = joinPlan{open: "new", into: "new", moves: []transfer{{"s1", "new", 1}, {"s2", "new", 2}}}
	if !equalJoinPlans(got, want) {
		t.Errorf("planJoin(5,5,5,5) = %+v, want %+v", got, want)
	}
	for _, c := range []struct {
		subs []int
		want []transfer
	}{
		{[]int{1}, nil},       // the last sub-channel stays
		{[]int{2, 2, 3}, nil}, // none below the minimum
		{[]int{1, 4}, nil},    // nobody can take s1's member
		{[]int{1, 3, 2}, []transfer{{"s1", "s2", 1}}}, // into the fullest that can take it
		// The empty s1 goes into the fullest, s3; then s2 can go nowhere.
		{[]int{0, 1, 4}, []transfer{{"s1", "s3", 0}}},
	} {
		if got := planMerges(r, pops(c.subs...)); !slices.Equal(got, c.want) {
			t.Errorf("planMerges(%v) = %v, want %v", c.subs, got, c.want)
		}
	}
	// Two merges in a row: s2 (1) into s1 (2), then s3 (1) into s1 (3).
	if got, want := planMerges(r, pops(2, 1, 1)), []transfer{{"s2", "s1", 1}, {"s3", "s1", 1}}; !slices.Equal(got, want) {
		t.Errorf("planMerges(2,1,1) = %v, want %v", got, want)
	}
}

func equalJoinPlans(a, b joinPlan) bool {
	return a.open == b.open && a.into == b.into && slices.Equal(a.moves, b.moves)
}
