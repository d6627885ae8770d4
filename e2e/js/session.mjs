// End-to-end test of Carillon's messaging session with the unmodified
// DefaultMessagingSession of amazon-chime-sdk-js: the SDK resolves the
// endpoint with GetMessagingSessionEndpoint, presigns
// wss://<endpoint>/connect with its own DefaultSigV4, and this script
// checks the events it delivers, the prefetch, and its reconnection
// after a server restart.
//
// Settings: see common.mjs; CARILLON_ENDPOINT must be the https://
// endpoint and NODE_EXTRA_CA_CERTS the server's certificate, which both
// the AWS SDK and the websocket then trust.
//
// Protocol with the driver, one line each way:
//   script → stdout: WAITING_RESTART   (the driver restarts the server on
//                                       the same ports and data directory)
//   driver → stdin:  RESTARTED
// then the script prints PASS and exits 0, or prints what failed and
// exits 1.

import readline from 'node:readline';

import WS from 'ws';
import {
  CreateAppInstanceAdminCommand,
  CreateAppInstanceCommand,
  CreateAppInstanceUserCommand,
} from '@aws-sdk/client-chime-sdk-identity';
import {
  CreateChannelCommand,
  CreateChannelMembershipCommand,
  DeleteChannelCommand,
  DeleteChannelMembershipCommand,
  DeleteChannelMessageCommand,
  RedactChannelMessageCommand,
  SendChannelMessageCommand,
  UpdateChannelCommand,
  UpdateChannelMessageCommand,
  UpdateChannelReadMarkerCommand,
} from '@aws-sdk/client-chime-sdk-messaging';
import chime from 'amazon-chime-sdk-js';

import {
  check,
  createUserCredentials,
  eq,
  Failure,
  identityClient,
  messagingClient,
  run,
  settings,
  sleep,
} from './common.mjs';

const { DefaultMessagingSession, LogLevel, MessagingSessionConfiguration, PrefetchOn, PrefetchSortBy } = chime;

// --- Browser globals the SDK needs in Node 20 ---------------------------

// DefaultWebSocketAdapter opens `new WebSocket(url, [])`, a browser global
// Node 20 lacks: ws provides the same constructor, readyState constants,
// addEventListener and event shapes ({data} strings for text frames,
// {code, reason} on close). The subclass also records close codes, which
// the SDK does not report to observers when it reconnects.
const closeCodes = [];
class RecordingWebSocket extends WS {
  constructor(url, protocols) {
    super(url, protocols);
    this.addEventListener('close', e => closeCodes.push(e.code));
  }
}
globalThis.WebSocket = RecordingWebSocket;

// DefaultMessagingSession constructs a CloseEvent (code 4999) when
// GetMessagingSessionEndpoint fails, e.g. while the server restarts, so
// that its reconnect logic retries; browsers have it, Node 20 does not.
if (typeof globalThis.CloseEvent === 'undefined') {
  globalThis.CloseEvent = class CloseEvent extends Event {
    constructor(type, init = {}) {
      super(type, init);
      this.code = init.code ?? 0;
      this.reason = init.reason ?? '';
      this.wasClean = init.wasClean ?? false;
    }
  };
}
// Nothing else: without navigator the SDK reports its user agent as
// "node-NaN" (X-Amzn-User-Agent), and it uses window only when present.

// --- Observation --------------------------------------------------------

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const EVENT_TIMEOUT_MS = 8000;

// Events is what the observer saw, in order; expect() consumes them.
class Events {
  constructor() {
    this.all = [];
    this.cursor = 0;
    this.waiters = [];
  }

  push(e) {
    e.at = Date.now();
    this.all.push(e);
    for (const w of this.waiters.splice(0)) w();
  }

  describe(e) {
    return e.kind === 'message' ? `message ${e.type} ${e.message.payload ?? ''}` : `${e.kind} ${JSON.stringify(e)}`;
  }

  // expect returns the first event after the last one expect returned
  // that is of kind (and, for messages, type) and satisfies match,
  // waiting up to timeoutMs for it.
  async expect(kind, type, match, what, timeoutMs = EVENT_TIMEOUT_MS) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = this.cursor; i < this.all.length; i++) {
        const e = this.all[i];
        if (e.kind === kind && (type === undefined || e.type === type) && (!match || match(e))) {
          this.cursor = i + 1;
          return e;
        }
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        const seen = this.all.slice(this.cursor).map(e => '  ' + this.describe(e)).join('\n') || '  (nothing)';
        throw new Failure(
          `${what}: no ${type ?? kind} within ${timeoutMs} ms; events since the last expected one:\n${seen}`,
        );
      }
      await new Promise(resolve => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  // message expects a message of type about channel, and returns its
  // parsed payload after checking the frame's headers.
  async message(type, channel, match, what, messageType = 'SYSTEM') {
    const e = await this.expect(
      'message',
      type,
      e => {
        const p = e.payload;
        return (!channel || p?.ChannelArn === channel || p?.Channel?.ChannelArn === channel) && (!match || match(p));
      },
      what,
    );
    eq(e.message.headers['x-amz-chime-event-type'], type, `${what}: x-amz-chime-event-type header`);
    eq(e.message.headers['x-amz-chime-message-type'], messageType, `${what}: x-amz-chime-message-type header`);
    return e.payload;
  }
}

function observe(session) {
  const events = new Events();
  session.addObserver({
    messagingSessionDidStartConnecting: reconnecting => events.push({ kind: 'connecting', reconnecting }),
    messagingSessionDidStart: () => events.push({ kind: 'start' }),
    messagingSessionDidStop: event => events.push({ kind: 'stop', code: event.code }),
    messagingSessionDidReceiveMessage: message => {
      let payload = null;
      if (message.payload) {
        try {
          payload = JSON.parse(message.payload);
        } catch (err) {
          payload = { unparsable: message.payload, error: String(err) };
        }
      }
      events.push({ kind: 'message', type: message.type, message, payload });
    },
  });
  return events;
}

// stderrLogger is the SDK's Logger interface, writing to stderr: stdout
// carries the protocol with the driver.
function stderrLogger(level) {
  const log = (name, lv) => msg => {
    if (lv >= level) {
      process.stderr.write(`${new Date().toISOString()} [chime-sdk ${name}] ${typeof msg === 'function' ? msg() : msg}\n`);
    }
  };
  return {
    debug: log('debug', LogLevel.DEBUG),
    info: log('info', LogLevel.INFO),
    warn: log('warn', LogLevel.WARN),
    error: log('error', LogLevel.ERROR),
    setLogLevel: lv => {
      level = lv;
    },
    getLogLevel: () => level,
  };
}

// driverAnswer resolves when the driver writes line on stdin.
function driverAnswer(line) {
  const rl = readline.createInterface({ input: process.stdin });
  return new Promise((resolve, reject) => {
    rl.on('line', l => {
      if (l.trim() === line) {
        resolve();
        rl.close();
      }
    });
    rl.on('close', () => reject(new Error(`stdin closed before the driver answered ${line}`)));
  });
}

function withTimeout(promise, ms, what) {
  let t;
  return Promise.race([
    promise.finally(() => clearTimeout(t)),
    new Promise((_, reject) => {
      t = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
    }),
  ]);
}

// --- Checks of payloads -------------------------------------------------

function checkChannelMessage(p, want, what) {
  for (const [k, v] of Object.entries(want)) {
    if (k === 'SenderArn') eq(p.Sender?.Arn, v, `${what}: Sender.Arn`);
    else if (k === 'SenderName') eq(p.Sender?.Name, v, `${what}: Sender.Name`);
    else eq(p[k], v, `${what}: ${k}`);
  }
  check(ISO.test(p.CreatedTimestamp), `${what}: CreatedTimestamp ${p.CreatedTimestamp} is not ISO-8601 with milliseconds`);
  check(typeof p.Content === 'string', `${what}: Content ${JSON.stringify(p.Content)} is not a string`);
}

// --- The test -----------------------------------------------------------

async function main() {
  const s = settings();
  check(s.endpoint.startsWith('https://'), `CARILLON_ENDPOINT must be https:// (the session is wss://), not ${s.endpoint}`);
  check(process.env.NODE_EXTRA_CA_CERTS, 'NODE_EXTRA_CA_CERTS must name the server certificate (PEM)');
  const restartAnswered = driverAnswer('RESTARTED');
  restartAnswered.catch(() => {}); // awaited later, with a timeout

  // Setup with the root key, which may act as any user.
  const identity = identityClient(s);
  const root = messagingClient(s);
  const ai = (await identity.send(new CreateAppInstanceCommand({ Name: 'JS session' }))).AppInstanceArn;
  const user = async (id, name) =>
    (await identity.send(new CreateAppInstanceUserCommand({ AppInstanceArn: ai, AppInstanceUserId: id, Name: name })))
      .AppInstanceUserArn;
  const alice = await user('alice', 'Alice');
  const bob = await user('bob', 'Bob');
  const admin = await user('admin', 'Admin');
  await identity.send(new CreateAppInstanceAdminCommand({ AppInstanceArn: ai, AppInstanceAdminArn: admin }));

  const channel = async (name, members = [bob]) =>
    (
      await root.send(
        new CreateChannelCommand({
          AppInstanceArn: ai,
          Name: name,
          Mode: 'RESTRICTED',
          Privacy: 'PRIVATE',
          Metadata: `${name} metadata`,
          MemberArns: members.length ? members : undefined,
          ChimeBearer: alice,
        }),
      )
    ).ChannelArn;
  const send = async (ch, bearer, content, extra = {}) =>
    (
      await root.send(
        new SendChannelMessageCommand({
          ChannelArn: ch,
          Content: content,
          Type: 'STANDARD',
          Persistence: 'PERSISTENT',
          ChimeBearer: bearer,
          ...extra,
        }),
      )
    ).MessageId;

  // Prefetch fixture, oldest activity first: "busy" (21 messages from
  // Bob, unread), "unread" (one newer message from Bob) and "read" (the
  // newest message, Alice's, and her read marker after it). Sorted by
  // unread the order is unread, busy, read; by last message it would be
  // read, unread, busy.
  const busy = await channel('busy');
  const busyIds = [];
  for (let i = 1; i <= 21; i++) {
    busyIds.push(await send(busy, bob, `busy ${i}`));
    await sleep(2); // distinct creation times (milliseconds)
  }
  await sleep(5);
  const unread = await channel('unread');
  await send(unread, bob, 'you have not read this');
  await sleep(5);
  const read = await channel('read', []);
  await send(read, alice, 'mine');
  await sleep(5);
  await root.send(new UpdateChannelReadMarkerCommand({ ChannelArn: read, ChimeBearer: alice }));

  // The session, signed with a temporary per-user key of Alice's (with a
  // session token, like STS credentials in a browser app).
  const aliceCreds = await createUserCredentials(s, alice, 900);
  check(aliceCreds.sessionToken, 'a temporary key came without a session token');
  const chimeClient = messagingClient(s, aliceCreds);
  const config = new MessagingSessionConfiguration(alice, null, undefined, chimeClient);
  config.prefetchOn = PrefetchOn.Connect;
  config.prefetchSortBy = PrefetchSortBy.Unread;
  const session = new DefaultMessagingSession(config, stderrLogger(LogLevel.INFO));
  const events = observe(session);

  await withTimeout(session.start(), 10_000, 'DefaultMessagingSession.start');
  let e = await events.expect('connecting', undefined, undefined, 'first connect');
  eq(e.reconnecting, false, 'messagingSessionDidStartConnecting(reconnecting) on start');
  await events.expect('start', undefined, undefined, 'messagingSessionDidStart');
  e = await events.expect('message', 'SESSION_ESTABLISHED', undefined, 'SESSION_ESTABLISHED');
  eq(e.message.payload, null, 'SESSION_ESTABLISHED payload');
  eq(e.message.headers['x-amz-chime-message-type'], 'SYSTEM', 'SESSION_ESTABLISHED message type');
  const firstEstablished = events.all.indexOf(e);

  // CHANNEL_DETAILS: one per channel, in the requested order.
  const details = [];
  for (let i = 0; i < 3; i++) {
    details.push(await events.message('CHANNEL_DETAILS', undefined, undefined, `CHANNEL_DETAILS #${i + 1}`));
  }
  const names = { [busy]: 'busy', [unread]: 'unread', [read]: 'read' };
  eq(details.map(d => names[d.Channel?.ChannelArn] ?? d.Channel?.ChannelArn).join(','), 'unread,busy,read', 'prefetch order (sort by unread)');
  const [dUnread, dBusy, dRead] = details;
  for (const d of details) {
    const name = names[d.Channel.ChannelArn];
    const what = `CHANNEL_DETAILS of ${name}`;
    eq(d.Channel.Name, name, `${what}: Channel.Name`);
    eq(d.Channel.Mode, 'RESTRICTED', `${what}: Channel.Mode`);
    eq(d.Channel.Privacy, 'PRIVATE', `${what}: Channel.Privacy`);
    eq(d.Channel.Metadata, `${name} metadata`, `${what}: Channel.Metadata`);
    check(ISO.test(d.Channel.LastMessageTimestamp), `${what}: Channel.LastMessageTimestamp ${d.Channel.LastMessageTimestamp}`);
    check(Array.isArray(d.ChannelMessages), `${what}: ChannelMessages is not an array`);
    check(Array.isArray(d.ChannelMemberships), `${what}: ChannelMemberships is not an array`);
    eq(typeof d.ChannelMessagesHasMore, 'boolean', `${what}: type of ChannelMessagesHasMore`);
    const members = d.ChannelMemberships.map(m => `${m.Member?.Arn}=${m.Member?.Name}`).sort().join(' ');
    const want = name === 'read' ? [`${alice}=Alice`] : [`${alice}=Alice`, `${bob}=Bob`];
    eq(members, want.sort().join(' '), `${what}: ChannelMemberships`);
  }
  // busy: the 20 latest of 21 messages, newest first, and more to page.
  eq(dBusy.ChannelMessages.length, 20, 'CHANNEL_DETAILS of busy: number of ChannelMessages');
  eq(dBusy.ChannelMessagesHasMore, true, 'CHANNEL_DETAILS of busy: ChannelMessagesHasMore');
  eq(
    dBusy.ChannelMessages.map(m => m.Content).join('|'),
    Array.from({ length: 20 }, (_, i) => `busy ${21 - i}`).join('|'),
    'CHANNEL_DETAILS of busy: messages, newest first',
  );
  eq(dBusy.ChannelMessages[0].MessageId, busyIds[20], 'CHANNEL_DETAILS of busy: newest MessageId');
  const m0 = dBusy.ChannelMessages[0];
  eq(m0.Sender?.Arn, bob, 'CHANNEL_DETAILS of busy: Sender.Arn');
  eq(m0.Sender?.Name, 'Bob', 'CHANNEL_DETAILS of busy: Sender.Name');
  eq(m0.Type, 'STANDARD', 'CHANNEL_DETAILS of busy: message Type');
  eq(m0.Redacted, false, 'CHANNEL_DETAILS of busy: Redacted');
  check(ISO.test(m0.CreatedTimestamp), `CHANNEL_DETAILS of busy: CreatedTimestamp ${m0.CreatedTimestamp}`);
  eq(dBusy.Channel.LastMessageTimestamp, m0.CreatedTimestamp, 'CHANNEL_DETAILS of busy: LastMessageTimestamp is the newest message');
  check(dBusy.ReadMarkerTimestamp === undefined, `CHANNEL_DETAILS of busy: ReadMarkerTimestamp ${dBusy.ReadMarkerTimestamp} though never read`);
  // unread and read: one message each.
  eq(dUnread.ChannelMessages.map(m => m.Content).join('|'), 'you have not read this', 'CHANNEL_DETAILS of unread: messages');
  eq(dUnread.ChannelMessagesHasMore, false, 'CHANNEL_DETAILS of unread: ChannelMessagesHasMore');
  eq(dRead.ChannelMessages.map(m => m.Content).join('|'), 'mine', 'CHANNEL_DETAILS of read: messages');
  eq(dRead.ChannelMessagesHasMore, false, 'CHANNEL_DETAILS of read: ChannelMessagesHasMore');
  check(ISO.test(dRead.ReadMarkerTimestamp ?? ''), `CHANNEL_DETAILS of read: ReadMarkerTimestamp ${dRead.ReadMarkerTimestamp}`);
  check(
    dRead.ReadMarkerTimestamp >= dRead.Channel.LastMessageTimestamp,
    `CHANNEL_DETAILS of read: ReadMarkerTimestamp ${dRead.ReadMarkerTimestamp} before LastMessageTimestamp ${dRead.Channel.LastMessageTimestamp}`,
  );

  // Live events on a new channel of Alice's.
  const live = (
    await root.send(
      new CreateChannelCommand({ AppInstanceArn: ai, Name: 'live', Mode: 'UNRESTRICTED', Privacy: 'PUBLIC', ChimeBearer: alice }),
    )
  ).ChannelArn;
  let p = await events.message('CREATE_CHANNEL_MEMBERSHIP', live, p => p.Member?.Arn === alice, "Alice's membership of the channel she created");
  eq(p.Type, 'DEFAULT', 'CREATE_CHANNEL_MEMBERSHIP (Alice): Type');

  await root.send(new CreateChannelMembershipCommand({ ChannelArn: live, MemberArn: bob, Type: 'DEFAULT', ChimeBearer: alice }));
  p = await events.message('CREATE_CHANNEL_MEMBERSHIP', live, p => p.Member?.Arn === bob, 'Bob added');
  eq(p.Member.Name, 'Bob', 'CREATE_CHANNEL_MEMBERSHIP: Member.Name');
  eq(p.InvitedBy?.Arn, alice, 'CREATE_CHANNEL_MEMBERSHIP: InvitedBy.Arn');
  eq(p.Type, 'DEFAULT', 'CREATE_CHANNEL_MEMBERSHIP: Type');
  check(ISO.test(p.CreatedTimestamp), `CREATE_CHANNEL_MEMBERSHIP: CreatedTimestamp ${p.CreatedTimestamp}`);

  const id = await send(live, bob, 'live hello', {
    Metadata: 'meta',
    MessageAttributes: { mention: { StringValues: [alice] } },
  });
  p = await events.message('CREATE_CHANNEL_MESSAGE', live, p => p.MessageId === id, 'Bob sends', 'STANDARD');
  checkChannelMessage(
    p,
    { Content: 'live hello', Metadata: 'meta', Type: 'STANDARD', Persistence: 'PERSISTENT', Redacted: false, SenderArn: bob, SenderName: 'Bob' },
    'CREATE_CHANNEL_MESSAGE',
  );
  eq(p.Status?.Value, 'SENT', 'CREATE_CHANNEL_MESSAGE: Status.Value');
  eq(JSON.stringify(p.MessageAttributes), JSON.stringify({ mention: { StringValues: [alice] } }), 'CREATE_CHANNEL_MESSAGE: MessageAttributes');
  const createdAt = p.CreatedTimestamp;

  await root.send(new UpdateChannelMessageCommand({ ChannelArn: live, MessageId: id, Content: 'live edited', ChimeBearer: bob }));
  p = await events.message('UPDATE_CHANNEL_MESSAGE', live, p => p.MessageId === id, 'Bob edits', 'STANDARD');
  checkChannelMessage(p, { Content: 'live edited', Redacted: false, SenderArn: bob, CreatedTimestamp: createdAt }, 'UPDATE_CHANNEL_MESSAGE');
  check(ISO.test(p.LastEditedTimestamp) && p.LastEditedTimestamp >= createdAt, `UPDATE_CHANNEL_MESSAGE: LastEditedTimestamp ${p.LastEditedTimestamp}`);

  await root.send(new RedactChannelMessageCommand({ ChannelArn: live, MessageId: id, ChimeBearer: bob }));
  p = await events.message('REDACT_CHANNEL_MESSAGE', live, p => p.MessageId === id, 'Bob redacts', 'STANDARD');
  checkChannelMessage(p, { Content: '', Redacted: true, SenderArn: bob }, 'REDACT_CHANNEL_MESSAGE');
  check(!p.Metadata && !p.MessageAttributes, `REDACT_CHANNEL_MESSAGE kept Metadata or MessageAttributes: ${JSON.stringify(p)}`);

  const doomed = await send(live, bob, 'doomed');
  await events.message('CREATE_CHANNEL_MESSAGE', live, p => p.MessageId === doomed, 'Bob sends another', 'STANDARD');
  await root.send(new DeleteChannelMessageCommand({ ChannelArn: live, MessageId: doomed, ChimeBearer: admin }));
  p = await events.message('DELETE_CHANNEL_MESSAGE', live, p => p.MessageId === doomed, 'the AppInstanceAdmin deletes it', 'STANDARD');
  // The event carries the message as it was.
  checkChannelMessage(p, { Content: 'doomed', Redacted: false, SenderArn: bob }, 'DELETE_CHANNEL_MESSAGE');

  await root.send(new UpdateChannelCommand({ ChannelArn: live, Name: 'live renamed', Mode: 'UNRESTRICTED', Metadata: 'new', ChimeBearer: alice }));
  p = await events.message('UPDATE_CHANNEL', live, undefined, 'Alice renames the channel');
  eq(p.Name, 'live renamed', 'UPDATE_CHANNEL: Name');
  eq(p.Metadata, 'new', 'UPDATE_CHANNEL: Metadata');
  eq(p.Mode, 'UNRESTRICTED', 'UPDATE_CHANNEL: Mode');
  eq(p.Privacy, 'PUBLIC', 'UPDATE_CHANNEL: Privacy');
  eq(p.CreatedBy?.Arn, alice, 'UPDATE_CHANNEL: CreatedBy.Arn');

  await root.send(new DeleteChannelMembershipCommand({ ChannelArn: live, MemberArn: bob, ChimeBearer: alice }));
  p = await events.message('DELETE_CHANNEL_MEMBERSHIP', live, p => p.Member?.Arn === bob, 'Alice removes Bob');
  eq(p.Member.Name, 'Bob', 'DELETE_CHANNEL_MEMBERSHIP: Member.Name');

  await root.send(new DeleteChannelCommand({ ChannelArn: live, ChimeBearer: alice }));
  p = await events.message('DELETE_CHANNEL', live, undefined, 'Alice deletes the channel');
  eq(p.Name, 'live renamed', 'DELETE_CHANNEL: Name');

  // Nothing unexpected so far: every message is one of those expected,
  // once.
  const seen = events.all.filter(e => e.kind === 'message').map(e => e.type);
  const counts = {};
  for (const t of seen.sort()) counts[t] = (counts[t] ?? 0) + 1;
  const sorted = o => JSON.stringify(Object.fromEntries(Object.entries(o).sort()));
  eq(
    JSON.stringify(counts),
    sorted({
      SESSION_ESTABLISHED: 1,
      CHANNEL_DETAILS: 3,
      CREATE_CHANNEL_MEMBERSHIP: 2,
      CREATE_CHANNEL_MESSAGE: 2,
      UPDATE_CHANNEL_MESSAGE: 1,
      REDACT_CHANNEL_MESSAGE: 1,
      DELETE_CHANNEL_MESSAGE: 1,
      UPDATE_CHANNEL: 1,
      DELETE_CHANNEL_MEMBERSHIP: 1,
      DELETE_CHANNEL: 1,
    }),
    'messages received before the restart, by type',
  );
  eq(events.all.filter(e => e.kind === 'connecting').length, 1, 'connection attempts before the restart');

  // Server restart: the driver stops the server, whose shutdown closes
  // the session with 1012, and starts it again on the same ports. The
  // SDK reconnects by itself: GetMessagingSessionEndpoint, a new
  // signature, SESSION_ESTABLISHED and the prefetch again.
  console.log('WAITING_RESTART');
  await withTimeout(restartAnswered, 30_000, 'the driver restarting the server');
  e = await events.expect('connecting', undefined, e => e.reconnecting, 'reconnect after the restart', 15_000);
  eq(e.reconnecting, true, 'messagingSessionDidStartConnecting(reconnecting) after the restart');
  check(closeCodes.includes(1012), `the server's shutdown closed the websocket with codes ${JSON.stringify(closeCodes)}, want 1012`);
  e = await events.expect('message', 'SESSION_ESTABLISHED', undefined, 'SESSION_ESTABLISHED after the restart', 15_000);
  check(events.all.indexOf(e) > firstEstablished, 'no second SESSION_ESTABLISHED');
  const again = [];
  for (let i = 0; i < 3; i++) {
    again.push((await events.message('CHANNEL_DETAILS', undefined, undefined, `CHANNEL_DETAILS #${i + 1} after the restart`)).Channel.ChannelArn);
  }
  eq(again.map(a => names[a] ?? a).join(','), 'unread,busy,read', 'prefetch order after the restart');
  check(!events.all.some(e => e.kind === 'stop'), 'messagingSessionDidStop was called: the SDK gave up instead of reconnecting');

  // The new server delivers to the reconnected session.
  const after = await send(unread, bob, 'after the restart');
  p = await events.message('CREATE_CHANNEL_MESSAGE', unread, p => p.MessageId === after, 'a message sent after the restart', 'STANDARD');
  checkChannelMessage(p, { Content: 'after the restart', SenderArn: bob }, 'CREATE_CHANNEL_MESSAGE after the restart');

  // stop() closes without reconnecting and tells the observer.
  const attempts = events.all.filter(e => e.kind === 'connecting').length;
  session.stop();
  e = await events.expect('stop', undefined, undefined, 'messagingSessionDidStop after stop()');
  check(!(e.code >= 4000) && e.code !== 1012, `stop() closed with ${e.code}`);
  await sleep(200);
  eq(events.all.filter(e => e.kind === 'connecting').length, attempts, 'connection attempts after stop()');
}

run('session.mjs', main, 50_000);
