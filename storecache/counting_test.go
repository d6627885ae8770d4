package storecache

import (
	"context"
	"sync"
	"time"

	"github.com/carillonhq/carillon"
)

// countingStore counts the calls that reach a store's transactions, by
// method: what the cache saves is what no longer reaches the store. Each
// of these methods is one SQL statement in the SQLite engine, but for the
// deletions that cascade by hand (DeleteUser, DeleteAppInstance, …).
// TestCountingTxCountsEveryMethod keeps its list of methods complete.
type countingStore struct {
	carillon.Store
	mu    sync.Mutex
	calls map[string]int
}

func newCountingStore(inner carillon.Store) *countingStore {
	return &countingStore{Store: inner, calls: make(map[string]int)}
}

func (s *countingStore) View(ctx context.Context, fn func(tx carillon.Tx) error) error {
	return s.Store.View(ctx, func(itx carillon.Tx) error { return fn(&countingTx{Tx: itx, s: s}) })
}

func (s *countingStore) Update(ctx context.Context, fn func(tx carillon.Tx) error) error {
	return s.Store.Update(ctx, func(itx carillon.Tx) error { return fn(&countingTx{Tx: itx, s: s}) })
}

// take returns the counts since the last take, and their total.
func (s *countingStore) take() (map[string]int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	calls, total := s.calls, 0
	for _, n := range calls {
		total += n
	}
	s.calls = make(map[string]int)
	return calls, total
}

type countingTx struct {
	carillon.Tx
	s *countingStore
}

func (t *countingTx) count(method string) {
	t.s.mu.Lock()
	t.s.calls[method]++
	t.s.mu.Unlock()
}

// Every method of carillon.Tx but Now.

func (t *countingTx) AdvanceStreamCursor(a0 string, a1 string, a2 int64) error {
	t.count("AdvanceStreamCursor")
	return t.Tx.AdvanceStreamCursor(a0, a1, a2)
}

func (t *countingTx) AllStreamingConfigurations() ([]carillon.StreamingConfiguration, error) {
	t.count("AllStreamingConfigurations")
	return t.Tx.AllStreamingConfigurations()
}

func (t *countingTx) AppInstancesWithRetention(a0 carillon.Page) ([]carillon.AppInstanceRetention, error) {
	t.count("AppInstancesWithRetention")
	return t.Tx.AppInstancesWithRetention(a0)
}

func (t *countingTx) AppendEvent(a0 *carillon.Event) error {
	t.count("AppendEvent")
	return t.Tx.AppendEvent(a0)
}

func (t *countingTx) CountAdmins(a0 string) (int, error) {
	t.count("CountAdmins")
	return t.Tx.CountAdmins(a0)
}

func (t *countingTx) CountEndpoints(a0 string) (int, error) {
	t.count("CountEndpoints")
	return t.Tx.CountEndpoints(a0)
}

func (t *countingTx) CountMemberships(a0 string) (int, error) {
	t.count("CountMemberships")
	return t.Tx.CountMemberships(a0)
}

func (t *countingTx) CountModerators(a0 string) (int, error) {
	t.count("CountModerators")
	return t.Tx.CountModerators(a0)
}

func (t *countingTx) CreateAccessKey(a0 *carillon.AccessKey) error {
	t.count("CreateAccessKey")
	return t.Tx.CreateAccessKey(a0)
}

func (t *countingTx) CreateAdmin(a0 *carillon.AppInstanceAdmin) error {
	t.count("CreateAdmin")
	return t.Tx.CreateAdmin(a0)
}

func (t *countingTx) CreateAppInstance(a0 *carillon.AppInstance) error {
	t.count("CreateAppInstance")
	return t.Tx.CreateAppInstance(a0)
}

func (t *countingTx) CreateBan(a0 *carillon.Ban) error {
	t.count("CreateBan")
	return t.Tx.CreateBan(a0)
}

func (t *countingTx) CreateBot(a0 *carillon.AppInstanceBot) error {
	t.count("CreateBot")
	return t.Tx.CreateBot(a0)
}

func (t *countingTx) CreateChannel(a0 *carillon.Channel) error {
	t.count("CreateChannel")
	return t.Tx.CreateChannel(a0)
}

func (t *countingTx) CreateChannelFlow(a0 *carillon.ChannelFlow) error {
	t.count("CreateChannelFlow")
	return t.Tx.CreateChannelFlow(a0)
}

func (t *countingTx) CreateEndpoint(a0 *carillon.UserEndpoint) error {
	t.count("CreateEndpoint")
	return t.Tx.CreateEndpoint(a0)
}

func (t *countingTx) CreateInvocation(a0 *carillon.Invocation) error {
	t.count("CreateInvocation")
	return t.Tx.CreateInvocation(a0)
}

func (t *countingTx) CreateMembership(a0 *carillon.Membership) error {
	t.count("CreateMembership")
	return t.Tx.CreateMembership(a0)
}

func (t *countingTx) CreateMessage(a0 *carillon.Message) error {
	t.count("CreateMessage")
	return t.Tx.CreateMessage(a0)
}

func (t *countingTx) CreateModerator(a0 *carillon.Moderator) error {
	t.count("CreateModerator")
	return t.Tx.CreateModerator(a0)
}

func (t *countingTx) CreateSubChannel(a0 *carillon.SubChannel) error {
	t.count("CreateSubChannel")
	return t.Tx.CreateSubChannel(a0)
}

func (t *countingTx) CreateSubChannelMembership(a0 *carillon.Membership) error {
	t.count("CreateSubChannelMembership")
	return t.Tx.CreateSubChannelMembership(a0)
}

func (t *countingTx) CreateUser(a0 *carillon.AppInstanceUser) error {
	t.count("CreateUser")
	return t.Tx.CreateUser(a0)
}

func (t *countingTx) DeleteAccessKey(a0 string) error {
	t.count("DeleteAccessKey")
	return t.Tx.DeleteAccessKey(a0)
}

func (t *countingTx) DeleteAdmin(a0 string, a1 string) error {
	t.count("DeleteAdmin")
	return t.Tx.DeleteAdmin(a0, a1)
}

func (t *countingTx) DeleteAppInstance(a0 string) error {
	t.count("DeleteAppInstance")
	return t.Tx.DeleteAppInstance(a0)
}

func (t *countingTx) DeleteBan(a0 string, a1 string) error {
	t.count("DeleteBan")
	return t.Tx.DeleteBan(a0, a1)
}

func (t *countingTx) DeleteBot(a0 string) error {
	t.count("DeleteBot")
	return t.Tx.DeleteBot(a0)
}

func (t *countingTx) DeleteChannel(a0 string) error {
	t.count("DeleteChannel")
	return t.Tx.DeleteChannel(a0)
}

func (t *countingTx) DeleteChannelFlow(a0 string) error {
	t.count("DeleteChannelFlow")
	return t.Tx.DeleteChannelFlow(a0)
}

func (t *countingTx) DeleteEndpoint(a0 string, a1 string) error {
	t.count("DeleteEndpoint")
	return t.Tx.DeleteEndpoint(a0, a1)
}

func (t *countingTx) DeleteEventsThrough(a0 int64) error {
	t.count("DeleteEventsThrough")
	return t.Tx.DeleteEventsThrough(a0)
}

func (t *countingTx) DeleteIdempotentBefore(a0 time.Time, a1 int) (int, error) {
	t.count("DeleteIdempotentBefore")
	return t.Tx.DeleteIdempotentBefore(a0, a1)
}

func (t *countingTx) DeleteInvocation(a0 string) error {
	t.count("DeleteInvocation")
	return t.Tx.DeleteInvocation(a0)
}

func (t *countingTx) DeleteMembership(a0 string, a1 string) error {
	t.count("DeleteMembership")
	return t.Tx.DeleteMembership(a0, a1)
}

func (t *countingTx) DeleteMessage(a0 string, a1 string) error {
	t.count("DeleteMessage")
	return t.Tx.DeleteMessage(a0, a1)
}

func (t *countingTx) DeleteMessagesBefore(a0 string, a1 time.Time, a2 int) (int, error) {
	t.count("DeleteMessagesBefore")
	return t.Tx.DeleteMessagesBefore(a0, a1, a2)
}

func (t *countingTx) DeleteModerator(a0 string, a1 string) error {
	t.count("DeleteModerator")
	return t.Tx.DeleteModerator(a0, a1)
}

func (t *countingTx) DeleteStreamingConfigurations(a0 string) error {
	t.count("DeleteStreamingConfigurations")
	return t.Tx.DeleteStreamingConfigurations(a0)
}

func (t *countingTx) DeleteSubChannel(a0 string, a1 string) error {
	t.count("DeleteSubChannel")
	return t.Tx.DeleteSubChannel(a0, a1)
}

func (t *countingTx) DeleteSubChannelMembership(a0 string, a1 string, a2 string) error {
	t.count("DeleteSubChannelMembership")
	return t.Tx.DeleteSubChannelMembership(a0, a1, a2)
}

func (t *countingTx) DeleteTags(a0 string, a1 []string) error {
	t.count("DeleteTags")
	return t.Tx.DeleteTags(a0, a1)
}

func (t *countingTx) DeleteUser(a0 string) error {
	t.count("DeleteUser")
	return t.Tx.DeleteUser(a0)
}

func (t *countingTx) DueInvocations(a0 time.Time, a1 int) ([]carillon.Invocation, error) {
	t.count("DueInvocations")
	return t.Tx.DueInvocations(a0, a1)
}

func (t *countingTx) EndpointsOf(a0 []string) ([]carillon.UserEndpoint, error) {
	t.count("EndpointsOf")
	return t.Tx.EndpointsOf(a0)
}

func (t *countingTx) Events(a0 int64, a1 int) ([]carillon.Event, error) {
	t.count("Events")
	return t.Tx.Events(a0, a1)
}

func (t *countingTx) ExpiredChannels(a0 time.Time, a1 int) ([]string, error) {
	t.count("ExpiredChannels")
	return t.Tx.ExpiredChannels(a0, a1)
}

func (t *countingTx) ExpiredUsers(a0 time.Time, a1 int) ([]string, error) {
	t.count("ExpiredUsers")
	return t.Tx.ExpiredUsers(a0, a1)
}

func (t *countingTx) GetAccessKey(a0 string) (*carillon.AccessKey, error) {
	t.count("GetAccessKey")
	return t.Tx.GetAccessKey(a0)
}

func (t *countingTx) GetAdmin(a0 string, a1 string) (*carillon.AppInstanceAdmin, error) {
	t.count("GetAdmin")
	return t.Tx.GetAdmin(a0, a1)
}

func (t *countingTx) GetAppInstance(a0 string) (*carillon.AppInstance, error) {
	t.count("GetAppInstance")
	return t.Tx.GetAppInstance(a0)
}

func (t *countingTx) GetBan(a0 string, a1 string) (*carillon.Ban, error) {
	t.count("GetBan")
	return t.Tx.GetBan(a0, a1)
}

func (t *countingTx) GetBot(a0 string) (*carillon.AppInstanceBot, error) {
	t.count("GetBot")
	return t.Tx.GetBot(a0)
}

func (t *countingTx) GetChannel(a0 string) (*carillon.Channel, error) {
	t.count("GetChannel")
	return t.Tx.GetChannel(a0)
}

func (t *countingTx) GetChannelFlow(a0 string) (*carillon.ChannelFlow, error) {
	t.count("GetChannelFlow")
	return t.Tx.GetChannelFlow(a0)
}

func (t *countingTx) GetEndpoint(a0 string, a1 string) (*carillon.UserEndpoint, error) {
	t.count("GetEndpoint")
	return t.Tx.GetEndpoint(a0, a1)
}

func (t *countingTx) GetInvocation(a0 string) (*carillon.Invocation, error) {
	t.count("GetInvocation")
	return t.Tx.GetInvocation(a0)
}

func (t *countingTx) GetMembership(a0 string, a1 string) (*carillon.Membership, error) {
	t.count("GetMembership")
	return t.Tx.GetMembership(a0, a1)
}

func (t *countingTx) GetMessage(a0 string, a1 string) (*carillon.Message, error) {
	t.count("GetMessage")
	return t.Tx.GetMessage(a0, a1)
}

func (t *countingTx) GetMessageInvocation(a0 string, a1 string) (*carillon.Invocation, error) {
	t.count("GetMessageInvocation")
	return t.Tx.GetMessageInvocation(a0, a1)
}

func (t *countingTx) GetModerator(a0 string, a1 string) (*carillon.Moderator, error) {
	t.count("GetModerator")
	return t.Tx.GetModerator(a0, a1)
}

func (t *countingTx) GetRetentionSettings(a0 string) (*carillon.RetentionSettings, error) {
	t.count("GetRetentionSettings")
	return t.Tx.GetRetentionSettings(a0)
}

func (t *countingTx) GetSubChannel(a0 string, a1 string) (*carillon.SubChannel, error) {
	t.count("GetSubChannel")
	return t.Tx.GetSubChannel(a0, a1)
}

func (t *countingTx) GetSubChannelMembership(a0 string, a1 string, a2 string) (*carillon.Membership, error) {
	t.count("GetSubChannelMembership")
	return t.Tx.GetSubChannelMembership(a0, a1, a2)
}

func (t *countingTx) GetUser(a0 string) (*carillon.AppInstanceUser, error) {
	t.count("GetUser")
	return t.Tx.GetUser(a0)
}

func (t *countingTx) Idempotent(a0 string, a1 string) (string, bool, error) {
	t.count("Idempotent")
	return t.Tx.Idempotent(a0, a1)
}

func (t *countingTx) LastEventSeq() (int64, error) {
	t.count("LastEventSeq")
	return t.Tx.LastEventSeq()
}

func (t *countingTx) ListAccessKeys(a0 string) ([]carillon.AccessKey, error) {
	t.count("ListAccessKeys")
	return t.Tx.ListAccessKeys(a0)
}

func (t *countingTx) ListAllAccessKeys(a0 carillon.Page) ([]carillon.AccessKey, error) {
	t.count("ListAllAccessKeys")
	return t.Tx.ListAllAccessKeys(a0)
}

func (t *countingTx) ListAdmins(a0 string, a1 carillon.Page) ([]carillon.AppInstanceAdmin, error) {
	t.count("ListAdmins")
	return t.Tx.ListAdmins(a0, a1)
}

func (t *countingTx) ListAppInstances(a0 carillon.Page) ([]carillon.AppInstance, error) {
	t.count("ListAppInstances")
	return t.Tx.ListAppInstances(a0)
}

func (t *countingTx) ListBans(a0 string, a1 carillon.Page) ([]carillon.Ban, error) {
	t.count("ListBans")
	return t.Tx.ListBans(a0, a1)
}

func (t *countingTx) ListBots(a0 string, a1 carillon.Page) ([]carillon.AppInstanceBot, error) {
	t.count("ListBots")
	return t.Tx.ListBots(a0, a1)
}

func (t *countingTx) ListChannelFlows(a0 string, a1 carillon.Page) ([]carillon.ChannelFlow, error) {
	t.count("ListChannelFlows")
	return t.Tx.ListChannelFlows(a0, a1)
}

func (t *countingTx) ListChannels(a0 string, a1 string, a2 carillon.Page) ([]carillon.Channel, error) {
	t.count("ListChannels")
	return t.Tx.ListChannels(a0, a1, a2)
}

func (t *countingTx) ListChannelsModeratedBy(a0 string, a1 carillon.Page) ([]carillon.Channel, error) {
	t.count("ListChannelsModeratedBy")
	return t.Tx.ListChannelsModeratedBy(a0, a1)
}

func (t *countingTx) ListChannelsWithFlow(a0 string, a1 carillon.Page) ([]carillon.Channel, error) {
	t.count("ListChannelsWithFlow")
	return t.Tx.ListChannelsWithFlow(a0, a1)
}

func (t *countingTx) ListEndpoints(a0 string, a1 carillon.Page) ([]carillon.UserEndpoint, error) {
	t.count("ListEndpoints")
	return t.Tx.ListEndpoints(a0, a1)
}

func (t *countingTx) ListMemberships(a0 string, a1 string, a2 string, a3 carillon.Page) ([]carillon.Membership, error) {
	t.count("ListMemberships")
	return t.Tx.ListMemberships(a0, a1, a2, a3)
}

func (t *countingTx) ListMembershipsOf(a0 string, a1 carillon.Page) ([]carillon.ChannelMembershipOf, error) {
	t.count("ListMembershipsOf")
	return t.Tx.ListMembershipsOf(a0, a1)
}

func (t *countingTx) ListMessages(a0 carillon.MessageQuery) ([]carillon.Message, error) {
	t.count("ListMessages")
	return t.Tx.ListMessages(a0)
}

func (t *countingTx) ListModerators(a0 string, a1 carillon.Page) ([]carillon.Moderator, error) {
	t.count("ListModerators")
	return t.Tx.ListModerators(a0, a1)
}

func (t *countingTx) ListSubChannelMemberships(a0 string, a1 string, a2 carillon.Page) ([]carillon.Membership, error) {
	t.count("ListSubChannelMemberships")
	return t.Tx.ListSubChannelMemberships(a0, a1, a2)
}

func (t *countingTx) ListSubChannelMembershipsOf(a0 string, a1 string, a2 carillon.Page) ([]carillon.Membership, error) {
	t.count("ListSubChannelMembershipsOf")
	return t.Tx.ListSubChannelMembershipsOf(a0, a1, a2)
}

func (t *countingTx) ListSubChannels(a0 string, a1 carillon.Page) ([]carillon.SubChannel, error) {
	t.count("ListSubChannels")
	return t.Tx.ListSubChannels(a0, a1)
}

func (t *countingTx) ListUsers(a0 string, a1 carillon.Page) ([]carillon.AppInstanceUser, error) {
	t.count("ListUsers")
	return t.Tx.ListUsers(a0, a1)
}

func (t *countingTx) ClaimIdempotent(a0 string, a1 string, a2 string) (string, bool, error) {
	t.count("ClaimIdempotent")
	return t.Tx.ClaimIdempotent(a0, a1, a2)
}

func (t *countingTx) PutIdempotent(a0 string, a1 string, a2 string) error {
	t.count("PutIdempotent")
	return t.Tx.PutIdempotent(a0, a1, a2)
}

func (t *countingTx) PutRetentionSettings(a0 string, a1 *carillon.RetentionSettings) error {
	t.count("PutRetentionSettings")
	return t.Tx.PutRetentionSettings(a0, a1)
}

func (t *countingTx) PutStreamingConfigurations(a0 string, a1 []carillon.StreamingConfiguration) error {
	t.count("PutStreamingConfigurations")
	return t.Tx.PutStreamingConfigurations(a0, a1)
}

func (t *countingTx) PutTags(a0 string, a1 []carillon.Tag) error {
	t.count("PutTags")
	return t.Tx.PutTags(a0, a1)
}

func (t *countingTx) SearchChannelsByMembers(a0 string, a1 []string, a2 bool, a3 string, a4 carillon.Page) ([]carillon.Channel, error) {
	t.count("SearchChannelsByMembers")
	return t.Tx.SearchChannelsByMembers(a0, a1, a2, a3, a4)
}

func (t *countingTx) StreamCursors() ([]carillon.StreamCursor, error) {
	t.count("StreamCursors")
	return t.Tx.StreamCursors()
}

func (t *countingTx) StreamingConfigurations(a0 string) ([]carillon.StreamingConfiguration, error) {
	t.count("StreamingConfigurations")
	return t.Tx.StreamingConfigurations(a0)
}

func (t *countingTx) Tags(a0 string) ([]carillon.Tag, error) {
	t.count("Tags")
	return t.Tx.Tags(a0)
}

func (t *countingTx) UpdateAppInstance(a0 *carillon.AppInstance) error {
	t.count("UpdateAppInstance")
	return t.Tx.UpdateAppInstance(a0)
}

func (t *countingTx) UpdateBot(a0 *carillon.AppInstanceBot) error {
	t.count("UpdateBot")
	return t.Tx.UpdateBot(a0)
}

func (t *countingTx) SetChannelLastMessageAt(a0 string, a1 time.Time) error {
	t.count("SetChannelLastMessageAt")
	return t.Tx.SetChannelLastMessageAt(a0, a1)
}

func (t *countingTx) UpdateChannel(a0 *carillon.Channel) error {
	t.count("UpdateChannel")
	return t.Tx.UpdateChannel(a0)
}

func (t *countingTx) UpdateChannelFlow(a0 *carillon.ChannelFlow) error {
	t.count("UpdateChannelFlow")
	return t.Tx.UpdateChannelFlow(a0)
}

func (t *countingTx) UpdateEndpoint(a0 *carillon.UserEndpoint) error {
	t.count("UpdateEndpoint")
	return t.Tx.UpdateEndpoint(a0)
}

func (t *countingTx) UpdateInvocation(a0 *carillon.Invocation) error {
	t.count("UpdateInvocation")
	return t.Tx.UpdateInvocation(a0)
}

func (t *countingTx) UpdateMembership(a0 *carillon.Membership) error {
	t.count("UpdateMembership")
	return t.Tx.UpdateMembership(a0)
}

func (t *countingTx) UpdateMessage(a0 *carillon.Message) error {
	t.count("UpdateMessage")
	return t.Tx.UpdateMessage(a0)
}

func (t *countingTx) UpdateUser(a0 *carillon.AppInstanceUser) error {
	t.count("UpdateUser")
	return t.Tx.UpdateUser(a0)
}

func (t *countingTx) PutSessionPosition(a0 *carillon.SessionPosition) error {
	t.count("PutSessionPosition")
	return t.Tx.PutSessionPosition(a0)
}

func (t *countingTx) GetSessionPosition(a0 string, a1 string) (*carillon.SessionPosition, error) {
	t.count("GetSessionPosition")
	return t.Tx.GetSessionPosition(a0, a1)
}

func (t *countingTx) DeleteSessionPosition(a0 string, a1 string) error {
	t.count("DeleteSessionPosition")
	return t.Tx.DeleteSessionPosition(a0, a1)
}

func (t *countingTx) DeleteSessionPositionsBefore(a0 time.Time, a1 int) (int, error) {
	t.count("DeleteSessionPositionsBefore")
	return t.Tx.DeleteSessionPositionsBefore(a0, a1)
}

func (t *countingTx) SessionPositionsHold(a0 time.Time) (int64, bool, error) {
	t.count("SessionPositionsHold")
	return t.Tx.SessionPositionsHold(a0)
}

func (t *countingTx) EndLiveSessionPositions() (int, error) {
	t.count("EndLiveSessionPositions")
	return t.Tx.EndLiveSessionPositions()
}
