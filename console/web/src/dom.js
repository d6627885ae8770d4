// Building the page without a framework: h() makes elements, and every
// text that comes from the server goes in as a text node, never as HTML.

// h('button.primary', { onclick, type: 'button' }, 'Save') makes an
// element. The tag may carry .classes and an #id; props set properties
// (on* are listeners, class, dataset, aria-* and others are attributes);
// children are nodes, strings, numbers, arrays of them, or null/false
// (skipped).
export function h(tag, props, ...children) {
  if (props == null || typeof props !== 'object' || props instanceof Node || Array.isArray(props)) {
    children.unshift(props);
    props = {};
  }
  const [, name, rest] = /^([a-z0-9-]*)(.*)$/i.exec(tag);
  const el = document.createElement(name || 'div');
  for (const part of rest.match(/[.#][^.#]+/g) ?? []) {
    if (part[0] === '.') {
      el.classList.add(part.slice(1));
    } else {
      el.id = part.slice(1);
    }
  }
  for (const [k, v] of Object.entries(props)) {
    if (v == null || v === false) {
      continue;
    }
    if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2).toLowerCase(), v);
    } else if (k === 'class') {
      for (const c of String(v).split(/\s+/).filter(Boolean)) {
        el.classList.add(c);
      }
    } else if (k === 'dataset') {
      Object.assign(el.dataset, v);
    } else if (k === 'value' || k === 'checked' || k === 'selected' || k === 'disabled' || k === 'hidden') {
      el[k] = v;
    } else if (k === 'text') {
      el.textContent = v;
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c == null || c === false) {
      continue;
    }
    if (Array.isArray(c)) {
      append(el, c);
    } else if (c instanceof Node) {
      el.appendChild(c);
    } else {
      el.appendChild(document.createTextNode(String(c)));
    }
  }
}

// replace empties el and fills it with children.
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// Formatting.

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const timeFormat = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });

// when formats a timestamp (a Date, as the SDK gives them, or a string or
// epoch milliseconds); '' for none.
export function when(t) {
  const d = toDate(t);
  return d ? dateFormat.format(d) : '';
}

// clock formats the time of day of a timestamp.
export function clock(t) {
  const d = toDate(t);
  return d ? timeFormat.format(d) : '';
}

function toDate(t) {
  if (t == null || t === '') {
    return null;
  }
  const d = t instanceof Date ? t : new Date(t);
  return Number.isNaN(d.getTime()) ? null : d;
}

// timeEl is a <time> with the full date in its title.
export function timeEl(t, short = false) {
  const d = toDate(t);
  if (!d) {
    return h('span.muted', '—');
  }
  return h('time', { datetime: d.toISOString(), title: dateFormat.format(d) }, short ? clock(d) : dateFormat.format(d));
}

// duration formats seconds as "3 d 4 h", "5 min 2 s"…
export function duration(seconds) {
  const s = Math.floor(seconds);
  const parts = [[86400, 'd'], [3600, 'h'], [60, 'min'], [1, 's']];
  const out = [];
  let rest = s;
  for (const [n, unit] of parts) {
    if (rest >= n || (unit === 's' && out.length === 0)) {
      out.push(`${Math.floor(rest / n)} ${unit}`);
      rest %= n;
    }
    if (out.length === 2) {
      break;
    }
  }
  return out.join(' ');
}

const numberFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });

export function num(n) {
  return n == null || Number.isNaN(n) ? '—' : numberFormat.format(n);
}

// bytes formats a size in B, KiB, MiB, GiB.
export function bytes(n) {
  if (n == null) {
    return '—';
  }
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${numberFormat.format(n)} ${units[i]}`;
}

// ARNs.

// arnParts splits a Chime ARN: the AppInstance ARN it belongs to, and the
// kind and id of the resource under it (user, bot, channel, channel-flow).
export function arnParts(arn) {
  const m = /^(arn:[^:]+:chime:[^:]*:[^:]*:app-instance\/[^/]+)(?:\/([a-z-]+)\/(.+))?$/.exec(arn ?? '');
  if (!m) {
    return { app: '', kind: '', id: arn ?? '' };
  }
  return { app: m[1], kind: m[2] ?? 'app-instance', id: m[3] ?? m[1].slice(m[1].lastIndexOf('/') + 1) };
}

// lastPart is what follows the last / of an ARN: an id.
export function lastPart(arn) {
  return (arn ?? '').slice((arn ?? '').lastIndexOf('/') + 1);
}
