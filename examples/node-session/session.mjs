// Receives, live, the messages of an AppInstanceUser's channels from
// Carillon, with amazon-chime-sdk-js's DefaultMessagingSession in Node:
//
//   npm ci                                   # in this directory, once
//   export AWS_PROFILE=carillon              # the profile of the README's quickstart
//   export NODE_EXTRA_CA_CERTS=/path/to/carillon-data/tls-cert.pem
//   node session.mjs USER_ARN
//
// It prints "Connected as USER_ARN" once the session is established, then
// one line per message event ("Alice: hello"), until Ctrl-C.
//
// Credentials, region and endpoint come from the standard AWS settings,
// the profile above or AWS_ACCESS_KEY_ID, AWS_REGION and
// AWS_ENDPOINT_URL_CHIME_SDK_MESSAGING. The key must be allowed to act as
// USER_ARN: Carillon's root key, or a key that acts only as that user
// (carillon credentials process --user USER_ARN).
//
// The REST calls go to the endpoint of the profile; the websocket goes to
// wss://<the host GetMessagingSessionEndpoint answers>, Carillon's HTTPS
// listener. Node must trust that listener's certificate: Carillon
// generates it into its data directory, and NODE_EXTRA_CA_CERTS, read when
// Node starts, adds it to the certificates Node trusts.

import WS from 'ws';
import { ChimeSDKMessagingClient } from '@aws-sdk/client-chime-sdk-messaging';
import chime from 'amazon-chime-sdk-js';

const { ConsoleLogger, DefaultMessagingSession, LogLevel, MessagingSessionConfiguration } = chime;

// --- Browser globals the SDK needs in Node 20 ----------------------------

// DefaultMessagingSession opens `new WebSocket(url, [])`, a browser global
// that Node 20 lacks; ws has the same constructor, constants and events.
// The subclass reports why a connection failed, which the SDK reduces to
// "WebSocket error".
class ReportingWebSocket extends WS {
  constructor(url, protocols) {
    super(url, protocols);
    this.on('error', err => explainError(err));
  }
}
globalThis.WebSocket = ReportingWebSocket;

// The SDK constructs a CloseEvent (code 4999) when it must reconnect
// without a socket close to report: GetMessagingSessionEndpoint failed,
// e.g. while the server restarts. Browsers have the class; without it
// Node 20 crashes there with "ReferenceError: CloseEvent is not defined".
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

// --- The session -----------------------------------------------------------

const userArn = process.argv[2];
if (!userArn || !userArn.includes('/user/')) {
  console.error('usage: node session.mjs USER_ARN   (an AppInstanceUser ARN: arn:aws:chime:…:app-instance/…/user/…)');
  process.exit(2);
}

let explained = false;
function explainError(err) {
  const code = err?.code ?? '';
  if (!explained && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) {
    explained = true;
    console.error(
      `The websocket's TLS handshake failed (${code}: ${err.message}): Node does not trust Carillon's certificate.\n` +
        'Start Node with NODE_EXTRA_CA_CERTS set to the server\'s certificate, <data-dir>/tls-cert.pem:\n' +
        '  NODE_EXTRA_CA_CERTS=/path/to/carillon-data/tls-cert.pem node session.mjs USER_ARN',
    );
  } else if (!explained) {
    console.error(`websocket error: ${err.message}`);
  }
}

// The client reads region, credentials and endpoint (endpoint_url) from
// the profile. The SDK presigns its connect URL with the same credentials.
const client = new ChimeSDKMessagingClient({});
const config = new MessagingSessionConfiguration(userArn, null, undefined, client);
// The SDK gives up reconnecting after 10 seconds; a server restart may
// take longer.
config.reconnectTimeoutMs = 10 * 60 * 1000;
const logger = new ConsoleLogger('session', LogLevel.WARN);
const session = new DefaultMessagingSession(config, logger);

session.addObserver({
  messagingSessionDidStart: () => {
    console.log(`Connected as ${userArn}; waiting for messages (Ctrl-C to stop)`);
  },
  messagingSessionDidStartConnecting: reconnecting => {
    if (reconnecting) console.log('Reconnecting…');
  },
  messagingSessionDidStop: event => {
    // 4401 (the signature was refused) and 4003 (forbidden, or replaced by
    // a newer session) stop the SDK for good; it reconnects after others.
    console.log(`Session closed: ${event.code} ${event.reason || ''}`.trim());
    if (event.code === 4401 || event.code === 4003) {
      console.error('The server refused the session; its log says why. See docs/troubleshooting.md.');
    } else {
      console.error('The SDK gave up reconnecting.');
    }
    process.exit(1);
  },
  messagingSessionDidReceiveMessage: message => {
    if (message.type === 'SESSION_ESTABLISHED') return;
    let p = {};
    try {
      p = JSON.parse(message.payload);
    } catch {
      // Not every event carries JSON.
    }
    switch (message.type) {
      case 'CREATE_CHANNEL_MESSAGE':
        console.log(`${p.Sender?.Name ?? p.Sender?.Arn}: ${p.Content}`);
        break;
      case 'UPDATE_CHANNEL_MESSAGE':
        console.log(`${p.Sender?.Name ?? p.Sender?.Arn} (edited): ${p.Content}`);
        break;
      default:
        console.log(`(${message.type})`);
    }
  },
});

process.on('SIGINT', () => {
  session.stop();
  process.exit(0);
});

try {
  await session.start();
} catch (err) {
  // The SDK rejects with the close event when the server refuses the
  // session: 4401 (the signature) or 4003 (forbidden).
  if (typeof err?.code === 'number') {
    console.error(`The session did not start: the server closed the connection: ${err.code} ${err.reason ?? ''}`.trim());
    console.error('The server\'s log says why ("connect refused … cause="). See docs/troubleshooting.md.');
  } else {
    console.error(`The session did not start: ${err?.message ?? err}`);
  }
  process.exit(1);
}
