// Carillon's console: the page's shell, its routes (in the URL's
// fragment, so that each view has an address to reload or share), and
// the keyboard shortcuts.

import { h, replace } from './dom.js';
import * as api from './api.js';
import { signInView } from './views/signin.js';
import { appsView } from './views/apps.js';
import { appView } from './views/app.js';
import { userView } from './views/user.js';
import { channelView } from './views/channel.js';
import { statusView } from './views/status.js';
import { liveView, liveIndicator } from './views/live.js';
import { errorBox, form } from './ui.js';

const root = document.getElementById('app');

// Routes: the fragment's path, matched in order.
const routes = [
  [/^$/, ctx => (api.isRoot() ? appsView(ctx) : homeOfUser(ctx))],
  [/^apps$/, appsView],
  [/^apps\/([^/]+)\/users\/([^/]+)$/, userView],
  [/^apps\/([^/]+)(?:\/([a-z]+))?$/, appView],
  [/^channels\/([^/]+)(?:\/([a-z-]+))?$/, channelView],
  [/^status$/, statusView],
  [/^live$/, liveView],
];

// A per-user key's home is its own page: its channels.
function homeOfUser(ctx) {
  const me = api.bearerOf();
  const app = me.slice(0, me.search(/\/(user|bot)\//));
  ctx.params = [app, me];
  return userView(ctx);
}

let shell;
let main;
let navToken = 0;
let leave = [];

async function boot() {
  await api.loadConfig();
  const key = api.savedKey();
  if (key) {
    try {
      await api.signIn(key);
    } catch (err) {
      // The key no longer works (revoked, or the server's root key
      // changed): ask again, and say why.
      api.signOut();
      return showSignIn(err);
    }
    return showShell();
  }
  showSignIn();
}

function showSignIn(err) {
  shell = null;
  replace(root, signInView({ error: err, onSignedIn: showShell }));
}

function showShell() {
  const me = api.session().me;
  main = h('main#view', { tabindex: '-1' });
  const nav = h('nav.main-nav', { 'aria-label': 'Console' },
    me.Root ? navLink('#/apps', 'AppInstances', 'g a') : navLink('#/', 'My channels', 'g h'),
    navLink('#/live', 'Live', 'g l'),
    me.Root ? navLink('#/status', 'Server status', 'g s') : null);
  shell = h('div.shell',
    h('a.skip', { href: '#view', onclick: e => { e.preventDefault(); main.focus(); } }, 'Skip to the content'),
    h('aside.sidebar',
      h('a.brand', { href: '#/' }, h('img', { src: 'icon.svg', alt: '', width: 24, height: 24 }), 'Carillon'),
      nav,
      liveIndicator(),
      h('div.whoami',
        h('div.muted', 'Signed in with'),
        h('code', me.AccessKeyId),
        h('div', me.Root ? 'the root key' : h('span', 'a key of ', h('code', me.Bearer?.slice(me.Bearer.lastIndexOf('/') + 1)))),
        h('button.link', { type: 'button', onclick: signOut }, 'Sign out'),
        h('button.link', { type: 'button', onclick: showShortcuts, 'aria-keyshortcuts': '?' }, 'Keyboard shortcuts  ?'))),
    main);
  replace(root, shell);
  route();
}

function navLink(href, text, keys) {
  return h('a', { href, dataset: { nav: href }, 'aria-keyshortcuts': keys.replace(' ', '+') }, text, h('kbd', keys));
}

function signOut() {
  for (const fn of leave) {
    fn();
  }
  leave = [];
  api.signOut();
  location.hash = '';
  // The live session, if any, goes with the page.
  location.reload();
}

async function route() {
  if (!shell) {
    return;
  }
  for (const fn of leave) {
    fn();
  }
  leave = [];
  const token = ++navToken;
  const [path, query = ''] = location.hash.replace(/^#\/?/, '').split('?');
  for (const a of shell.querySelectorAll('.main-nav a')) {
    const target = a.dataset.nav.replace(/^#\/?/, '');
    const current = target === '' ? path === '' : path === target || path.startsWith(target + '/') ||
      (target === 'apps' && (path === '' || path.startsWith('channels/')));
    a.classList.toggle('active', current);
    if (current) {
      a.setAttribute('aria-current', 'page');
    } else {
      a.removeAttribute('aria-current');
    }
  }
  const view = h('div.view');
  replace(main, view);
  const ctx = {
    el: view,
    params: [],
    query: new URLSearchParams(query),
    alive: () => token === navToken,
    onLeave: fn => leave.push(fn),
    // refresh renders the current route again.
    refresh: () => route(),
  };
  for (const [re, render] of routes) {
    const m = re.exec(path);
    if (m) {
      ctx.params = m.slice(1).map(p => (p === undefined ? undefined : decodeURIComponent(p)));
      try {
        await render(ctx);
      } catch (err) {
        if (ctx.alive()) {
          replace(view, errorBox(api.toApiError(err)));
        }
      }
      return;
    }
  }
  replace(view, h('h1', 'Not found'), h('p', 'No view has this address. ', h('a', { href: '#/' }, 'Go to the start.')));
}

// Keyboard: g then a letter goes to a view; / focuses the filter of the
// list shown; n runs the view's main action (its button marked with
// aria-keyshortcuts="n"); ? lists the shortcuts.
let pendingG = 0;

function typing(e) {
  const t = e.target;
  return t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
}

document.addEventListener('keydown', e => {
  if (!shell || e.ctrlKey || e.metaKey || e.altKey || typing(e) || document.querySelector('dialog[open]')) {
    return;
  }
  const now = Date.now();
  if (now - pendingG < 1500) {
    pendingG = 0;
    const target = { a: '#/apps', h: '#/', l: '#/live', s: '#/status' }[e.key];
    if (target) {
      e.preventDefault();
      location.hash = target;
      main.focus();
    }
    return;
  }
  switch (e.key) {
  case 'g':
    pendingG = now;
    break;
  case '/': {
    const filter = main.querySelector('input.filter');
    if (filter) {
      e.preventDefault();
      filter.focus();
    }
    break;
  }
  case 'n': {
    const action = main.querySelector('[aria-keyshortcuts="n"]:not([disabled])');
    if (action) {
      e.preventDefault();
      action.click();
    }
    break;
  }
  case '?':
    e.preventDefault();
    showShortcuts();
    break;
  }
});

function showShortcuts() {
  const rows = [
    ['g a', 'AppInstances'], ['g l', 'Live'], ['g s', 'Server status'], ['g h', 'Start page'],
    ['/', 'Filter the list'], ['n', 'New: the view\'s main action'], ['Enter', 'Send, in a message box (Shift+Enter: new line)'],
    ['Esc', 'Close a dialog'], ['?', 'This list'],
  ];
  form({
    title: 'Keyboard shortcuts',
    intro: h('table.shortcuts', h('tbody', rows.map(([k, t]) => h('tr', h('td', h('kbd', k)), h('td', t))))),
    fields: [],
    submitLabel: 'Close',
    submit: async () => true,
  });
}

window.addEventListener('hashchange', route);
boot();
