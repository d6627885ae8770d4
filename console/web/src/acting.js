// Whom the console acts as. Messaging calls carry a bearer
// (x-amz-chime-bearer): an AppInstanceUser or bot, whose rights the call
// has. The root key may act as anyone, so the console lets the user pick,
// per AppInstance, and remembers the choice for the tab; a per-user key
// acts as its own user only.

import { h } from './dom.js';
import * as api from './api.js';

const prefix = 'carillon.console.as.';

// principals lists an AppInstance's users, bots and admins (root only),
// kept for a few seconds so that moving between views does not list them
// again; forget() drops them after a change.
const cache = new Map();

export async function principals(app) {
  const hit = cache.get(app);
  if (hit && Date.now() - hit.at < 10000) {
    return hit.value;
  }
  const [users, bots, admins] = await Promise.all([
    api.listAll('identity', 'ListAppInstanceUsers', { AppInstanceArn: app }, 'AppInstanceUsers'),
    api.listAll('identity', 'ListAppInstanceBots', { AppInstanceArn: app }, 'AppInstanceBots'),
    api.listAll('identity', 'ListAppInstanceAdmins', { AppInstanceArn: app }, 'AppInstanceAdmins'),
  ]);
  const value = { users, bots, admins };
  cache.set(app, { at: Date.now(), value });
  return value;
}

export function forget(app) {
  cache.delete(app);
}

// bearer is whom messaging calls in app are made as: the per-user key's
// own user, or root's pick (by default an admin, who sees the most, else
// the first user or bot). '' when the AppInstance has nobody to act as.
export async function bearer(app) {
  if (!api.isRoot()) {
    return api.bearerOf();
  }
  const saved = sessionStorage.getItem(prefix + app);
  const p = await principals(app);
  const all = [...p.admins.map(a => a.Admin.Arn), ...p.users.map(u => u.AppInstanceUserArn), ...p.bots.map(b => b.AppInstanceBotArn)];
  if (saved && all.includes(saved)) {
    return saved;
  }
  return all[0] ?? '';
}

export function setBearer(app, arn) {
  sessionStorage.setItem(prefix + app, arn);
}

// nameOf finds a principal's name in p.
export function nameOf(p, arn) {
  return p.users.find(u => u.AppInstanceUserArn === arn)?.Name ??
    p.bots.find(b => b.AppInstanceBotArn === arn)?.Name ??
    p.admins.find(a => a.Admin.Arn === arn)?.Admin.Name ?? arn.slice(arn.lastIndexOf('/') + 1);
}

// picker is the "Acting as" control of a view: a select for root, the
// key's own user otherwise. onChange runs after a new pick.
export async function picker(app, current, onChange) {
  if (!api.isRoot()) {
    return h('div.acting', h('span.muted', 'Acting as '), h('strong', current.slice(current.lastIndexOf('/') + 1)),
      h('span.muted', ' (the key\'s own user)'));
  }
  const p = await principals(app);
  const admins = new Set(p.admins.map(a => a.Admin.Arn));
  const option = (arn, name, kind) => h('option', { value: arn, selected: arn === current },
    `${name} (${kind}${admins.has(arn) ? ', admin' : ''})`);
  const select = h('select#acting-as', {
    'aria-describedby': 'acting-help',
    onchange: e => {
      setBearer(app, e.target.value);
      onChange(e.target.value);
    },
  },
  current === '' ? h('option', { value: '' }, 'nobody yet: create a user') : null,
  p.users.map(u => option(u.AppInstanceUserArn, u.Name, 'user')),
  p.bots.map(b => option(b.AppInstanceBotArn, b.Name ?? b.AppInstanceBotArn, 'bot')));
  return h('div.acting',
    h('label', { for: 'acting-as' }, 'Acting as'), select,
    h('span#acting-help.help', 'Messaging calls are made as this user, with its rights.'));
}
