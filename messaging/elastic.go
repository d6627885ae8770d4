package messaging

import (
	"context"
	"slices"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api"
	"github.com/carillonhq/carillon/api/messagingapi"
	"github.com/carillonhq/carillon/internal/paging"
)

// Elastic channels spread their members over sub-channels (docs/semantics.md,
// "Elastic channels";
// docs/compatibility.md, rulings 27 to 31). This file holds the balancing,
// as pure functions of the sub-channels' populations, and what carries a
// plan out in the store.
//
// The balancing, where AWS documents the idea and not the numbers:
//
//   - A sub-channel never holds more than TargetMembershipsPerSubChannel
//     members: the slack above the target is zero. Moderators are not
//     counted (they are never placed or moved).
//   - A joiner goes to the fullest sub-channel that is not full (joins
//     fill one sub-channel until it is full); ties go to the first in ID
//     order.
//   - When every sub-channel is full, a join opens a new one (SCALE_OUT),
//     unless there are MaximumSubChannels already: then the join answers
//     ResourceLimitExceededException. The new sub-channel takes members
//     from the others (the first by member ARN) until all are within one
//     member of each other, the joiner counted in the new one, which gets
//     the larger share when they cannot be equal.
//   - After a member leaves, a sub-channel below the minimum
//     (MinimumMembershipPercentage of the target, rounded up) whose members
//     another sub-channel can take without going over the target merges
//     into it and is deleted, with its messages (SCALE_IN). The emptiest
//     such sub-channel goes first, into the fullest that can take it, and
//     merging goes on while one can. The last sub-channel is never
//     deleted.

// elasticRules are an ElasticChannelConfiguration in the balancing's
// terms.
type elasticRules struct {
	target  int // members a sub-channel holds at most
	minimum int // below it a sub-channel merges, when it can
	maxSubs int // sub-channels at most
}

func rulesOf(c *carillon.ElasticConfig) elasticRules {
	return elasticRules{
		target:  c.TargetMembershipsPerSubChannel,
		minimum: (c.TargetMembershipsPerSubChannel*c.MinimumMembershipPercentage + 99) / 100,
		maxSubs: c.MaximumSubChannels,
	}
}

// population is a sub-channel and the number of members placed in it.
type population struct {
	id string
	n  int
}

// transfer moves n members from one sub-channel to another.
type transfer struct {
	from, to string
	n        int
}

// joinPlan is where a joining member goes.
type joinPlan struct {
	// open is the sub-channel opened for the join, "" for none.
	open string
	// moves fill the opened sub-channel from the full ones.
	moves []transfer
	// into is the sub-channel the joiner goes to.
	into string
}

// planJoin places a joiner among subs, in ID order, opening newID if it
// must. ok is false when every sub-channel is full and no other may be
// opened.
func planJoin(r elasticRules, subs []population, newID string) (p joinPlan, ok bool) {
	best := -1
	for i, s := range subs {
		if s.n < r.target && (best < 0 || s.n > subs[best].n) {
			best = i
		}
	}
	if best >= 0 {
		return joinPlan{into: subs[best].id}, true
	}
	if len(subs) >= r.maxSubs {
		return joinPlan{}, false
	}
	// SCALE_OUT: k sub-channels share the members and the joiner, base
	// each and one more for the first extra of them: the new one first,
	// then the others in order.
	total := 1
	for _, s := range subs {
		total += s.n
	}
	k := len(subs) + 1
	base, extra := total/k, total%k
	p = joinPlan{open: newID, into: newID}
	for i, s := range subs {
		keep := base
		if i+1 < extra {
			keep++
		}
		if s.n > keep {
			p.moves = append(p.moves, transfer{from: s.id, to: newID, n: s.n - keep})
		}
	}
	return p, true
}

// planMerges returns the merges (SCALE_IN) that subs, in ID order, call
// for, in the order they are to be made: each transfer empties its from
// into its to, and from is then deleted.
func planMerges(r elasticRules, subs []population) []transfer {
	pops := slices.Clone(subs)
	var out []transfer
	for {
		from, into := nextMerge(r, pops)
		if from < 0 {
			return out
		}
		out = append(out, transfer{from: pops[from].id, to: pops[into].id, n: pops[from].n})
		pops[into].n += pops[from].n
		pops = slices.Delete(pops, from, from+1)
	}
}

// nextMerge finds the emptiest sub-channel below the minimum that another
// can take, and the fullest one that can; -1, -1 when there is none.
func nextMerge(r elasticRules, pops []population) (from, into int) {
	order := make([]int, len(pops))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return pops[a].n - pops[b].n })
	for _, f := range order {
		if pops[f].n >= r.minimum {
			break
		}
		into := -1
		for j, d := range pops {
			if j != f && d.n+pops[f].n <= r.target && (into < 0 || d.n > pops[into].n) {
				into = j
			}
		}
		if into >= 0 {
			return f, into
		}
	}
	return -1, -1
}

// eventLeaveSubChannel takes a member moved to another sub-channel out of
// its old sub-channel's audience. It has no audience and is not exported:
// only deliverers read it, for its Member and MemberChange. The
// UPDATE_CHANNEL_MEMBERSHIP that follows it, to the member alone, puts the
// member in the new sub-channel's audience.
const eventLeaveSubChannel = "LEAVE_SUB_CHANNEL"

// reasonSubChannelDeleted is the x-amz-chime-event-reason of the
// DELETE_CHANNEL_MEMBERSHIP a moderator receives when a merge deletes a
// sub-channel it was in (docs/semantics.md, "Elastic channels").
const reasonSubChannelDeleted = "subchannel_DELETED"

// audience is the Event.Channel of the events of a sub-channel, or of the
// channel when sub is "".
func audience(channelARN, sub string) string { return carillon.SubChannelAudience(channelARN, sub) }

// populations reads the sub-channels of an elastic channel, in ID order.
func populations(tx carillon.Tx, ch *carillon.Channel) ([]population, error) {
	var out []population
	page := carillon.Page{Limit: 1000}
	for {
		rows, err := tx.ListSubChannels(ch.ARN, page)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			out = append(out, population{id: r.ID, n: r.Memberships})
		}
		if len(rows) < page.Limit {
			return out, nil
		}
		page.After = rows[len(rows)-1].ID
	}
}

// openSubChannel creates a sub-channel and announces it to the streaming
// export.
func (s *Service) openSubChannel(tx carillon.Tx, ch *carillon.Channel, id string) error {
	if err := tx.CreateSubChannel(&carillon.SubChannel{ChannelARN: ch.ARN, ID: id, Created: tx.Now()}); err != nil {
		return err
	}
	return AnnounceSubChannel(tx, EventCreateSubChannel, ch.ARN, id, 0)
}

// placeMember inserts the membership of a regular member of an elastic
// channel in the sub-channel the balancing picks, opening a sub-channel
// and moving members into it first if it must.
func (s *Service) placeMember(tx carillon.Tx, ch *carillon.Channel, m *carillon.Membership) error {
	pops, err := populations(tx, ch)
	if err != nil {
		return err
	}
	if limit := s.limits.ElasticMembershipsPerChannel; limit > 0 {
		total := 0
		for _, p := range pops {
			total += p.n
		}
		if total >= limit {
			return carillon.Errorf(carillon.ResourceLimitExceeded, "The elastic channel already has the maximum of %d memberships", limit)
		}
	}
	r := rulesOf(ch.Elastic)
	plan, ok := planJoin(r, pops, s.newSubChannelID())
	if !ok {
		return carillon.Errorf(carillon.ResourceLimitExceeded,
			"The elastic channel is full: its %d sub-channels (MaximumSubChannels) have %d members each (TargetMembershipsPerSubChannel)",
			r.maxSubs, r.target)
	}
	if plan.open != "" {
		if err := s.openSubChannel(tx, ch, plan.open); err != nil {
			return err
		}
	}
	for _, mv := range plan.moves {
		if err := moveMembers(tx, ch, mv); err != nil {
			return err
		}
	}
	m.SubChannelID = plan.into
	return tx.CreateMembership(m)
}

// moveMembers moves mv.n regular members, the first by ARN, from one
// sub-channel to another, each told by UPDATE_CHANNEL_MEMBERSHIP.
func moveMembers(tx carillon.Tx, ch *carillon.Channel, mv transfer) error {
	for left := mv.n; left > 0; {
		// Moved members leave the list: every page starts at the top.
		rows, err := tx.ListMemberships(ch.ARN, "", mv.from, carillon.Page{Limit: min(left, 500)})
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		for i := range rows {
			if err := moveMember(tx, ch, &rows[i], mv.to); err != nil {
				return err
			}
		}
		left -= len(rows)
	}
	return nil
}

// moveMember moves one membership to sub-channel to.
func moveMember(tx carillon.Tx, ch *carillon.Channel, m *carillon.Membership, to string) error {
	from := m.SubChannelID
	m.SubChannelID, m.Updated = to, tx.Now()
	if err := tx.UpdateMembership(m); err != nil {
		return err
	}
	if err := tx.AppendEvent(&carillon.Event{
		Type: eventLeaveSubChannel, Channel: audience(ch.ARN, from), Member: m.MemberARN, MemberChange: -1,
		MessageType: MessageTypeSystem,
	}); err != nil {
		return err
	}
	inviterName, err := carillon.NameOf(tx, m.InvitedBy)
	if err != nil {
		return err
	}
	e := &carillon.Event{
		Type: EventUpdateChannelMembership, Channel: audience(ch.ARN, to),
		Recipients: []string{m.MemberARN}, Member: m.MemberARN, MemberChange: +1,
	}
	return emit(tx, e, membershipEventPayload(m, inviterName))
}

// rebalance merges the sub-channels that the balancing says should go,
// after a member left.
func rebalance(tx carillon.Tx, ch *carillon.Channel) error {
	pops, err := populations(tx, ch)
	if err != nil {
		return err
	}
	for _, mv := range planMerges(rulesOf(ch.Elastic), pops) {
		if err := moveMembers(tx, ch, mv); err != nil {
			return err
		}
		if err := dropSubChannel(tx, ch, mv.from); err != nil {
			return err
		}
	}
	return nil
}

// dropSubChannel deletes an emptied sub-channel with its messages. Its
// moderators lose their membership of it, each told by
// DELETE_CHANNEL_MEMBERSHIP with the reason subchannel_DELETED.
func dropSubChannel(tx carillon.Tx, ch *carillon.Channel, id string) error {
	for {
		rows, err := tx.ListSubChannelMemberships(ch.ARN, id, carillon.Page{Limit: 500})
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			break
		}
		for i := range rows {
			if err := leaveSubChannel(tx, ch, &rows[i], reasonSubChannelDeleted, false); err != nil {
				return err
			}
		}
	}
	if err := tx.DeleteSubChannel(ch.ARN, id); err != nil {
		return err
	}
	return AnnounceSubChannel(tx, EventDeleteSubChannel, ch.ARN, id, 0)
}

// joinSubChannel puts a moderator of an elastic channel in one of its
// sub-channels, making its membership of the channel if it has none. A
// moderator already in the sub-channel gets its membership back and
// nothing is announced.
func (s *Service) joinSubChannel(tx carillon.Tx, ch *carillon.Channel, by inviter, memberARN, memberName, sub string) (*carillon.Membership, bool, error) {
	if _, err := tx.GetSubChannel(ch.ARN, sub); isNotFound(err) {
		return nil, false, carillon.Errorf(carillon.NotFound, "The sub-channel %s does not exist in the channel", sub)
	} else if err != nil {
		return nil, false, err
	}
	if m, err := tx.GetSubChannelMembership(ch.ARN, sub, memberARN); err == nil {
		return m, false, nil
	} else if !isNotFound(err) {
		return nil, false, err
	}
	if _, err := tx.GetMembership(ch.ARN, memberARN); isNotFound(err) {
		if err := tx.CreateMembership(&carillon.Membership{
			ChannelARN: ch.ARN, MemberARN: memberARN, Type: membershipDefault, InvitedBy: by.arn,
			Created: tx.Now(), Updated: tx.Now(),
		}); err != nil {
			return nil, false, err
		}
	} else if err != nil {
		return nil, false, err
	}
	m := &carillon.Membership{
		ChannelARN: ch.ARN, MemberARN: memberARN, MemberName: memberName, Type: membershipDefault,
		InvitedBy: by.arn, SubChannelID: sub, Created: tx.Now(), Updated: tx.Now(),
	}
	if err := tx.CreateSubChannelMembership(m); err != nil {
		return nil, false, err
	}
	e := &carillon.Event{
		Type: EventCreateChannelMembership, Channel: audience(ch.ARN, sub),
		Member: memberARN, MemberChange: +1, ToMembers: true,
	}
	return m, true, emit(tx, e, membershipEventPayload(m, by.name))
}

// leaveSubChannel takes a moderator out of one sub-channel, announced to
// the moderator and, with toMembers, to the sub-channel's members. Its
// membership of the channel goes with its last sub-channel.
func leaveSubChannel(tx carillon.Tx, ch *carillon.Channel, m *carillon.Membership, reason string, toMembers bool) error {
	if err := tx.DeleteSubChannelMembership(ch.ARN, m.SubChannelID, m.MemberARN); err != nil {
		return err
	}
	inviterName, err := carillon.NameOf(tx, m.InvitedBy)
	if err != nil {
		return err
	}
	e := &carillon.Event{
		Type: EventDeleteChannelMembership, Channel: audience(ch.ARN, m.SubChannelID), Reason: reason,
		Recipients: []string{m.MemberARN}, Member: m.MemberARN, MemberChange: -1, ToMembers: toMembers,
	}
	if err := emit(tx, e, membershipEventPayload(m, inviterName)); err != nil {
		return err
	}
	rest, err := tx.ListSubChannelMembershipsOf(ch.ARN, m.MemberARN, carillon.Page{Limit: 1})
	if err != nil || len(rest) > 0 {
		return err
	}
	return tx.DeleteMembership(ch.ARN, m.MemberARN)
}

// leaveSubChannels takes a moderator out of every sub-channel it is in,
// and out of the channel.
func leaveSubChannels(tx carillon.Tx, ch *carillon.Channel, memberARN, reason string) error {
	for {
		rows, err := tx.ListSubChannelMembershipsOf(ch.ARN, memberARN, carillon.Page{Limit: 500})
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			break
		}
		for i := range rows {
			if err := leaveSubChannel(tx, ch, &rows[i], reason, true); err != nil {
				return err
			}
		}
	}
	// A membership without sub-channels (none should be left) goes
	// quietly.
	if err := tx.DeleteMembership(ch.ARN, memberARN); err != nil && !isNotFound(err) {
		return err
	}
	return nil
}

// inSubChannel reports whether the actor is in sub-channel sub of its
// elastic channel: placed there, or, as a moderator, joined to it.
func inSubChannel(tx carillon.Tx, a *actor, sub string) (bool, error) {
	return isInSubChannel(tx, a.channel.ARN, a.member, sub)
}

// isInSubChannel: m is the member's membership of the channel, nil for
// none.
func isInSubChannel(tx carillon.Tx, channelARN string, m *carillon.Membership, sub string) (bool, error) {
	switch {
	case m == nil:
		return false, nil
	case m.SubChannelID != "":
		return m.SubChannelID == sub, nil
	}
	_, err := tx.GetSubChannelMembership(channelARN, sub, m.MemberARN)
	if isNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// subChannelArg checks a request's SubChannelId against its channel: on
// an elastic channel required (when required) and naming one of its
// sub-channels (else an error of kind missing); on any other channel
// refused. It returns the ID, "" for none.
func subChannelArg(tx carillon.Tx, ch *carillon.Channel, sub *string, required bool, missing carillon.Kind) (string, error) {
	if ch.Elastic == nil {
		if sub != nil {
			return "", carillon.Errorf(carillon.BadRequest, "SubChannelId applies only to elastic channels")
		}
		return "", nil
	}
	if sub == nil {
		if required {
			return "", carillon.Errorf(carillon.BadRequest, "SubChannelId is required on an elastic channel")
		}
		return "", nil
	}
	if _, err := tx.GetSubChannel(ch.ARN, *sub); isNotFound(err) {
		return "", carillon.Errorf(missing, "The sub-channel %s does not exist in the channel", *sub)
	} else if err != nil {
		return "", err
	}
	return *sub, nil
}

// requireReadSubChannel: the messages and members of a sub-channel are for
// its members, the channel's moderators and the AppInstanceAdmins.
func requireReadSubChannel(tx carillon.Tx, a *actor, sub string) error {
	if a.moderates() {
		return nil
	}
	in, err := inSubChannel(tx, a, sub)
	if err != nil {
		return err
	}
	if !in {
		return forbidden("The bearer %s is not a member of the sub-channel %s", a.arn, sub)
	}
	return nil
}

// ListSubChannels pages by ID through the sub-channels of an elastic
// channel, with their member counts, for its moderators and the
// AppInstanceAdmins.
func (s *Service) ListSubChannels(ctx context.Context, in *messagingapi.ListSubChannelsRequest) (*messagingapi.ListSubChannelsResponse, error) {
	subs, next, err := paging.List(ctx, s.store, in.NextToken, in.MaxResults,
		func(tx carillon.Tx, p carillon.Page) ([]carillon.SubChannel, error) {
			a, ch, err := s.act(tx, *in.ChimeBearer, *in.ChannelArn)
			if err != nil {
				return nil, err
			}
			if err := a.requireModerate("list the sub-channels"); err != nil {
				return nil, err
			}
			if ch.Elastic == nil {
				return nil, carillon.Errorf(carillon.BadRequest, "The channel %s is not elastic: it has no sub-channels", ch.ARN)
			}
			return tx.ListSubChannels(ch.ARN, p)
		},
		func(c *carillon.SubChannel) string { return c.ID },
		func(c *carillon.SubChannel) messagingapi.SubChannelSummary {
			return messagingapi.SubChannelSummary{SubChannelId: api.String(c.ID), MembershipCount: api.Int32(int32(c.Memberships))}
		})
	if err != nil {
		return nil, err
	}
	return &messagingapi.ListSubChannelsResponse{ChannelArn: in.ChannelArn, SubChannels: subs, NextToken: next}, nil
}

// subChannelRoster pages by member ARN through the members of a
// sub-channel of type typ: those placed in it and, for DEFAULT, the
// moderators who joined it (moderators are never HIDDEN).
func subChannelRoster(tx carillon.Tx, ch *carillon.Channel, typ, sub string, p carillon.Page) ([]carillon.Membership, error) {
	placed, err := tx.ListMemberships(ch.ARN, typ, sub, p)
	if err != nil || typ == membershipHidden {
		return placed, err
	}
	joined, err := tx.ListSubChannelMemberships(ch.ARN, sub, p)
	if err != nil {
		return nil, err
	}
	all := append(placed, joined...)
	slices.SortFunc(all, func(a, b carillon.Membership) int {
		switch {
		case a.MemberARN < b.MemberARN:
			return -1
		case a.MemberARN > b.MemberARN:
			return 1
		}
		return 0
	})
	if p.Limit > 0 && len(all) > p.Limit {
		all = all[:p.Limit]
	}
	return all, nil
}

// ForgetMember takes an AppInstanceUser or bot about to be deleted out of
// the elastic channels it is in, in the deletion's transaction tx, and
// merges the sub-channels its departure leaves under-populated, as a
// DeleteChannelMembership would. The deletion (DeleteAppInstanceUser,
// DeleteAppInstanceBot, the expiry of a user) removes its memberships of
// other channels silently, so these go silently too; only the merges are
// announced, to the members they move and the moderators they drop.
// Without it a sub-channel emptied that way would stay until someone
// else left.
//
// It also appends the carillon.EventBearerDeleted of the member, so that
// its open messaging sessions are closed rather than go on receiving the
// channels it was in.
func ForgetMember(tx carillon.Tx, memberARN string) error {
	if err := emit(tx, &carillon.Event{Type: carillon.EventBearerDeleted, Member: memberARN}, struct{}{}); err != nil {
		return err
	}
	var elastic []carillon.Channel
	for page := (carillon.Page{Limit: 500}); ; {
		rows, err := tx.ListMembershipsOf(memberARN, page)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if r.Channel.Elastic != nil {
				elastic = append(elastic, r.Channel)
			}
		}
		if len(rows) < page.Limit {
			break
		}
		page.After = rows[len(rows)-1].Channel.ARN
	}
	for i := range elastic {
		ch := &elastic[i]
		if err := tx.DeleteMembership(ch.ARN, memberARN); err != nil {
			return err
		}
		if err := rebalance(tx, ch); err != nil {
			return err
		}
	}
	return nil
}
