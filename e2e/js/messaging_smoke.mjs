// Smoke test of Carillon's Chime SDK Messaging REST API with the AWS SDK
// for JavaScript v3 (@aws-sdk/client-chime-sdk-identity and
// @aws-sdk/client-chime-sdk-messaging): a channel's life from creation
// to a redacted message, and a typed error.
//
// Settings: see common.mjs. Prints PASS and exits 0, or prints what
// failed and exits 1.

import {
  CreateAppInstanceCommand,
  CreateAppInstanceUserCommand,
} from '@aws-sdk/client-chime-sdk-identity';
import {
  CreateChannelCommand,
  CreateChannelMembershipCommand,
  DescribeChannelCommand,
  ForbiddenException,
  GetChannelMessageCommand,
  ListChannelMembershipsCommand,
  ListChannelMessagesCommand,
  RedactChannelMessageCommand,
  SendChannelMessageCommand,
  UpdateChannelMessageCommand,
} from '@aws-sdk/client-chime-sdk-messaging';

import { check, eq, expectError, identityClient, messagingClient, run, settings, sleep } from './common.mjs';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

function isRecentDate(v) {
  return v instanceof Date && Math.abs(Date.now() - v.getTime()) < 120_000;
}

async function main() {
  const s = settings();
  const identity = identityClient(s);
  const messaging = messagingClient(s);

  // AppInstance and two users.
  const app = await identity.send(new CreateAppInstanceCommand({ Name: 'JS smoke', Metadata: 'aws-sdk-js-v3' }));
  const ai = app.AppInstanceArn;
  check(new RegExp(`^arn:aws:chime:${s.region}:\\d{12}:app-instance/${UUID}$`).test(ai), `AppInstance ARN ${ai}`);
  eq(app.$metadata.httpStatusCode, 201, 'CreateAppInstance status');
  const user = async (id, name) =>
    (await identity.send(new CreateAppInstanceUserCommand({ AppInstanceArn: ai, AppInstanceUserId: id, Name: name })))
      .AppInstanceUserArn;
  const alice = await user('alice', 'Alice');
  const bob = await user('bob', 'Bob');
  eq(alice, `${ai}/user/alice`, 'AppInstanceUser ARN');

  // A PRIVATE channel of Alice's, with Bob added.
  const created = await messaging.send(
    new CreateChannelCommand({
      AppInstanceArn: ai,
      Name: 'js-smoke',
      Mode: 'RESTRICTED',
      Privacy: 'PRIVATE',
      Metadata: 'channel metadata',
      ChimeBearer: alice,
    }),
  );
  const ch = created.ChannelArn;
  check(new RegExp(`^${ai}/channel/[0-9a-zA-Z-]+$`).test(ch), `Channel ARN ${ch}`);
  const added = await messaging.send(
    new CreateChannelMembershipCommand({ ChannelArn: ch, MemberArn: bob, Type: 'DEFAULT', ChimeBearer: alice }),
  );
  eq(added.ChannelArn, ch, 'CreateChannelMembership ChannelArn');
  eq(added.Member?.Arn, bob, 'CreateChannelMembership Member.Arn');
  eq(added.Member?.Name, 'Bob', 'CreateChannelMembership Member.Name');
  const members = await messaging.send(new ListChannelMembershipsCommand({ ChannelArn: ch, ChimeBearer: alice }));
  eq(
    members.ChannelMemberships.map(m => m.Member.Arn).sort().join(' '),
    [alice, bob].sort().join(' '),
    'ListChannelMemberships',
  );

  // Bob writes, then Alice.
  const sent = await messaging.send(
    new SendChannelMessageCommand({
      ChannelArn: ch,
      Content: 'hello from js',
      Metadata: 'm1',
      Type: 'STANDARD',
      Persistence: 'PERSISTENT',
      ChimeBearer: bob,
    }),
  );
  eq(sent.ChannelArn, ch, 'SendChannelMessage ChannelArn');
  eq(sent.Status?.Value, 'SENT', 'SendChannelMessage Status.Value');
  check(sent.MessageId, 'SendChannelMessage returned no MessageId');
  const id = sent.MessageId;
  // Creation times have millisecond precision; keep the order unambiguous.
  await sleep(5);
  const second = await messaging.send(
    new SendChannelMessageCommand({
      ChannelArn: ch,
      Content: 'second',
      Type: 'STANDARD',
      Persistence: 'PERSISTENT',
      ChimeBearer: alice,
    }),
  );

  const list = async () =>
    (await messaging.send(new ListChannelMessagesCommand({ ChannelArn: ch, SortOrder: 'ASCENDING', ChimeBearer: alice })))
      .ChannelMessages;
  let msgs = await list();
  eq(msgs.map(m => m.MessageId).join(' '), `${id} ${second.MessageId}`, 'ListChannelMessages ids (ascending)');
  const [m1, m2] = msgs;
  eq(m1.Content, 'hello from js', 'listed Content');
  eq(m1.Metadata, 'm1', 'listed Metadata');
  eq(m1.Type, 'STANDARD', 'listed Type');
  eq(m1.Sender?.Arn, bob, 'listed Sender.Arn');
  eq(m1.Sender?.Name, 'Bob', 'listed Sender.Name');
  eq(m1.Redacted, false, 'listed Redacted');
  check(isRecentDate(m1.CreatedTimestamp), `listed CreatedTimestamp ${m1.CreatedTimestamp} is not a recent Date`);
  check(m1.LastEditedTimestamp === undefined, `a new message has LastEditedTimestamp ${m1.LastEditedTimestamp}`);
  eq(m2.Sender?.Arn, alice, 'second message Sender.Arn');

  // Bob edits his message.
  const updated = await messaging.send(
    new UpdateChannelMessageCommand({ ChannelArn: ch, MessageId: id, Content: 'edited', Metadata: 'm2', ChimeBearer: bob }),
  );
  eq(updated.MessageId, id, 'UpdateChannelMessage MessageId');
  eq(updated.Status?.Value, 'SENT', 'UpdateChannelMessage Status.Value');
  const got = (await messaging.send(new GetChannelMessageCommand({ ChannelArn: ch, MessageId: id, ChimeBearer: alice })))
    .ChannelMessage;
  eq(got.Content, 'edited', 'Content after UpdateChannelMessage');
  eq(got.Metadata, 'm2', 'Metadata after UpdateChannelMessage');
  check(isRecentDate(got.LastEditedTimestamp), `LastEditedTimestamp ${got.LastEditedTimestamp} after UpdateChannelMessage`);
  check(
    got.LastEditedTimestamp.getTime() >= got.CreatedTimestamp.getTime(),
    `LastEditedTimestamp ${got.LastEditedTimestamp.toISOString()} before CreatedTimestamp ${got.CreatedTimestamp.toISOString()}`,
  );

  // Bob redacts it; it stays listed, blank.
  const redacted = await messaging.send(new RedactChannelMessageCommand({ ChannelArn: ch, MessageId: id, ChimeBearer: bob }));
  eq(redacted.ChannelArn, ch, 'RedactChannelMessage ChannelArn');
  eq(redacted.MessageId, id, 'RedactChannelMessage MessageId');
  msgs = await list();
  eq(msgs.length, 2, 'messages listed after the redaction');
  eq(msgs[0].MessageId, id, 'first message after the redaction');
  eq(msgs[0].Redacted, true, 'Redacted after RedactChannelMessage');
  eq(msgs[0].Content ?? '', '', 'Content after RedactChannelMessage');
  eq(msgs[0].Metadata ?? '', '', 'Metadata after RedactChannelMessage');
  eq(msgs[1].Content, 'second', 'the other message after the redaction');
  eq(msgs[1].Redacted, false, 'the other message Redacted');

  // A typed error: Bob is no member of Alice's other PRIVATE channel.
  const secret = (
    await messaging.send(
      new CreateChannelCommand({ AppInstanceArn: ai, Name: 'secret', Mode: 'RESTRICTED', Privacy: 'PRIVATE', ChimeBearer: alice }),
    )
  ).ChannelArn;
  const d = await messaging.send(new DescribeChannelCommand({ ChannelArn: secret, ChimeBearer: alice }));
  eq(d.Channel?.Privacy, 'PRIVATE', 'DescribeChannel Privacy');
  await expectError(
    () => messaging.send(new DescribeChannelCommand({ ChannelArn: secret, ChimeBearer: bob })),
    ForbiddenException,
    403,
    'DescribeChannel by a non-member of a PRIVATE channel',
  );
}

run('messaging_smoke.mjs', main, 30_000);
