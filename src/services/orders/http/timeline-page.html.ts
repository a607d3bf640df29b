/**
 * The saga timeline page, whole: markup, style and script inline (no build step, no CDN), so
 * one HTTP function can serve it under the offline host, `func start` and in Azure alike.
 * Style and script are separate constants so the page's Content-Security-Policy can allow
 * exactly them by hash. The script writes every value from the API with textContent.
 */

export const TIMELINE_STYLE = `
:root { --ok: #1a7f37; --run: #0969da; --bad: #cf222e; --warn: #bf8700; --skip: #8c959f; --line: #d0d7de; --muted: #57606a; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; background: #f6f8fa; }
header { padding: 12px 20px; background: #24292f; color: #fff; display: flex; gap: 16px; align-items: baseline; }
header h1 { font-size: 18px; margin: 0; }
header span { color: #b6bfc8; font-size: 12px; }
main { display: grid; grid-template-columns: minmax(260px, 340px) 1fr; gap: 16px; padding: 16px 20px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; min-width: 0; }
h2 { font-size: 15px; margin: 0 0 10px; }
#orders { list-style: none; margin: 0; padding: 0; }
#orders li { display: flex; justify-content: space-between; gap: 8px; padding: 6px 8px; border-radius: 6px; cursor: pointer; }
#orders li:hover, #orders li.selected { background: #eef4fb; }
#orders .id { font-family: ui-monospace, monospace; font-size: 12px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; color: #fff; background: var(--run); white-space: nowrap; }
.badge.Completed { background: var(--ok); } .badge.Compensated { background: var(--warn); }
.badge.Rejected, .badge.Failed, .badge.CompensationFailed { background: var(--bad); }
#summary { display: flex; flex-wrap: wrap; gap: 12px; align-items: center; margin-bottom: 8px; }
#summary .id { font-family: ui-monospace, monospace; font-weight: 600; }
.note { color: var(--muted); font-size: 12px; }
.axis, .row { display: grid; grid-template-columns: 170px 1fr 150px; gap: 10px; align-items: center; }
.axis { color: var(--muted); font-size: 11px; border-bottom: 1px solid var(--line); padding-bottom: 4px; margin-top: 8px; }
.ticks { position: relative; height: 16px; }
.ticks span { position: absolute; transform: translateX(-50%); white-space: nowrap; }
.group { margin: 10px 0 2px; font-size: 12px; font-weight: 600; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.row { padding: 4px 0; border-bottom: 1px dashed #eaeef2; }
.row .name { font-family: ui-monospace, monospace; font-size: 13px; }
.track { position: relative; height: 18px; background: linear-gradient(#eaeef2, #eaeef2) center / 100% 2px no-repeat; }
.dot { position: absolute; top: 2px; width: 14px; height: 14px; margin-left: -7px; border-radius: 50%; border: 2px solid #fff; box-shadow: 0 0 0 1px rgba(0,0,0,.15); }
.status { font-size: 12px; }
.succeeded .dot { background: var(--ok); } .succeeded .status { color: var(--ok); }
.running .dot { background: var(--run); animation: pulse 1s ease-in-out infinite; } .running .status { color: var(--run); }
.failed .dot { background: var(--bad); } .failed .status { color: var(--bad); }
.warning .dot { background: var(--warn); } .warning .status { color: var(--warn); }
.skipped .dot { background: var(--skip); } .skipped .status { color: var(--skip); }
@keyframes pulse { 50% { transform: scale(1.35); } }
.detail { grid-column: 2 / 4; color: var(--muted); font-size: 12px; }
.legend { display: flex; flex-wrap: wrap; gap: 14px; margin-top: 12px; font-size: 12px; }
.legend span { display: inline-flex; align-items: center; gap: 5px; }
.legend i { width: 10px; height: 10px; border-radius: 50%; display: inline-block; }
#error { color: var(--bad); margin: 0 20px; }
`;

export const TIMELINE_SCRIPT = `
(() => {
  'use strict';
  const FINAL = ['Completed', 'Rejected', 'Failed', 'Compensated', 'CompensationFailed', 'Terminated'];
  const STATUSES = ['succeeded', 'running', 'failed', 'warning', 'skipped'];
  const page = new URLSearchParams(location.search);
  // In Azure the API needs the function key. It comes in the fragment (#key=…), which no request
  // carries, is kept for this tab only, and goes to the API in a header, never in a URL.
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.has('key')) {
    sessionStorage.setItem('functionsKey', fragment.get('key'));
    history.replaceState(null, '', location.pathname + location.search);
  }
  const key = sessionStorage.getItem('functionsKey');
  let selected = page.get('order');
  let orderTimer;

  const $ = (id) => document.getElementById(id);
  const el = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = String(text);
    return node;
  };
  const api = async (path) => {
    const url = new URL(path, location.href);
    const headers = key ? { accept: 'application/json', 'x-functions-key': key } : { accept: 'application/json' };
    const response = await fetch(url, { headers, cache: 'no-store' });
    if (response.status === 401) throw new Error('401: open this page with #key=<function key>');
    if (!response.ok) throw new Error(response.status + ' from ' + url.pathname);
    return response.json();
  };
  const showError = (error) => { $('error').textContent = error ? String(error.message || error) : ''; };
  const money = (total, currency) => (total === null || total === undefined ? '' : total.toFixed(2) + ' ' + currency);

  async function loadList() {
    try {
      const { orders } = await api('orders?limit=20');
      const list = $('orders');
      list.replaceChildren(...orders.map((order) => {
        const item = el('li', order.orderId === selected ? 'selected' : '');
        item.dataset.orderId = order.orderId;
        item.append(el('span', 'id', order.orderId), el('span', 'badge ' + order.status, order.status));
        item.title = money(order.total, order.currency) + ' · updated ' + order.updatedAt;
        item.addEventListener('click', () => select(order.orderId));
        return item;
      }));
      if (orders.length === 0) list.append(el('li', 'note', 'No orders yet: POST /api/orders, or run npm run demo.'));
      if (!selected && orders.length > 0) select(orders[0].orderId);
      showError();
    } catch (error) { showError(error); }
  }

  function select(orderId) {
    selected = orderId;
    const next = new URL(location.href);
    next.searchParams.set('order', orderId);
    history.replaceState(null, '', next);
    for (const item of $('orders').children) item.classList.toggle('selected', item.dataset.orderId === orderId);
    clearTimeout(orderTimer);
    loadOrder();
  }

  async function loadOrder() {
    const orderId = selected;
    try {
      const order = await api('orders/' + encodeURIComponent(orderId));
      if (orderId !== selected) return;
      render(order);
      showError();
      // Live while the saga runs; a final order never changes again.
      if (!FINAL.includes(order.status)) orderTimer = setTimeout(loadOrder, 1000);
    } catch (error) {
      showError(error);
      if (orderId === selected) orderTimer = setTimeout(loadOrder, 3000);
    }
  }

  function render(order) {
    // The list refreshes every few seconds; the selected order's badge follows every poll.
    for (const item of $('orders').children) {
      if (item.dataset.orderId !== order.orderId) continue;
      item.lastChild.className = 'badge ' + order.status;
      item.lastChild.textContent = order.status;
    }
    const view = $('timeline');
    view.dataset.orderId = order.orderId;
    view.dataset.orderStatus = order.status;
    const entries = [
      ...order.steps.map((entry) => ({ ...entry, kind: 'step' })),
      ...order.compensations.map((entry) => ({ ...entry, kind: 'compensation' })),
    ];
    const times = entries.map((entry) => Date.parse(entry.at)).filter((time) => !Number.isNaN(time));
    const start = times.length ? Math.min(...times) : 0;
    const span = Math.max(1, (times.length ? Math.max(...times) : 0) - start);
    const position = (at) => 3 + ((Date.parse(at) - start) / span) * 94;
    const seconds = (ms) => '+' + (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + ' s';

    const summary = el('div');
    summary.id = 'summary';
    summary.append(el('span', 'id', order.orderId), el('span', 'badge ' + order.status, order.status), el('span', '', money(order.total, order.currency)));
    if (!FINAL.includes(order.status)) summary.append(el('span', 'note', 'live: refreshing every second'));
    const parts = [summary];
    if (order.reason) parts.push(el('div', 'note', 'Reason: ' + order.reason));
    for (const warning of order.warnings) parts.push(el('div', 'note', 'Warning: ' + warning));

    const axis = el('div', 'axis');
    const ticks = el('div', 'ticks');
    for (let index = 0; index <= 4; index += 1) {
      const tick = el('span', '', seconds((span * index) / 4));
      tick.style.left = 3 + index * 23.5 + '%';
      ticks.append(tick);
    }
    axis.append(el('span', '', times.length ? 'from ' + new Date(start).toISOString().slice(11, 23) + ' UTC' : 'saga time'), ticks, el('span'));
    parts.push(axis);

    for (const kind of ['step', 'compensation']) {
      const rows = entries.filter((entry) => entry.kind === kind);
      if (rows.length === 0) continue;
      parts.push(el('div', 'group', kind === 'step' ? 'Steps' : 'Compensations (newest first)'));
      for (const entry of rows) {
        const status = STATUSES.includes(entry.status) ? entry.status : 'running';
        const row = el('div', 'row ' + status);
        row.dataset.entry = kind + ':' + entry.name;
        row.dataset.status = status;
        const track = el('div', 'track');
        const dot = el('span', 'dot');
        dot.style.left = position(entry.at) + '%';
        dot.title = entry.at;
        track.append(dot);
        row.append(el('span', 'name', entry.name), track, el('span', 'status', status + ' ' + seconds(Date.parse(entry.at) - start)));
        if (entry.detail) row.append(el('span', 'detail', entry.detail));
        parts.push(row);
      }
    }
    if (entries.length === 0) parts.push(el('p', 'note', 'No step has started yet.'));
    const legend = el('div', 'legend');
    for (const status of STATUSES) {
      const key = el('span', status);
      const swatch = el('i');
      swatch.style.background = 'var(--' + { succeeded: 'ok', running: 'run', failed: 'bad', warning: 'warn', skipped: 'skip' }[status] + ')';
      key.append(swatch, status);
      legend.append(key);
    }
    parts.push(legend);
    view.replaceChildren(...parts);
  }

  loadList();
  setInterval(loadList, 5000);
  if (selected) select(selected);
})();
`;

export const TIMELINE_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Order saga timeline</title>
<style>${TIMELINE_STYLE}</style>
</head>
<body>
<header><h1>Order saga timeline</h1><span>steps and compensations of each order, on the saga's clock</span></header>
<p id="error" role="alert"></p>
<main>
  <section><h2>Recent orders</h2><ul id="orders"></ul></section>
  <section><h2>Timeline</h2><div id="timeline" data-testid="timeline"><p class="note">Pick an order.</p></div></section>
</main>
<script>${TIMELINE_SCRIPT}</script>
</body>
</html>
`;
