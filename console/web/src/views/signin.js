// Sign-in: an access key pair, root or per-user, checked with the server
// before the console opens.

import { h, replace } from '../dom.js';
import * as api from '../api.js';
import { errorBox } from '../ui.js';

export function signInView({ error, onSignedIn }) {
  const errorSlot = h('div', error ? errorBox(error, 'Sign in again.') : null);
  const field = (id, label, props = {}, help) => h('div.field',
    h('label', { for: id }, label, props.required ? null : h('span.optional', ' (optional)')),
    h('input', { id, name: id, autocomplete: 'off', spellcheck: 'false', ...props }),
    help ? h('p.help', help) : null);
  const submit = h('button.primary#signin', { type: 'submit' }, 'Sign in');
  const formEl = h('form.signin-form', { 'aria-labelledby': 'signin-title' },
    field('accessKeyId', 'Access key ID', { required: true, placeholder: 'CKIA…' },
      'Paste the key id, or the whole JSON that carillon credentials create prints.'),
    field('secretAccessKey', 'Secret access key', { required: true, type: 'password' }),
    field('sessionToken', 'Session token', { type: 'password' }, 'Only for a key that expires (created with --expires).'),
    field('region', 'Region', { required: true, value: api.defaultRegion() }),
    errorSlot,
    submit);

  // A pasted credentials JSON ({"AccessKeyId", "SecretAccessKey",
  // "SessionToken"}) fills every field.
  formEl.accessKeyId.addEventListener('input', e => {
    const v = e.target.value.trim();
    if (!v.startsWith('{')) {
      return;
    }
    try {
      const c = JSON.parse(v);
      formEl.accessKeyId.value = c.AccessKeyId ?? '';
      formEl.secretAccessKey.value = c.SecretAccessKey ?? '';
      formEl.sessionToken.value = c.SessionToken ?? '';
    } catch {
      // still typing
    }
  });

  formEl.addEventListener('submit', async e => {
    e.preventDefault();
    submit.disabled = true;
    submit.textContent = 'Signing in…';
    replace(errorSlot);
    const key = {
      accessKeyId: formEl.accessKeyId.value.trim(),
      secretAccessKey: formEl.secretAccessKey.value.trim(),
      sessionToken: formEl.sessionToken.value.trim(),
      region: formEl.region.value.trim(),
    };
    try {
      await api.signIn(key);
      onSignedIn();
    } catch (err) {
      replace(errorSlot, errorBox(err, hintFor(err)));
      submit.disabled = false;
      submit.textContent = 'Sign in';
    }
  });

  const page = h('div.signin',
    h('div.signin-card',
      h('div.brand', h('img', { src: 'icon.svg', alt: '', width: 32, height: 32 }), 'Carillon console'),
      h('h1#signin-title', 'Sign in with an access key'),
      h('p', 'Use the root key to see and manage everything, or a per-user key to see what that user sees. ',
        'The console signs every request in this browser, as an application using the AWS SDK does: it can do what the key may do, and nothing more.'),
      formEl,
      h('p.note',
        h('strong', 'Where the key is kept: '),
        'only in this tab\'s session storage. It is forgotten when you close the tab or sign out, and is never sent to the server: requests carry signatures made with it.'),
      h('details.note',
        h('summary', 'Where do I find a key?'),
        h('p', 'On its first start, carillon serve prints the root key it generated, and keeps it in root-credentials.json in its data directory; or set CARILLON_ACCESS_KEY_ID and CARILLON_SECRET_ACCESS_KEY before starting it.'),
        h('p', 'A per-user key comes from ', h('code', 'carillon credentials create --user ARN'), ', or from the page of a user in this console.'))));
  queueMicrotask(() => formEl.accessKeyId.focus());
  return page;
}

function hintFor(err) {
  switch (err.type) {
  case 'UnrecognizedClientException':
    return 'The server knows no such access key id.';
  case 'InvalidSignatureException':
    return 'The secret does not match the key id, or the region is not the server\'s.';
  case 'ExpiredTokenException':
    return 'The key has expired: create another.';
  case 'NetworkError':
    return 'Is the server running?';
  default:
    return undefined;
  }
}
