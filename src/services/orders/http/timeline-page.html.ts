/**
 * The saga timeline page, whole: markup, style and script inline (no build step, no CDN), so
 * one HTTP function can serve it under the offline host, `func start` and in Azure alike.
 * Style and script are separate constants so the page's Content-Security-Policy can allow
 * exactly them by hash. The script writes every value from the API with textContent.
 *
 * An operations console for one saga: the list (search, paging, keyboard), and for one order
 * its steps and compensations as spans with their attempts and retry waits, a now-line while it
 * runs, the approval deadline with approve / reject, who decided, items, tracking number, and
 * the dead letter with its repair state and the retry action. Data: GET /api/orders/{id}/timeline.
 */

export const TIMELINE_STYLE = `
:root { --ok: #1a7f37; --run: #0969da; --bad: #cf222e; --warn: #9a6700; --skip: #6e7781; --line: #d0d7de; --muted: #57606a; --focus: #0969da; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; background: #f6f8fa; }
header { padding: 12px 20px; background: #24292f; color: #fff; display: flex; flex-wrap: wrap; gap: 4px 16px; align-items: baseline; }
header h1 { font-size: 18px; margin: 0; }
header span { color: #c9d1d9; font-size: 12px; }
main { display: grid; grid-template-columns: minmax(260px, 340px) minmax(0, 1fr); gap: 16px; padding: 16px 20px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; min-width: 0; }
h2 { font-size: 15px; margin: 0 0 10px; }
h3 { font-size: 13px; margin: 0 0 4px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
button, input { font: inherit; }
:focus-visible { outline: 2px solid var(--focus); outline-offset: 2px; }
#search { display: flex; gap: 6px; margin-bottom: 8px; }
#search input { flex: 1; min-width: 0; padding: 4px 8px; border: 1px solid var(--line); border-radius: 6px; }
.btn { padding: 4px 10px; border: 1px solid var(--line); border-radius: 6px; background: #f6f8fa; cursor: pointer; }
.btn:disabled { opacity: .5; cursor: default; }
.btn.approve { background: var(--ok); border-color: var(--ok); color: #fff; }
.btn.reject, .btn.retry { background: var(--bad); border-color: var(--bad); color: #fff; }
#orders { list-style: none; margin: 0; padding: 0; }
#orders button { width: 100%; display: flex; justify-content: space-between; gap: 8px; padding: 6px 8px; border: 0; border-radius: 6px; background: none; cursor: pointer; text-align: left; }
#orders button:hover, #orders button[aria-current="true"] { background: #ddf4ff; }
#orders .id { font-family: ui-monospace, monospace; font-size: 12px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
#pager { display: flex; justify-content: space-between; align-items: center; gap: 8px; margin-top: 8px; font-size: 12px; color: var(--muted); }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; color: #fff; background: var(--run); white-space: nowrap; }
.badge.Completed { background: var(--ok); } .badge.Compensated { background: var(--warn); }
.badge.Rejected, .badge.Failed, .badge.CompensationFailed { background: var(--bad); }
#summary { display: flex; flex-wrap: wrap; gap: 8px 12px; align-items: center; margin-bottom: 8px; }
#summary .id { font-family: ui-monospace, monospace; font-weight: 600; overflow-wrap: anywhere; }
.note { color: var(--muted); font-size: 12px; overflow-wrap: anywhere; }
.facts { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: 10px; margin: 10px 0; }
.fact { border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; min-width: 0; overflow-wrap: anywhere; }
.fact ul { margin: 0; padding-left: 18px; }
.fact.alert { border-color: var(--bad); background: #fff5f5; }
.fact .actions { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 6px; align-items: center; }
.fact input { width: 8em; padding: 3px 6px; border: 1px solid var(--line); border-radius: 6px; }
.axis, .row { display: grid; grid-template-columns: 150px minmax(0, 1fr) 160px; gap: 10px; align-items: center; }
.axis { color: var(--muted); font-size: 11px; border-bottom: 1px solid var(--line); padding-bottom: 4px; margin-top: 8px; }
.ticks { position: relative; height: 16px; }
.ticks span { position: absolute; transform: translateX(-50%); white-space: nowrap; }
.ticks span:first-child { transform: none; } .ticks span:last-child { transform: translateX(-100%); }
.group { margin: 10px 0 2px; font-size: 12px; font-weight: 600; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.row { padding: 4px 0; border-bottom: 1px dashed #eaeef2; }
.row .name { font-family: ui-monospace, monospace; font-size: 13px; overflow: hidden; text-overflow: ellipsis; }
.track { position: relative; height: 18px; background: linear-gradient(#eaeef2, #eaeef2) center / 100% 2px no-repeat; }
.bar { position: absolute; top: 4px; height: 10px; min-width: 3px; border-radius: 3px; opacity: .35; }
.attempt { position: absolute; top: 2px; height: 14px; min-width: 3px; border-radius: 3px; border: 1px solid #fff; }
.attempt.succeeded { background: var(--ok); } .attempt.failed { background: var(--bad); }
.wait { position: absolute; top: 6px; height: 6px; background: repeating-linear-gradient(90deg, var(--bad) 0 3px, transparent 3px 6px); opacity: .6; }
.now-line { position: absolute; top: -2px; bottom: -2px; width: 0; border-left: 2px dashed var(--run); }
.status { font-size: 12px; }
.succeeded .bar { background: var(--ok); } .succeeded .status { color: var(--ok); }
.running .bar { background: var(--run); opacity: .6; animation: pulse 1.2s ease-in-out infinite; } .running .status { color: var(--run); }
.failed .bar { background: var(--bad); } .failed .status { color: var(--bad); }
.warning .bar { background: var(--warn); } .warning .status { color: var(--warn); }
.skipped .bar { background: var(--skip); } .skipped .status { color: var(--skip); }
@keyframes pulse { 50% { opacity: .3; } }
@media (prefers-reduced-motion: reduce) { .running .bar { animation: none; } }
.detail { grid-column: 2 / 4; color: var(--muted); font-size: 12px; overflow-wrap: anywhere; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 14px; margin-top: 12px; font-size: 12px; }
.legend span { display: inline-flex; align-items: center; gap: 5px; }
.legend i { width: 14px; height: 10px; border-radius: 3px; display: inline-block; }
#error { color: var(--bad); margin: 0 20px; }
@media (max-width: 760px) {
  main { grid-template-columns: minmax(0, 1fr); padding: 10px; gap: 10px; }
  header { padding: 10px; }
  .axis, .row { grid-template-columns: minmax(0, 1fr) auto; gap: 2px 8px; }
  .row .track, .axis .ticks { grid-column: 1 / 3; grid-row: 2; }
  .axis > span:last-child, .ticks span:nth-child(even) { display: none; }
  .detail { grid-column: 1 / 3; }
}
`;

export const TIMELINE_SCRIPT = `
(() => {
  'use strict';
  const FINAL = ['Completed', 'Rejected', 'Failed', 'Compensated', 'CompensationFailed', 'Terminated'];
  const STATUSES = ['succeeded', 'running', 'failed', 'warning', 'skipped'];
  const PAGE_SIZE = 20;
  const params = new URLSearchParams(location.search);
  // In Azure the API needs the function key. It comes in the fragment (#key=…), which no request
  // carries, is kept for this tab only, and goes to the API in a header, never in a URL.
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.has('key')) {
    sessionStorage.setItem('functionsKey', fragment.get('key'));
    history.replaceState(null, '', location.pathname + location.search);
  }
  const key = sessionStorage.getItem('functionsKey');
  let selected = params.get('order');
  let search = params.get('q') || '';
  // Keyset paging: the cursor of each page seen so far, so Newer can go back.
  let cursors = [null];
  let next = null;
  let orderTimer;
  let listed = [];

  const $ = (id) => document.getElementById(id);
  const el = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = String(text);
    return node;
  };

  /** Every API call goes through here: the one place the key is attached. */
  async function api(path, options = {}) {
    const url = new URL(path, location.href);
    const init = { method: options.method || 'GET', headers: { accept: 'application/json', ...(options.headers || {}) }, cache: 'no-store' };
    if (key) init.headers['x-functions-key'] = key;
    if (options.body !== undefined) {
      init.headers['content-type'] = 'application/json';
      init.body = JSON.stringify(options.body);
    }
    const response = await fetch(url, init);
    if (response.status === 401 && init.method === 'GET') throw new Error('401: open this page with #key=<function key>');
    const body = await response.json().catch(() => undefined);
    if (!response.ok) throw new Error(response.status + ' from ' + url.pathname + (body && body.message ? ': ' + body.message : ''));
    return body;
  }

  /**
   * Who acts is the caller's client principal (x-ms-client-principal). In Azure with App Service
   * Authentication the platform sets it from the signed-in user and drops what a client sends;
   * the offline host and func start have none, so the page names a development principal here.
   */
  const base64 = (text) => btoa(Array.from(new TextEncoder().encode(text), (byte) => String.fromCharCode(byte)).join(''));
  const principal = (name, role) => ({
    'x-ms-client-principal': base64(JSON.stringify({ auth_typ: 'development', name_typ: 'name', role_typ: 'roles', claims: [{ typ: 'name', val: name }, { typ: 'roles', val: role }] })),
  });

  /** The one place a decision is sent (the approval route and its access checks live here only). */
  function sendDecision(orderId, approved, approver) {
    return api('orders/' + encodeURIComponent(orderId) + '/approval', { method: 'POST', body: { approved }, headers: principal(approver, 'Orders.Approver') });
  }
  function retryDeadLetter(orderId) {
    return api('operations/dead-letters/' + encodeURIComponent(orderId) + '/retry', { method: 'POST', body: {}, headers: principal('timeline operator', 'Orders.Operator') });
  }

  const showError = (error) => { $('error').textContent = error ? String(error.message || error) : ''; };
  const money = (total, currency) => (total === null || total === undefined ? '' : total.toFixed(2) + ' ' + currency);

  /** A duration in the unit that suits it: 850 ms, 12.3 s, 4.2 min, 3.5 h, 1.1 d. */
  function duration(ms) {
    const abs = Math.abs(ms);
    if (abs < 1000) return Math.round(ms) + ' ms';
    if (abs < 60000) return (ms / 1000).toFixed(abs < 10000 ? 2 : 1) + ' s';
    if (abs < 3600000) return (ms / 60000).toFixed(1) + ' min';
    if (abs < 86400000) return (ms / 3600000).toFixed(1) + ' h';
    return (ms / 86400000).toFixed(1) + ' d';
  }
  const clock = (time) => new Date(time).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';

  function setQuery(changes) {
    const url = new URL(location.href);
    for (const [name, value] of Object.entries(changes)) {
      if (value) url.searchParams.set(name, value);
      else url.searchParams.delete(name);
    }
    history.replaceState(null, '', url);
  }

  async function loadList() {
    try {
      const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
      const before = cursors[cursors.length - 1];
      if (before) query.set('before', before);
      if (search) query.set('q', search);
      const page = await api('orders?' + query);
      listed = page.orders;
      next = page.next;
      renderList();
      if (!selected && listed.length > 0 && cursors.length === 1) select(listed[0].orderId);
      showError();
    } catch (error) { showError(error); }
  }

  function renderList() {
    const list = $('orders');
    const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.orderId : undefined;
    list.replaceChildren(...listed.map((order) => {
      const item = el('li');
      const button = el('button');
      button.type = 'button';
      button.dataset.orderId = order.orderId;
      button.setAttribute('aria-current', String(order.orderId === selected));
      button.title = money(order.total, order.currency) + ' · updated ' + order.updatedAt;
      button.append(el('span', 'id', order.orderId), el('span', 'badge ' + order.status, order.status));
      button.addEventListener('click', () => select(order.orderId));
      button.addEventListener('keydown', (event) => moveFocus(event, button));
      item.append(button);
      return item;
    }));
    if (listed.length === 0) list.append(el('li', 'note', search ? 'No order matches "' + search + '".' : 'No orders yet: POST /api/orders, or run npm run demo.'));
    if (focused) list.querySelector('[data-order-id="' + CSS.escape(focused) + '"]')?.focus();
    $('newer').disabled = cursors.length === 1;
    $('older').disabled = !next;
    $('page').textContent = 'page ' + cursors.length + (search ? ' · matching "' + search + '"' : '');
  }

  /** Up and down move along the list, as in a listbox; Enter and Space press the button. */
  function moveFocus(event, button) {
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
    event.preventDefault();
    const buttons = [...$('orders').querySelectorAll('button')];
    const index = buttons.indexOf(button) + (event.key === 'ArrowDown' ? 1 : -1);
    buttons[Math.max(0, Math.min(buttons.length - 1, index))].focus();
  }

  function select(orderId) {
    selected = orderId;
    setQuery({ order: orderId });
    for (const button of $('orders').querySelectorAll('button')) button.setAttribute('aria-current', String(button.dataset.orderId === orderId));
    clearTimeout(orderTimer);
    loadOrder();
  }

  async function loadOrder() {
    const orderId = selected;
    try {
      const timeline = await api('orders/' + encodeURIComponent(orderId) + '/timeline');
      if (orderId !== selected) return;
      render(timeline);
      showError();
      // Live while the saga or a repair may still change it (the dead letter follows the final status).
      if (timeline.live) orderTimer = setTimeout(loadOrder, 1000);
    } catch (error) {
      showError(error);
      if (orderId === selected) orderTimer = setTimeout(loadOrder, 3000);
    }
  }

  function fact(title, testid, className) {
    const box = el('div', 'fact' + (className ? ' ' + className : ''));
    box.dataset.testid = testid;
    box.append(el('h3', '', title));
    return box;
  }

  function action(label, className, run) {
    const button = el('button', 'btn ' + className, label);
    button.type = 'button';
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        await run();
        showError();
        clearTimeout(orderTimer);
        loadOrder();
        loadList();
      } catch (error) {
        showError(error);
        button.disabled = false;
      }
    });
    return button;
  }

  function facts(timeline) {
    const boxes = [];
    const items = fact('Items', 'items');
    const list = el('ul');
    for (const line of timeline.items) {
      const text = line.quantity + ' × ' + (line.name ? line.name + ' (' + line.sku + ')' : line.sku) + (line.lineTotal !== undefined ? ' · ' + money(line.lineTotal, timeline.currency) : '');
      list.append(el('li', '', text));
    }
    items.append(list);
    boxes.push(items);

    if (timeline.approval) {
      const box = fact('Approval', 'approval');
      const decision = timeline.approval.decision;
      const now = Date.parse(timeline.now);
      if (decision) {
        box.append(el('div', '', (decision.approved ? 'Approved' : 'Rejected') + ' by ' + decision.approver));
        box.append(el('div', 'note', clock(decision.at)));
      } else if (timeline.approval.deadline) {
        const deadline = Date.parse(timeline.approval.deadline);
        const waiting = timeline.status === 'AwaitingApproval';
        box.append(el('div', '', (waiting ? 'Waiting; deadline ' : 'Deadline was ') + clock(deadline)));
        if (waiting) box.append(el('div', 'note', deadline > now ? 'rejected automatically in ' + duration(deadline - now) : 'the deadline has passed'));
        else if (timeline.approval.timedOut) box.append(el('div', 'note', 'no decision before the deadline'));
        else box.append(el('div', 'note', timeline.status === 'Terminated' ? 'no decision: the order was terminated' : 'no decision was recorded'));
        if (waiting) {
          const actions = el('div', 'actions');
          const label = el('label', 'note', 'approver ');
          const approver = el('input');
          approver.value = 'operator';
          approver.setAttribute('aria-label', 'approver');
          label.append(approver);
          const decide = (approved) => () => sendDecision(timeline.orderId, approved, approver.value.trim() || 'operator');
          const approve = action('Approve', 'approve', decide(true));
          approve.dataset.decision = 'approve';
          const reject = action('Reject', 'reject', decide(false));
          reject.dataset.decision = 'reject';
          actions.append(approve, reject, label);
          box.append(actions);
        }
      }
      boxes.push(box);
    }

    if (timeline.shipment) {
      const box = fact('Shipment', 'tracking');
      box.append(el('div', '', timeline.shipment.trackingNumber), el('div', 'note', 'carrier ' + timeline.shipment.carrier));
      boxes.push(box);
    }

    if (timeline.deadLetter) {
      const letter = timeline.deadLetter;
      const open = letter.state !== 'resolved';
      const box = fact('Dead letter', 'dead-letter', open ? 'alert' : '');
      box.dataset.state = letter.state;
      box.append(el('div', '', open ? 'Waiting for a person: ' + letter.failed.map((failed) => failed.name).join(', ') : 'Resolved by a repair'));
      for (const failed of letter.failed) box.append(el('div', 'note', failed.name + ': ' + failed.error));
      const repair = letter.repair ? 'repair ' + letter.repair.runtimeStatus.toLowerCase() : 'no repair yet';
      const repairNote = el('div', 'note', repair + ' · ' + letter.repairs + ' repair(s) run');
      repairNote.dataset.testid = 'repair-state';
      box.append(repairNote);
      if (letter.repairable) {
        const actions = el('div', 'actions');
        const retry = action('Retry failed compensations', 'retry', () => retryDeadLetter(timeline.orderId));
        retry.dataset.action = 'retry';
        if (letter.repair && ['Running', 'Pending', 'Suspended'].includes(letter.repair.runtimeStatus)) retry.disabled = true;
        actions.append(retry);
        box.append(actions);
      }
      boxes.push(box);
    }
    const wrap = el('div', 'facts');
    wrap.append(...boxes);
    return wrap;
  }

  function render(timeline) {
    for (const button of $('orders').querySelectorAll('button')) {
      if (button.dataset.orderId !== timeline.orderId) continue;
      button.lastChild.className = 'badge ' + timeline.status;
      button.lastChild.textContent = timeline.status;
    }
    const view = $('timeline');
    const inFlight = !FINAL.includes(timeline.status);
    view.dataset.orderId = timeline.orderId;
    view.dataset.orderStatus = timeline.status;
    const spans = timeline.spans;
    const now = Date.parse(timeline.now);
    const starts = spans.map((span) => Date.parse(span.start));
    const ends = spans.map((span) => (span.end ? Date.parse(span.end) : now));
    const start = starts.length ? Math.min(...starts) : now;
    const end = Math.max(start + 1, ...ends, inFlight ? now : start + 1);
    const range = end - start;
    const position = (time) => ((time - start) / range) * 100;
    const place = (node, from, to) => {
      node.style.left = position(from) + '%';
      node.style.width = Math.max(0, position(to) - position(from)) + '%';
    };

    const summary = el('div');
    summary.id = 'summary';
    summary.append(el('span', 'id', timeline.orderId), el('span', 'badge ' + timeline.status, timeline.status), el('span', '', money(timeline.total, timeline.currency)));
    if (inFlight) summary.append(el('span', 'note', 'live: refreshing every second'));
    const parts = [summary, el('div', 'note', 'correlation id ' + timeline.correlationId)];
    if (timeline.reason) parts.push(el('div', 'note', 'Reason: ' + timeline.reason));
    for (const warning of timeline.warnings) parts.push(el('div', 'note', 'Warning: ' + warning));
    parts.push(facts(timeline));

    const axis = el('div', 'axis');
    const ticks = el('div', 'ticks');
    for (let index = 0; index <= 4; index += 1) ticks.append(el('span', '', '+' + duration((range * index) / 4)));
    [...ticks.children].forEach((tick, index) => { tick.style.left = index * 25 + '%'; });
    axis.append(el('span', '', spans.length ? 'from ' + clock(start) : 'saga time'), ticks, el('span', '', 'status · took'));
    parts.push(axis);

    for (const kind of ['step', 'compensation', 'repair']) {
      const rows = spans.filter((span) => span.kind === kind);
      if (rows.length === 0) continue;
      parts.push(el('div', 'group', { step: 'Steps', compensation: 'Compensations (newest first)', repair: 'Repair (operator retry)' }[kind]));
      for (const span of rows) {
        const status = STATUSES.includes(span.status) ? span.status : 'running';
        const row = el('div', 'row ' + status);
        row.dataset.entry = kind + ':' + span.name;
        row.dataset.status = status;
        row.dataset.attempts = String(span.attempts.length);
        const from = Date.parse(span.start);
        const to = span.end ? Date.parse(span.end) : now;
        const track = el('div', 'track');
        const bar = el('span', 'bar');
        place(bar, from, to);
        bar.title = span.name + ': ' + clock(from) + (span.end ? ' → ' + clock(to) : ' → now');
        track.append(bar);
        span.attempts.forEach((attempt, index) => {
          const segment = el('span', 'attempt ' + attempt.outcome);
          place(segment, Date.parse(attempt.start), Date.parse(attempt.end));
          segment.title = 'attempt ' + (index + 1) + ' ' + attempt.outcome + ' after ' + duration(Date.parse(attempt.end) - Date.parse(attempt.start)) + (attempt.error ? ': ' + attempt.error : '');
          track.append(segment);
          if (attempt.retryAfterMs) {
            const wait = el('span', 'wait');
            place(wait, Date.parse(attempt.end), Date.parse(attempt.end) + attempt.retryAfterMs);
            wait.title = 'retry wait ' + duration(attempt.retryAfterMs);
            track.append(wait);
          }
        });
        if (inFlight) {
          const line = el('span', 'now-line');
          line.style.left = position(now) + '%';
          line.title = 'now';
          track.append(line);
        }
        const tries = span.attempts.length > 1 ? ' · ' + span.attempts.length + ' attempts' : '';
        row.append(el('span', 'name', span.name), track, el('span', 'status', status + ' · ' + duration(to - from) + tries));
        // Failed attempts, grouped by error, and the backoffs between them.
        const errors = new Map();
        for (const attempt of span.attempts.filter((candidate) => candidate.outcome === 'failed')) errors.set(attempt.error || 'error', (errors.get(attempt.error || 'error') || 0) + 1);
        const waits = span.attempts.filter((attempt) => attempt.retryAfterMs).map((attempt) => duration(attempt.retryAfterMs));
        const detail = [span.detail && !errors.has(span.detail) ? span.detail : undefined, ...[...errors].map(([error, count]) => (count > 1 ? count + ' attempts failed: ' : 'an attempt failed: ') + error)];
        if (waits.length) detail.push('retry waits: ' + waits.join(', '));
        const text = detail.filter(Boolean).join(' · ') || span.detail;
        if (text) row.append(el('span', 'detail', text));
        parts.push(row);
      }
    }
    if (spans.length === 0) parts.push(el('p', 'note', 'No step has started yet.'));
    if (inFlight) {
      const marker = el('div', 'note', 'now: ' + clock(now));
      marker.id = 'now-line';
      parts.push(marker);
    }
    const legend = el('div', 'legend');
    const swatches = { succeeded: 'ok', running: 'run', failed: 'bad', warning: 'warn', skipped: 'skip' };
    for (const status of STATUSES) {
      const key = el('span');
      const swatch = el('i');
      swatch.style.background = 'var(--' + swatches[status] + ')';
      key.append(swatch, status);
      legend.append(key);
    }
    const waitKey = el('span');
    const waitSwatch = el('i', 'wait');
    waitSwatch.style.position = 'static';
    waitKey.append(waitSwatch, 'retry wait');
    legend.append(waitKey);
    parts.push(legend);
    view.replaceChildren(...parts);
  }

  $('search').addEventListener('submit', (event) => {
    event.preventDefault();
    search = $('q').value.trim();
    cursors = [null];
    setQuery({ q: search });
    loadList();
  });
  $('older').addEventListener('click', () => { if (next) { cursors.push(next); loadList(); } });
  $('newer').addEventListener('click', () => { if (cursors.length > 1) { cursors.pop(); loadList(); } });
  $('q').value = search;

  loadList();
  // Only the first page follows new orders; an older page stays put while someone reads it.
  setInterval(() => { if (cursors.length === 1) loadList(); }, 5000);
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
<header><h1>Order saga timeline</h1><span>steps, attempts and compensations of each order, on the saga's clock</span></header>
<p id="error" role="alert"></p>
<main>
  <section aria-labelledby="orders-title"><h2 id="orders-title">Orders</h2>
    <form id="search" role="search"><input id="q" type="search" placeholder="order id or status" aria-label="Search orders by id or status"><button class="btn" type="submit">Search</button></form>
    <ul id="orders" aria-label="Orders, most recently updated first"></ul>
    <nav id="pager" aria-label="Pages"><button class="btn" id="newer" type="button">← Newer</button><span id="page"></span><button class="btn" id="older" type="button">Older →</button></nav>
  </section>
  <section aria-labelledby="timeline-title"><h2 id="timeline-title">Timeline</h2><div id="timeline" data-testid="timeline"><p class="note">Pick an order.</p></div></section>
</main>
<script>${TIMELINE_SCRIPT}</script>
</body>
</html>
`;
