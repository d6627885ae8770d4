// An unmodified DefaultMessagingSession of amazon-chime-sdk-js loses
// nothing across a server restart (docs/sessions.md): another client
// keeps sending while the server stops and as soon as it answers again,
// before the SDK has reconnected; after the SDK reconnects by itself, its
// observer has received every message exactly once, in order.
//
// Settings and the protocol with the driver: as session.mjs (one
// WAITING_RESTART, answered RESTARTED), then PASS.

import readline from 'node:readline';

import WS from 'ws';
import { CreateAppInstanceCommand, CreateAppInstanceUserCommand } from '@aws-sdk/client-chime-sdk-identity';
import {
  CreateChannelCommand,
  CreateChannelMembershipCommand,
  SendChannelMessageCommand,
} from '@aws-sdk/client-chime-sdk-messaging';
import chime from 'amazon-chime-sdk-js';

import { check, createUserCredentials, eq, identityClient, messagingClient, run, settings, sleep } from './common.mjs';

const { DefaultMessagingSession, LogLevel, MessagingSessionConfiguration, ConsoleLogger } = chime;

// The browser globals the SDK needs in Node 20 (session.mjs says why).
globalThis.WebSocket = WS;
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

// until waits for cond, checking every 20 ms, failing after ms; what is
// a string, or a function that tells what was awaited and what came.
async function until(cond, ms, what) {
  const deadline = Date.now() + ms;
  while (!cond()) {
    check(Date.now() < deadline, () => `${typeof what === 'function' ? what() : what}: not within ${ms} ms`);
    await sleep(20);
  }
}

async function main() {
  const s = settings();
  const restartAnswered = driverAnswer('RESTARTED');
  const identity = identityClient(s);
  const root = messagingClient(s);
  const ai = (await identity.send(new CreateAppInstanceCommand({ Name: 'JS resume' }))).AppInstanceArn;
  const user = async id =>
    (await identity.send(new CreateAppInstanceUserCommand({ AppInstanceArn: ai, AppInstanceUserId: id, Name: id })))
      .AppInstanceUserArn;
  const alice = await user('alice');
  const bob = await user('bob');
  const ch = (await root.send(new CreateChannelCommand({ AppInstanceArn: ai, Name: 'resume', ChimeBearer: bob })))
    .ChannelArn;
  await root.send(new CreateChannelMembershipCommand({ ChannelArn: ch, MemberArn: alice, Type: 'DEFAULT', ChimeBearer: bob }));

  // Alice listens.
  const received = [];
  let established = 0;
  let reconnecting = false;
  const creds = await createUserCredentials(s, alice, 900);
  const config = new MessagingSessionConfiguration(alice, null, undefined, messagingClient(s, creds));
  const session = new DefaultMessagingSession(config, new ConsoleLogger('sdk', LogLevel.WARN));
  session.addObserver({
    messagingSessionDidStartConnecting: r => {
      if (r) reconnecting = true;
    },
    messagingSessionDidReceiveMessage: m => {
      if (m.type === 'SESSION_ESTABLISHED') established++;
      if (m.type === 'CREATE_CHANNEL_MESSAGE') received.push(JSON.parse(m.payload).Content);
    },
  });
  await session.start();
  await until(() => established === 1, 10_000, 'SESSION_ESTABLISHED');

  // Bob sends without pause, retrying each message (with its
  // ClientRequestToken: a send whose answer was lost to the restart is
  // not sent twice) until the server accepts it.
  const sent = [];
  let sending = true;
  let sentBeforeReconnect = -1;
  const sender = (async () => {
    for (let i = 0; sending; i++) {
      const content = `m${i}`;
      for (;;) {
        try {
          await root.send(
            new SendChannelMessageCommand({
              ChannelArn: ch, Content: content, Type: 'STANDARD', Persistence: 'PERSISTENT',
              ClientRequestToken: `resume-${i}`, ChimeBearer: bob,
            }),
          );
          break;
        } catch {
          await sleep(20);
        }
      }
      sent.push(content);
      await sleep(5);
    }
  })();
  await until(() => received.length >= 20, 15_000, '20 messages before the restart');

  console.log('WAITING_RESTART');
  const sentBeforeRestart = sent.length;
  await restartAnswered;
  await until(() => established === 2, 30_000, 'the SDK reconnecting by itself (a second SESSION_ESTABLISHED)');
  sentBeforeReconnect = sent.length;
  check(reconnecting, 'the SDK did not report reconnecting');
  await until(() => sent.length >= sentBeforeReconnect + 20, 15_000, '20 messages after the reconnection');
  sending = false;
  await sender;
  const want = sent.join(' ');
  await until(() => received.length >= sent.length, 20_000, () => `the ${sent.length} messages sent (${received.length} received)`);
  await sleep(200); // a duplicate would come now
  if (received.join(' ') !== want) {
    let i = 0;
    while (i < received.length && received[i] === sent[i]) i++;
    check(false, `received ${received.length} messages, sent ${sent.length}; they differ from #${i}: ` +
      `received ${JSON.stringify(received.slice(i, i + 5))}, sent ${JSON.stringify(sent.slice(i, i + 5))}`);
  }
  eq(established, 2, 'SESSION_ESTABLISHED frames');
  console.error(`sent ${sent.length}: ${sentBeforeRestart} before the restart, ` +
    `${sentBeforeReconnect - sentBeforeRestart} between it and the SDK's reconnection`);
  session.stop();
}

run('session_resume.mjs', main, 80_000);
