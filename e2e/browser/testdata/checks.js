// The checks of e2e/browser: what a web app does with Carillon, from a
// page of its own origin, with the AWS SDK for JavaScript v3 and
// amazon-chime-sdk-js as a bundler builds them for browsers. The Go test
// calls runChecks(settings) and reads the result; every step is also
// listed on the page, for the screenshot.

import {
  ChimeSDKIdentityClient,
  CreateAppInstanceCommand,
  CreateAppInstanceUserCommand,
} from '@aws-sdk/client-chime-sdk-identity';
import {
  ChimeSDKMessagingClient,
  CreateChannelCommand,
  ForbiddenException,
  ListChannelMessagesCommand,
  SendChannelMessageCommand,
} from '@aws-sdk/client-chime-sdk-messaging';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import {
  ConsoleLogger,
  DefaultMessagingSession,
  LogLevel,
  MessagingSessionConfiguration,
} from 'amazon-chime-sdk-js';

const list = document.getElementById('steps');

function step(text, ok = true) {
  const li = document.createElement('li');
  li.className = ok ? 'ok' : 'fail';
  li.textContent = text;
  list.appendChild(li);
}

function check(cond, message) {
  if (!cond) {
    throw new Error(message);
  }
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function wantRequestId(output, what) {
  const id = output.$metadata?.requestId;
  check(uuid.test(id ?? ''), `${what}: $metadata.requestId is ${JSON.stringify(id)}: x-amzn-RequestId is not readable`);
  return id;
}

// issueCredentials asks Carillon's own API for a key that acts only as
// bearer, as an application's backend would for its signed-in user.
async function issueCredentials(s, bearer) {
  const url = new URL(s.endpoint + '/carillon/credentials');
  const body = JSON.stringify({ Bearer: bearer, ExpiresInSeconds: 3600 });
  const signer = new SignatureV4({ credentials: s.root, region: s.region, service: 'chime', sha256: Sha256 });
  const signed = await signer.sign(new HttpRequest({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    headers: { host: url.host, 'content-type': 'application/json' },
    body,
  }));
  const { host: _host, ...headers } = signed.headers; // fetch sets Host itself
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  check(res.ok, `POST /carillon/credentials: ${res.status} ${text}`);
  const c = JSON.parse(text);
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
}

function messagingFor(s, credentials) {
  return new ChimeSDKMessagingClient({ endpoint: s.endpoint, region: s.region, credentials, maxAttempts: 1 });
}

// events collects what alice's session observes, and waits for it.
function observe(session) {
  const seen = [];
  let wake = () => {};
  const push = e => {
    seen.push(e);
    wake();
  };
  session.addObserver({
    messagingSessionDidStart: () => push({ kind: 'start' }),
    messagingSessionDidStop: e => push({ kind: 'stop', code: e.code }),
    messagingSessionDidReceiveMessage: m => push({ kind: 'message', type: m.type, payload: m.payload }),
  });
  return async (match, what, timeoutMs = 15000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = seen.findIndex(match);
      if (i >= 0) {
        return seen.splice(i, 1)[0];
      }
      const left = deadline - Date.now();
      check(left > 0, `timed out waiting for ${what}; seen: ${JSON.stringify(seen)}`);
      await new Promise(resolve => {
        wake = resolve;
        setTimeout(resolve, Math.min(left, 250));
      });
    }
  };
}

window.runChecks = async function runChecks(s) {
  s.root = { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey };
  document.getElementById('origin').textContent = location.origin;
  document.getElementById('endpoint').textContent = s.endpoint;
  const out = {};
  try {
    const identity = new ChimeSDKIdentityClient({ endpoint: s.endpoint, region: s.region, credentials: s.root, maxAttempts: 1 });
    const app = await identity.send(new CreateAppInstanceCommand({ Name: 'browser', ClientRequestToken: crypto.randomUUID() }));
    out.createAppInstanceRequestId = wantRequestId(app, 'CreateAppInstance');
    step(`CreateAppInstance ${app.AppInstanceArn}`);

    const users = {};
    for (const id of ['alice', 'bob']) {
      const u = await identity.send(new CreateAppInstanceUserCommand({
        AppInstanceArn: app.AppInstanceArn, AppInstanceUserId: id, Name: id, ClientRequestToken: crypto.randomUUID(),
      }));
      users[id] = { arn: u.AppInstanceUserArn, credentials: await issueCredentials(s, u.AppInstanceUserArn) };
      step(`CreateAppInstanceUser ${id}, and a key that acts only as ${id}`);
    }
    const alice = messagingFor(s, users.alice.credentials);
    const bob = messagingFor(s, users.bob.credentials);

    const chat = await bob.send(new CreateChannelCommand({
      AppInstanceArn: app.AppInstanceArn, Name: 'chat', ChimeBearer: users.bob.arn,
      MemberArns: [users.alice.arn], ClientRequestToken: crypto.randomUUID(),
    }));
    step('CreateChannel "chat" (bob, with alice)');
    const secret = await bob.send(new CreateChannelCommand({
      AppInstanceArn: app.AppInstanceArn, Name: 'secret', ChimeBearer: users.bob.arn, Privacy: 'PRIVATE',
      ChannelId: s.forbiddenChannelId, ClientRequestToken: crypto.randomUUID(),
    }));
    step('CreateChannel "secret" (bob alone, private)');

    // The documented way: no endpoint, the SDK asks
    // GetMessagingSessionEndpoint with alice's client.
    const config = new MessagingSessionConfiguration(users.alice.arn, null, undefined, alice);
    const session = new DefaultMessagingSession(config, new ConsoleLogger('session', LogLevel.WARN));
    const next = observe(session);
    await session.start();
    await next(e => e.kind === 'start', 'messagingSessionDidStart');
    step('DefaultMessagingSession started (endpoint from GetMessagingSessionEndpoint)');

    const content = `hello from ${location.origin}`;
    const sent = await bob.send(new SendChannelMessageCommand({
      ChannelArn: chat.ChannelArn, ChimeBearer: users.bob.arn, Content: content,
      Type: 'STANDARD', Persistence: 'PERSISTENT', ClientRequestToken: crypto.randomUUID(),
    }));
    out.sendRequestId = wantRequestId(sent, 'SendChannelMessage');
    step(`SendChannelMessage (bob), request id ${out.sendRequestId}`);

    const got = await next(e => e.kind === 'message' && e.type === 'CREATE_CHANNEL_MESSAGE', 'CREATE_CHANNEL_MESSAGE');
    const payload = JSON.parse(got.payload);
    check(payload.Content === content && payload.MessageId === sent.MessageId,
      `CREATE_CHANNEL_MESSAGE carries ${got.payload}, want message ${sent.MessageId} "${content}"`);
    out.received = payload.Content;
    step('alice\'s session received CREATE_CHANNEL_MESSAGE');

    const listed = await alice.send(new ListChannelMessagesCommand({ ChannelArn: chat.ChannelArn, ChimeBearer: users.alice.arn }));
    check(listed.ChannelMessages?.some(m => m.MessageId === sent.MessageId), `ListChannelMessages: ${JSON.stringify(listed.ChannelMessages)}`);
    out.listRequestId = wantRequestId(listed, 'ListChannelMessages');
    out.listed = listed.ChannelMessages.length;
    step(`ListChannelMessages (alice): ${listed.ChannelMessages.length} message(s)`);

    let err;
    try {
      await alice.send(new ListChannelMessagesCommand({ ChannelArn: secret.ChannelArn, ChimeBearer: users.alice.arn }));
    } catch (e) {
      err = e;
    }
    check(err, 'ListChannelMessages of a private channel alice is not in: succeeded');
    check(err.name === 'ForbiddenException' && err instanceof ForbiddenException,
      `ListChannelMessages of a private channel alice is not in: ${err.name} (${err.message}), want ForbiddenException`);
    check(err.$metadata?.httpStatusCode === 403, `ForbiddenException with status ${err.$metadata?.httpStatusCode}`);
    out.forbiddenRequestId = wantRequestId(err, 'ForbiddenException');
    out.forbidden = err.name;
    step(`ListChannelMessages of "secret" (alice): ${err.name}`);

    session.stop();
    const stop = await next(e => e.kind === 'stop', 'messagingSessionDidStop');
    out.stopCode = stop.code;
    step(`DefaultMessagingSession stopped (${stop.code})`);
    out.ok = true;
  } catch (e) {
    step(String(e), false);
    out.error = `${e.name}: ${e.message}`;
  }
  return out;
};
