// Server status: version, uptime, store, sessions and the main metrics,
// from GET /carillon/status (root only), refreshed every few seconds.

import { h, replace, duration, num, bytes, when } from '../dom.js';
import * as api from '../api.js';
import { header, loading, errorBox, section, dl, table, badge, button } from '../ui.js';

const refreshEvery = 5000;

export async function statusView(ctx) {
  const body = h('div', loading());
  let auto = true;
  const toggle = button('Pause', () => {
    auto = !auto;
    toggle.textContent = auto ? 'Pause' : 'Resume';
    if (auto) {
      load();
    }
  }, { kind: 'small', title: `Refreshes every ${refreshEvery / 1000} s` });
  const updated = h('span.muted');
  replace(ctx.el, header({ title: 'Server status', actions: [updated, toggle] }), body);

  let timer;
  const load = async () => {
    clearTimeout(timer);
    try {
      const st = await api.carillon('GET', '/carillon/status');
      if (!ctx.alive()) {
        return;
      }
      replace(body, render(st));
      replace(updated, `Updated ${new Date().toLocaleTimeString()}`);
    } catch (err) {
      if (!ctx.alive()) {
        return;
      }
      replace(body, errorBox(err, err.type === 'ForbiddenException' ? 'The server\'s status is shown to the root key only.' : undefined));
    }
    if (auto && ctx.alive()) {
      timer = setTimeout(load, refreshEvery);
    }
  };
  ctx.onLeave(() => clearTimeout(timer));
  await load();
}

// metric helpers over Status.Metrics.
function metrics(st) {
  const byName = new Map((st.Metrics ?? []).map(m => [m.Name, m]));
  const samples = name => byName.get(name)?.Samples ?? [];
  const sum = (name, pred = () => true) => samples(name).filter(s => pred(s.Labels ?? {})).reduce((a, s) => a + (s.Value ?? 0), 0);
  const hist = name => samples(name).reduce((a, s) => ({ count: a.count + (s.Count ?? 0), sum: a.sum + (s.Sum ?? 0) }), { count: 0, sum: 0 });
  const value = name => (byName.has(name) ? sum(name) : null);
  return { byName, samples, sum, hist, value };
}

function ms(seconds) {
  return seconds == null || Number.isNaN(seconds) ? '—' : `${num(seconds * 1000)} ms`;
}

function card(label, value, note) {
  return h('div.card', h('div.card-label', label), h('div.card-value', value), note ? h('div.card-note', note) : null);
}

// cacheNote is the share of the cache's reads served from memory.
function cacheNote(m) {
  const reads = m.sum('carillon_store_cache_reads_total');
  if (!reads) {
    return 'no reads yet';
  }
  const hits = m.sum('carillon_store_cache_reads_total', l => l.result === 'hit');
  return `${Math.round((100 * hits) / reads)}% of ${num(reads)} reads from memory`;
}

function render(st) {
  const m = metrics(st);
  const requests = m.sum('carillon_api_requests_total');
  const clientErrors = m.sum('carillon_api_requests_total', l => l.status?.startsWith('4'));
  const serverErrors = m.sum('carillon_api_requests_total', l => l.status?.startsWith('5'));
  const latency = m.hist('carillon_api_request_duration_seconds');
  const delivery = m.hist('carillon_session_delivery_latency_seconds');
  const flows = m.sum('carillon_flow_invocations_total');
  const push = m.sum('carillon_push_notifications_total');
  const bots = m.sum('carillon_bot_invocations_total');

  const cards = h('div.cards',
    card('Version', st.Version),
    card('Uptime', duration(st.UptimeSeconds), `since ${when(st.StartedAt)}`),
    card('Store', h('span', st.Store.Kind, ' ', badge(st.Store.OK ? 'OK' : 'DOWN', st.Store.OK ? 'ok' : 'bad')),
      st.Store.OK ? `ping ${num(st.Store.PingMilliseconds)} ms` : st.Store.Error),
    st.Store.Cached ? card('Store cache', `${num(m.value('carillon_store_cache_rows'))} rows`, cacheNote(m)) : null,
    card('Open sessions', num(st.SessionsOpen), `${num(m.sum('carillon_session_connects_total', l => l.result === 'established'))} established since start`),
    card('API requests', num(requests), `${num(clientErrors)} client errors, ${num(serverErrors)} server errors`),
    card('Mean API latency', latency.count ? ms(latency.sum / latency.count) : '—'),
    card('Events delivered', num(m.value('carillon_hub_events_total')), delivery.count ? `mean ${ms(delivery.sum / delivery.count)} from commit to socket` : null),
    card('Frames sent', num(m.value('carillon_session_frames_sent_total')), m.value('carillon_session_bytes_sent_total') != null ? bytes(m.value('carillon_session_bytes_sent_total')) : null),
    card('Dropped for slow readers', num(m.value('carillon_session_queue_drops_total')), `${num(m.value('carillon_session_slow_consumer_closes_total'))} sessions closed (4429)`),
    card('Flow invocations', num(flows)),
    card('Push notifications', num(push)),
    card('Bot invocations', num(bots)),
    m.byName.has('carillon_stream_lag_events') ? card('Export lag', `${num(m.value('carillon_stream_lag_events'))} events`) : null,
    card('Memory', bytes(m.value('process_resident_memory_bytes')), `${num(m.value('go_goroutines'))} goroutines`));

  // Requests by operation: count, errors, mean latency.
  const ops = new Map();
  for (const s of m.samples('carillon_api_requests_total')) {
    const op = s.Labels?.operation ?? '?';
    const o = ops.get(op) ?? { op, count: 0, errors: 0, sum: 0, n: 0 };
    o.count += s.Value ?? 0;
    if (!s.Labels?.status?.startsWith('2')) {
      o.errors += s.Value ?? 0;
    }
    ops.set(op, o);
  }
  for (const s of m.samples('carillon_api_request_duration_seconds')) {
    const o = ops.get(s.Labels?.operation);
    if (o) {
      o.sum += s.Sum ?? 0;
      o.n += s.Count ?? 0;
    }
  }
  const rows = [...ops.values()].sort((a, b) => b.count - a.count);

  return h('div',
    cards,
    section('Listeners', dl([
      ['HTTP', st.Listeners.HTTP ? h('code', st.Listeners.HTTP) : 'off'],
      ['HTTPS', st.Listeners.HTTPS ? h('code', st.Listeners.HTTPS) : 'off'],
      ['Messaging sessions at', st.Listeners.SessionEndpoint ? h('code', `wss://${st.Listeners.SessionEndpoint}/connect`) : null],
      ['Region', st.Region],
      ['Account', st.AccountId],
    ])),
    section('API requests by operation', table({
      label: 'API requests by operation',
      columns: [
        { title: 'Operation', cell: o => o.op },
        { title: 'Requests', cell: o => num(o.count), class: 'num' },
        { title: 'Errors', cell: o => (o.errors ? h('span.warn-text', num(o.errors)) : '0'), class: 'num' },
        { title: 'Mean latency', cell: o => (o.n ? ms(o.sum / o.n) : '—'), class: 'num' },
      ],
      rows,
      filter: o => o.op,
    })),
    h('p.muted', 'All of the server\'s metrics are at /metrics, in Prometheus\'s format.'));
}
