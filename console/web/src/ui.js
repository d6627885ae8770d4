// The console's few components: page headers, tabs, tables with a
// filter, empty states, form dialogs, errors as AWS reports them, toasts.

import { h, replace, lastPart } from './dom.js';

// link makes a hash route from parts, each encoded: link('apps', arn).
export function link(...parts) {
  return '#/' + parts.filter(p => p !== undefined && p !== '').map(encodeURIComponent).join('/');
}

// header is a view's title bar: breadcrumbs, the title, a subtitle
// (usually an ARN) and actions.
export function header({ crumbs = [], title, subtitle, actions = [] }) {
  return h('header.page-head',
    crumbs.length ? h('nav.crumbs', { 'aria-label': 'Breadcrumbs' },
      crumbs.map(([text, href]) => [h('a', { href }, text), h('span.sep', { 'aria-hidden': 'true' }, '/')])) : null,
    h('div.title-row',
      h('div.title-block', h('h1', title), subtitle ? h('div.subtitle', subtitle) : null),
      h('div.actions', actions)));
}

// tabs is a row of links; the current one is marked for screen readers.
export function tabs(items, active) {
  return h('nav.tabs', { 'aria-label': 'Sections' },
    items.filter(Boolean).map(([key, text, href, count]) => h('a', {
      href,
      class: key === active ? 'active' : '',
      'aria-current': key === active ? 'page' : null,
    }, text, count != null ? h('span.count', String(count)) : null)));
}

export function button(text, onclick, { kind = '', title, key, disabled, type = 'button' } = {}) {
  return h('button', { type, class: kind, title, onclick, disabled, 'aria-keyshortcuts': key }, text);
}

// empty is what a list shows when it has nothing: what it would hold, and
// what to do next.
export function empty(title, text, ...actions) {
  return h('div.empty', h('p.empty-title', title), text ? h('p', text) : null,
    actions.length ? h('div.empty-actions', actions) : null);
}

// loading is a placeholder while a call is on its way.
export function loading(text = 'Loading…') {
  return h('p.loading', { role: 'status' }, text);
}

// errorBox shows an error as AWS reports it: the exception's type, its
// message, and the status and request id to find it in the server's log.
export function errorBox(err, hint) {
  const details = [];
  if (err.operation) {
    details.push(err.operation);
  }
  if (err.status) {
    details.push(`HTTP ${err.status}`);
  }
  if (err.requestId) {
    details.push(`request ${err.requestId}`);
  }
  return h('div.error', { role: 'alert' },
    h('p', h('strong.error-type', err.type ?? err.name ?? 'Error'), ' ', err.message ?? String(err)),
    details.length ? h('p.error-details', details.join(' · ')) : null,
    hint ? h('p.hint', hint) : null);
}

// copyable shows a value (an ARN, a key) with a button that copies it.
export function copyable(value, { short = false, label } = {}) {
  const text = short ? lastPart(value) : value;
  return h('span.copyable', { title: value },
    h('code', text),
    h('button.icon', {
      type: 'button',
      'aria-label': `Copy ${label ?? value}`,
      title: 'Copy',
      onclick: async e => {
        e.stopPropagation();
        e.preventDefault();
        try {
          await navigator.clipboard.writeText(value);
          toast('Copied');
        } catch {
          toast('The browser did not allow copying; select the text instead.');
        }
      },
    }, copyIcon()));
}

// copyIcon is drawn, not a character: not every system font has one.
function copyIcon() {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 16 16');
  svg.setAttribute('width', '13');
  svg.setAttribute('height', '13');
  svg.setAttribute('aria-hidden', 'true');
  for (const [x, y] of [[5, 5], [2, 2]]) {
    const r = document.createElementNS(ns, 'rect');
    for (const [k, v] of Object.entries({ x, y, width: 9, height: 9, rx: 1.5, fill: 'none', stroke: 'currentColor', 'stroke-width': 1.4 })) {
      r.setAttribute(k, String(v));
    }
    svg.append(r);
  }
  return svg;
}

// badge is a small label: a type, a state.
export function badge(text, kind = '') {
  return h('span.badge', { class: kind }, text);
}

// table renders rows under columns, with a filter box over them when
// filter is set. columns: [{ title, cell: row => node, class }]; onOpen
// makes rows links (Enter or a click opens them).
export function table({ columns, rows, filter, emptyView, href, label }) {
  if (!rows.length) {
    return emptyView ?? empty('Nothing here.');
  }
  const body = h('tbody');
  const render = q => {
    const shown = q ? rows.filter(r => filter(r).toLowerCase().includes(q)) : rows;
    replace(body, shown.map(r => {
      const tr = h('tr', columns.map((c, i) => {
        const content = c.cell(r);
        const target = href?.(r);
        return h('td', { class: c.class ?? '' }, i === 0 && target ? h('a.row-link', { href: target }, content) : content);
      }));
      return tr;
    }));
    if (!shown.length) {
      body.append(h('tr', h('td.muted', { colspan: columns.length }, 'No row matches the filter.')));
    }
  };
  render('');
  const parts = [];
  if (filter) {
    parts.push(h('div.table-tools', h('input.filter', {
      name: 'filter',
      type: 'search',
      placeholder: 'Filter  ( / )',
      'aria-label': `Filter ${label ?? 'the list'}`,
      oninput: e => render(e.target.value.trim().toLowerCase()),
    }), h('span.muted', `${rows.length} shown`)));
  }
  parts.push(h('div.table-wrap', h('table', { 'aria-label': label },
    h('thead', h('tr', columns.map(c => h('th', { class: c.class ?? '', scope: 'col' }, c.title)))), body)));
  return h('div', parts);
}

// dl is a list of label → value pairs, skipping empty values.
export function dl(pairs) {
  return h('dl.props', pairs.filter(([, v]) => v != null && v !== '' && v !== false).map(([k, v]) => [h('dt', k), h('dd', v)]));
}

// section is a titled block of a view.
export function section(title, ...children) {
  return h('section.block', title ? h('h2', title) : null, children);
}

// Toasts: short confirmations at the bottom of the screen.

let toastRegion;

export function toast(text, kind = '') {
  if (!toastRegion) {
    toastRegion = h('div.toasts', { role: 'status', 'aria-live': 'polite' });
    document.body.append(toastRegion);
  }
  const t = h('div.toast', { class: kind }, text);
  toastRegion.append(t);
  setTimeout(() => t.remove(), kind === 'error' ? 8000 : 3000);
}

// Dialogs.

// form opens a modal dialog with fields and resolves with what submit
// returned, or undefined when cancelled. submit runs with the values;
// an error it throws is shown in the dialog, which stays open.
//
// fields: [{ name, label, type: text|textarea|number|select|checkbox,
// options: [[value, text]], value, required, placeholder, help,
// pattern, min, max }]
export function form({ title, intro, fields, submitLabel = 'Save', submit, danger = false }) {
  return new Promise(resolve => {
    const errorSlot = h('div.form-error');
    const inputs = {};
    const body = fields.map(f => {
      const id = `f-${f.name}-${Math.random().toString(36).slice(2, 8)}`;
      let input;
      const common = { id, name: f.name, required: f.required, placeholder: f.placeholder, 'aria-describedby': f.help ? `${id}-help` : null };
      if (f.type === 'textarea') {
        input = h('textarea', { ...common, rows: f.rows ?? 4 });
        input.value = f.value ?? '';
      } else if (f.type === 'select') {
        input = h('select', common, f.options.map(([v, t]) => h('option', { value: v, selected: v === f.value }, t)));
      } else if (f.type === 'multiselect') {
        input = h('select', { ...common, multiple: true, size: Math.min(6, Math.max(2, f.options.length)) },
          f.options.map(([v, t]) => h('option', { value: v }, t)));
      } else if (f.type === 'checkbox') {
        input = h('input', { ...common, type: 'checkbox', checked: Boolean(f.value) });
      } else {
        input = h('input', { ...common, type: f.type ?? 'text', value: f.value ?? '', min: f.min, max: f.max, pattern: f.pattern, autocomplete: 'off' });
      }
      inputs[f.name] = input;
      return h('div.field', { class: f.type === 'checkbox' ? 'check' : '', dataset: f.dependsOn ? { dependsOn: f.dependsOn } : {} },
        h('label', { for: id }, f.label, f.required ? null : h('span.optional', ' (optional)')),
        input,
        f.help ? h('p.help', { id: `${id}-help` }, f.help) : null);
    });
    const submitButton = h('button', { type: 'submit', class: danger ? 'danger' : 'primary' }, submitLabel);
    const dialog = h('dialog.modal', { 'aria-labelledby': 'dialog-title' },
      h('form', { method: 'dialog' },
        h('h2#dialog-title', title),
        intro ? h('div.intro', intro) : null,
        body,
        errorSlot,
        h('div.dialog-actions',
          h('button', { type: 'button', value: 'cancel', onclick: () => dialog.close() }, 'Cancel'),
          submitButton)));
    // A field with dependsOn shows only while that checkbox is checked.
    const dependents = () => {
      for (const el of dialog.querySelectorAll('[data-depends-on]')) {
        const on = inputs[el.dataset.dependsOn]?.checked;
        el.hidden = !on;
        for (const input of el.querySelectorAll('input, select, textarea')) {
          input.disabled = !on;
        }
      }
    };
    dialog.addEventListener('change', dependents);
    dependents();
    let result;
    dialog.querySelector('form').addEventListener('submit', async e => {
      e.preventDefault();
      const values = {};
      for (const [name, input] of Object.entries(inputs)) {
        if (input.type === 'checkbox') {
          values[name] = input.checked;
        } else if (input.multiple) {
          values[name] = [...input.selectedOptions].map(o => o.value);
        } else {
          values[name] = input.value.trim();
        }
      }
      submitButton.disabled = true;
      replace(errorSlot);
      try {
        result = await submit(values);
        dialog.close();
      } catch (err) {
        replace(errorSlot, errorBox(err));
      } finally {
        submitButton.disabled = false;
      }
    });
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(result);
    });
    document.body.append(dialog);
    dialog.showModal();
    const first = dialog.querySelector('input, textarea, select');
    first?.focus();
  });
}

// confirm asks before an action that cannot be undone, and runs it; the
// dialog shows its error if it fails.
export function confirm({ title, text, action, label = 'Delete' }) {
  return form({ title, intro: text, fields: [], submitLabel: label, danger: true, submit: async () => (await action()) ?? true });
}

// show opens a dialog that only shows something (a new key).
export function show({ title, body }) {
  const dialog = h('dialog.modal', { 'aria-labelledby': 'dialog-title' },
    h('h2#dialog-title', title), body,
    h('div.dialog-actions', h('button.primary', { type: 'button', onclick: () => dialog.close() }, 'Done')));
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}

// optional drops empty strings: the API wants absent members, not "".
export function optional(obj) {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== '' && v !== undefined && v !== null));
}
