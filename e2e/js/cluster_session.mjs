// End-to-end test of a cluster with the unmodified DefaultMessagingSession
// of amazon-chime-sdk-js: three servers behind a load balancer (the
// driver's), one of which the driver kills with SIGKILL while the
// session is connected to it. The SDK sees the connection end without a
// close frame (1006) and reconnects by itself, through the balancer, to
// another server, which delivers what is sent afterwards.
//
// Settings: see common.mjs; CARILLON_ENDPOINT is the balancer's https://
// endpoint and NODE_EXTRA_CA_CERTS the servers' certificates.
//
// Protocol with the driver, one line each way:
//   script → stdout: WAITING_KILL   (the driver kills the server the
//                                    session is connected to)
//   driver → stdin:  KILLED
// then the script prints PASS and exits 0, or prints what failed and
// exits 1.

import readline from 'node:readline';

import WS from 'ws';
import { CreateAppInstanceCommand, CreateAppInstanceUserCommand } from '@aws-sdk/client-chime-sdk-identity';
import { CreateChannelCommand, SendChannelMessageCommand } from '@aws-sdk/client-chime-sdk-messaging';
import chime from 'amazon-chime-sdk-js';

import { check, eq, Failure, identityClient, messagingClient, run, settings } from './common.mjs';

const { DefaultMessagingSession, LogLevel, MessagingSessionConfiguration } = chime;

// Node 20 has neither WebSocket nor CloseEvent (see session.mjs); ws
// stands in for the first, and records the close codes.
const closeCodes = [];
class RecordingWebSocket extends WS {
  constructor(url, protocols) {
    super(url, protocols);
    this.addEventListener('close', e => closeCodes.push(e.code));
  }
}
globalThis.WebSocket = RecordingWebSocket;
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

// events records what the observer saw; next() waits for the first one
// after the last returned that matches.
const events = [];
let cursor = 0;
let wake = () => {};
function push(e) {
  events.push(e);
  wake();
}
async function next(match, what, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (let i = cursor; i < events.length; i++) {
      if (match(events[i])) {
        cursor = i + 1;
        return events[i];
      }
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new Failure(`${what}: not seen within ${timeoutMs} ms; since the last one: ${JSON.stringify(events.slice(cursor).map(e => e.kind + ' ' + (e.type ?? '')))}`);
    }
    await new Promise(resolve => {
      const t = setTimeout(resolve, left);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}

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

function stderrLogger() {
  const log = name => msg => process.stderr.write(`${new Date().toISOString()} [chime-sdk ${name}] ${typeof msg === 'function' ? msg() : msg}\n`);
  return { debug: () => {}, info: log('info'), warn: log('warn'), error: log('error'), setLogLevel: () => {}, getLogLevel: () => LogLevel.INFO };
}

async function main() {
  const s = settings();
  const killed = driverAnswer('KILLED');
  killed.catch(() => {});
  const identity = identityClient(s);
  // Requests go through the balancer; one may meet a connection to the
  // server just killed: the SDK's retries are what an application has.
  const root = messagingClient(s, s.root, 3);
  const ai = (await identity.send(new CreateAppInstanceCommand({ Name: 'JS cluster' }))).AppInstanceArn;
  const user = async id =>
    (await identity.send(new CreateAppInstanceUserCommand({ AppInstanceArn: ai, AppInstanceUserId: id, Name: id }))).AppInstanceUserArn;
  const alice = await user('alice');
  const bob = await user('bob');
  const ch = (await root.send(new CreateChannelCommand({ AppInstanceArn: ai, Name: 'cluster', MemberArns: [bob], ChimeBearer: alice })))
    .ChannelArn;
  const send = async content =>
    (await root.send(new SendChannelMessageCommand({ ChannelArn: ch, Content: content, Type: 'STANDARD', Persistence: 'PERSISTENT', ChimeBearer: alice })))
      .MessageId;
  const message = (id, what) =>
    next(e => e.kind === 'message' && e.type === 'CREATE_CHANNEL_MESSAGE' && JSON.parse(e.payload).MessageId === id, what);

  const session = new DefaultMessagingSession(new MessagingSessionConfiguration(bob, null, undefined, messagingClient(s, s.root, 3)), stderrLogger());
  session.addObserver({
    messagingSessionDidStartConnecting: reconnecting => push({ kind: 'connecting', reconnecting }),
    messagingSessionDidStart: () => push({ kind: 'start' }),
    messagingSessionDidStop: event => push({ kind: 'stop', code: event.code }),
    messagingSessionDidReceiveMessage: m => push({ kind: 'message', type: m.type, payload: m.payload }),
  });
  await session.start();
  await next(e => e.kind === 'message' && e.type === 'SESSION_ESTABLISHED', 'SESSION_ESTABLISHED');
  await message(await send('before'), 'the message sent before the kill');

  console.log('WAITING_KILL');
  await killed;
  const e = await next(e => e.kind === 'connecting', 'the SDK reconnecting after the kill');
  eq(e.reconnecting, true, 'messagingSessionDidStartConnecting(reconnecting) after the kill');
  check(closeCodes.includes(1006), `the kill closed the websocket with codes ${JSON.stringify(closeCodes)}, want 1006`);
  await next(e => e.kind === 'message' && e.type === 'SESSION_ESTABLISHED', 'SESSION_ESTABLISHED on another server');
  await message(await send('after'), 'a message sent after the kill');
  check(!events.some(e => e.kind === 'stop'), 'messagingSessionDidStop was called: the SDK gave up instead of reconnecting');
  session.stop();
}

run('cluster_session.mjs', main, 60_000);
