/**
 * The saga timeline page in a real headless Chromium (Debian's `chromium`, driven by
 * playwright-core), as an operations console: it follows an order live (spans, a now-line),
 * shows attempts and retry waits, compensations, the approval deadline with approve / reject and
 * who decided, items and the tracking number, a dead letter and its repair with the retry action;
 * it reads at 390 px, works from the keyboard, pages and searches the list, scales its time
 * units, sends the page's #key= to its API calls in a header, and runs under its own strict
 * Content-Security-Policy without a single console error. Screenshots go to test-artifacts/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { hostFixture, ROOT, type HostFixture, type HostProcess } from './support/host-process';
import { call, until } from './support/http';
import {
  CLIENT_PRINCIPAL_HEADER,
  encodeClientPrincipal,
  readClientPrincipal,
  Roles,
  type ClientPrincipal,
} from '../../src/libs/client-principal';

jest.setTimeout(120_000);

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-artifacts');
const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let fixture: HostFixture | undefined;
let host: HostProcess | undefined;
let browser: Browser | undefined;
let page: Page;

/** The client principal the page sends with each POST whose path ends with `suffix`, as the app reads it. */
function principalsSentTo(suffix: string): (ClientPrincipal | undefined)[] {
  const sent: (ClientPrincipal | undefined)[] = [];
  page.on('request', (request) => {
    if (request.method() === 'POST' && new URL(request.url()).pathname.endsWith(suffix))
      sent.push(readClientPrincipal(request.headers()[CLIENT_PRINCIPAL_HEADER]));
  });
  return sent;
}
const problems: string[] = [];
const run = Date.now().toString(36);

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed (looked for ${CHROMIUM}). Install it with \`apt-get install chromium\` (Debian; as root, or with sudo), or set CHROMIUM_PATH to a Chromium or Chrome binary.`,
    );
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  fixture = hostFixture('browser');
  // Slow providers (wall time): the steps complete one by one, slowly enough to watch. Durable
  // time runs 30 times faster, so retry backoffs pass quickly and spans read in minutes.
  host = await fixture.start('data', {
    SIMULATED_LATENCY_MS: 'gateway=1500,mailer=1200,analytics=1200,carrier=1500',
    DURABLE_TIME_SCALE: '30',
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: LAUNCH_ARGS });
  page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
  page.on('console', (message) => message.type() === 'error' && problems.push(`console: ${message.text()}`));
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
});

afterAll(async () => {
  await browser?.close();
  await fixture?.cleanup([host]);
});

const order = (orderId: string, changes: Record<string, unknown> = {}) => ({
  orderId,
  customerId: 'ada',
  customerEmail: 'ada@example.com',
  currency: 'EUR',
  items: [{ sku: 'KEYBOARD-MECH', quantity: 1 }],
  payment: { token: 'tok_visa' },
  shippingAddress: { line1: '1 Main St', city: 'Berlin', postalCode: '10115', country: 'DE' },
  ...changes,
});

interface Snapshot {
  orderStatus?: string;
  entries: string[];
  nowLine: boolean;
}

/**
 * What the timeline shows now: the order's status and each row as `kind:name=status`. Written
 * as page source (the tests compile without the DOM's types).
 */
const snapshot = (): Promise<Snapshot> =>
  page.evaluate<Snapshot>(`({
    orderStatus: document.querySelector('[data-testid="timeline"]')?.dataset.orderStatus,
    entries: [...document.querySelectorAll('[data-entry]')].map((row) => row.dataset.entry + '=' + row.dataset.status),
    nowLine: document.querySelector('.now-line') !== null,
  })`);

const text = (selector: string) => page.locator(selector).innerText();
const place = async (orderId: string, changes: Record<string, unknown> = {}) =>
  expect((await call('POST', `${host!.baseUrl}/api/orders`, order(orderId, changes))).status).toBe(202);
const open = async (orderId: string, status?: string) => {
  await page.goto(`${host!.baseUrl}/api/timeline?order=${orderId}`);
  await page.waitForSelector(
    `[data-testid="timeline"][data-order-id="${orderId}"]${status ? `[data-order-status="${status}"]` : ''}`,
    { timeout: 90_000 },
  );
};
const rejectedAddress = { line1: '1 Main St', city: 'Berlin', postalCode: '00000', country: 'DE' };
const laptop = { items: [{ sku: 'LAPTOP-PRO-16', quantity: 1 }] };

it('follows an order live: its steps appear and turn green as they complete', async () => {
  const orderId = `timeline-live-${run}`;
  expect((await call('POST', `${host!.baseUrl}/api/orders`, order(orderId))).status).toBe(202);
  await page.goto(`${host!.baseUrl}/api/timeline?order=${orderId}`);

  const seen: Snapshot[] = [];
  let inFlightShot = false;
  const deadline = Date.now() + 60_000;
  for (let current = await snapshot(); current.orderStatus !== 'Completed'; current = await snapshot()) {
    if (JSON.stringify(current) !== JSON.stringify(seen.at(-1))) seen.push(current);
    if (!inFlightShot && current.entries.some((entry) => entry.endsWith('=running')) && current.entries.length >= 3) {
      await page.screenshot({ path: join(ARTIFACTS, 'timeline-in-flight.png'), fullPage: true });
      inFlightShot = true;
    }
    if (Date.now() > deadline) throw new Error(`the page never showed Completed; last: ${JSON.stringify(current)}`);
    await page.waitForTimeout(100);
  }
  const final = await snapshot();
  await page.screenshot({ path: join(ARTIFACTS, 'timeline-completed.png'), fullPage: true });

  expect(final.entries).toEqual(
    ['validate', 'pay', 'reserve', 'confirm', 'analytics', 'ship'].map((name) => `step:${name}=succeeded`),
  );
  // Watched, not just loaded: several distinct states, with a step running in at least one.
  expect(seen.length).toBeGreaterThanOrEqual(3);
  expect(seen.some((state) => state.entries.some((entry) => entry.endsWith('=running')))).toBe(true);
  const succeeded = seen.map((state) => state.entries.filter((entry) => entry.endsWith('=succeeded')).length);
  expect(succeeded).toEqual([...succeeded].sort((a, b) => a - b));
  expect(inFlightShot).toBe(true);

  // Positioned by time: the last step sits to the right of the first.
  const bar = (entry: string) =>
    page.evaluate<{ left: number; width: number }>(
      `(() => { const bar = document.querySelector('[data-entry="${entry}"] .bar'); return { left: parseFloat(bar.style.left), width: parseFloat(bar.style.width) }; })()`,
    );
  const [validate, ship] = [await bar('step:validate'), await bar('step:ship')];
  expect(ship.left).toBeGreaterThan(validate.left + validate.width);
  // Spans, not dots: a 1.5 s carrier call is a bar of real width.
  expect(ship.width).toBeGreaterThan(5);
  expect(seen.some((state) => state.nowLine)).toBe(true);
  expect(final.nowLine).toBe(false);
  expect(await page.locator('#orders li', { hasText: orderId }).count()).toBe(1);
});

it('shows the compensations of an undone order, picked from the list', async () => {
  const orderId = `timeline-undone-${run}`;
  expect(
    (await call('POST', `${host!.baseUrl}/api/orders`, order(orderId, { shippingAddress: rejectedAddress }))).status,
  ).toBe(202);
  // The list refreshes every five seconds; the new order shows up there, and a click opens it.
  await page.locator('#orders li', { hasText: orderId }).click({ timeout: 30_000 });
  await page.waitForSelector('[data-testid="timeline"][data-order-status="Compensated"]', { timeout: 60_000 });
  const final = await snapshot();
  await page.screenshot({ path: join(ARTIFACTS, 'timeline-compensated.png'), fullPage: true });
  expect(final.entries.filter((entry) => entry.startsWith('step:'))).toContain('step:ship=failed');
  expect(final.entries.filter((entry) => entry.startsWith('compensation:'))).toEqual(
    ['releaseStock', 'retractAnalytics', 'sendCancellation', 'refundPayment'].map(
      (name) => `compensation:${name}=succeeded`,
    ),
  );
  expect(page.url()).toContain(`order=${orderId}`);
});

it('time units scale with the span: a saga of minutes reads in minutes, not thousands of seconds', async () => {
  const orderId = `timeline-units-${run}`;
  await place(orderId);
  await open(orderId, 'Completed');
  const ticks = await page.locator('.ticks span').allInnerTexts();
  expect(ticks).toHaveLength(5);
  // ~6 s of provider latency at 30× durable time: minutes.
  expect(ticks.at(-1)).toMatch(/^\+\d+(\.\d)? min$/);
  for (const label of await page.locator('.row .status').allInnerTexts()) expect(label).not.toMatch(/\d{4,}(\.\d+)? s/);
});

it('shows each attempt of a retried step and the retry waits between them', async () => {
  const orderId = `timeline-flaky-${run}`;
  await place(orderId, { payment: { token: 'tok_flaky' } });
  await open(orderId, 'Completed');
  const pay = page.locator('[data-entry="step:pay"]');
  expect(await pay.getAttribute('data-attempts')).toBe('3');
  expect(await pay.locator('.attempt.failed').count()).toBe(2);
  expect(await pay.locator('.attempt.succeeded').count()).toBe(1);
  expect(await pay.locator('.wait').count()).toBe(2);
  expect(await pay.locator('.status').innerText()).toContain('3 attempts');
  // The policy waits 2 s, then 4 s (RetryPolicies.pay); on a sped-up clock the host's own latency adds a little.
  const detail = await pay.locator('.detail').innerText();
  expect(detail).toMatch(/2 attempts failed: payment gateway timed out/);
  const waits = [.../retry waits: (\d+\.\d+) s, (\d+\.\d+) s$/.exec(detail)!.slice(1)].map(Number);
  expect(waits[0]).toBeGreaterThanOrEqual(2);
  expect(waits[1]).toBeGreaterThanOrEqual(4);
  await page.screenshot({ path: join(ARTIFACTS, 'timeline-retries.png'), fullPage: true });
});

it('a large order shows its deadline and a now-line while it waits; Approve (from the keyboard) lets it go on, and says who decided', async () => {
  const orderId = `timeline-approve-${run}`;
  await place(orderId, laptop);
  await open(orderId, 'AwaitingApproval');
  await page.waitForSelector('button[data-decision="approve"]', { timeout: 30_000 });
  expect(await text('[data-testid="approval"]')).toMatch(
    /Waiting; deadline .* UTC[\s\S]*rejected automatically in 2\d\.\d h/,
  );
  expect(await page.locator('[data-entry="step:approval"][data-status="running"] .now-line').count()).toBe(1);
  expect(await text('[data-testid="items"]')).toContain('1 × ');
  expect(await text('[data-testid="items"]')).toContain('LAPTOP-PRO-16');
  await page.screenshot({ path: join(ARTIFACTS, 'timeline-awaiting-approval.png'), fullPage: true });

  const decisions = principalsSentTo(`/orders/${orderId}/approval`);
  await page.locator('[data-testid="approval"] input').fill('grace');
  await page.locator('button[data-decision="approve"]').focus();
  await page.keyboard.press('Enter');
  await page.waitForSelector(`[data-testid="timeline"][data-order-status="Completed"]`, { timeout: 60_000 });
  // The name typed in the box, as an approver; the app takes it from the principal, not a body.
  expect(decisions).toEqual([{ name: 'grace', roles: ['Orders.Approver'] }]);
  expect(await text('[data-testid="approval"]')).toContain('Approved by grace');
  expect(await text('[data-testid="tracking"]')).toMatch(/\S+[\s\S]*carrier \S+/);
  expect(await page.locator('button[data-decision]').count()).toBe(0);
});

it('Reject ends a large order as Rejected, and says who rejected it', async () => {
  const orderId = `timeline-reject-${run}`;
  await place(orderId, laptop);
  await open(orderId, 'AwaitingApproval');
  const decisions = principalsSentTo(`/orders/${orderId}/approval`);
  await page.locator('button[data-decision="reject"]').click({ timeout: 30_000 });
  await page.waitForSelector(`[data-testid="timeline"][data-order-status="Rejected"]`, { timeout: 60_000 });
  // Nothing typed: the box's own default name.
  expect(decisions).toEqual([{ name: 'operator', roles: ['Orders.Approver'] }]);
  expect(await text('[data-testid="approval"]')).toContain('Rejected by operator');
});

it('a dead-lettered order shows its dead letter; the retry action repairs it, and the repair shows as its own span', async () => {
  const orderId = `timeline-repair-${run}`;
  await place(orderId, { payment: { token: 'tok_refund_recovers' }, shippingAddress: rejectedAddress });
  await open(orderId, 'CompensationFailed');
  await page.waitForSelector('[data-testid="dead-letter"][data-state="sent"]', { timeout: 30_000 });
  expect(await text('[data-testid="dead-letter"]')).toContain('Waiting for a person: refundPayment');
  expect(await text('[data-testid="repair-state"]')).toContain('no repair yet');
  expect(await page.locator('[data-entry="compensation:refundPayment"]').getAttribute('data-attempts')).toBe('6');
  await page.screenshot({ path: join(ARTIFACTS, 'timeline-dead-letter.png'), fullPage: true });

  const retries = principalsSentTo(`/dead-letters/${orderId}/retry`);
  await page.locator('button[data-action="retry"]').click();
  await page.waitForSelector(`[data-testid="timeline"][data-order-status="Compensated"]`, { timeout: 60_000 });
  await page.waitForSelector('[data-testid="dead-letter"][data-state="resolved"]', { timeout: 30_000 });
  expect(retries).toEqual([{ name: 'timeline operator', roles: ['Orders.Operator'] }]);
  expect(await text('[data-testid="repair-state"]')).toContain('repair completed · 1 repair(s) run');
  expect((await snapshot()).entries).toContain('repair:refundPayment=succeeded');
  expect(await page.locator('button[data-action="retry"]').count()).toBe(0);
});

it("a terminated order's dead letter has the retry action too; it undoes what the stopped saga left", async () => {
  const orderId = `timeline-terminated-${run}`;
  await place(orderId);
  // Stopped while it pays (the gateway takes 1.5 s): the charge may land, so its refund is owed.
  await until(
    () => call<{ status: string }>('GET', `${host!.baseUrl}/api/orders/${orderId}`),
    (response) => response.json?.status === 'Paying',
  );
  const stopped = await call(
    'POST',
    `${host!.baseUrl}/api/operations/orders/${orderId}/terminate`,
    { reason: 'customer called to cancel' },
    { [CLIENT_PRINCIPAL_HEADER]: encodeClientPrincipal('olivia', [Roles.operator]) },
  );
  expect(stopped.json).toMatchObject({ status: 'Terminated', deadLettered: expect.arrayContaining(['refundPayment']) });
  await open(orderId, 'Terminated');
  await page.waitForSelector('[data-testid="dead-letter"][data-state="sent"]', { timeout: 30_000 });
  expect(await text('[data-testid="dead-letter"]')).toContain('Waiting for a person: refundPayment');
  await page.locator('button[data-action="retry"]').click({ timeout: 10_000 });
  await page.waitForSelector(`[data-testid="timeline"][data-order-status="Compensated"]`, { timeout: 60_000 });
  await page.waitForSelector('[data-testid="dead-letter"][data-state="resolved"]', { timeout: 30_000 });
  expect(await page.locator('button[data-action="retry"]').count()).toBe(0);
});

it('reads at 390 px: nothing wider than the screen, tracks still wide enough to read', async () => {
  const phone = await browser!.newPage({ viewport: { width: 390, height: 844 } });
  try {
    await phone.goto(`${host!.baseUrl}/api/timeline?order=timeline-repair-${run}`);
    await phone.waitForSelector('[data-testid="timeline"][data-order-status="Compensated"]', { timeout: 30_000 });
    const widths = await phone.evaluate<{ page: number; track: number; timeline: number }>(`({
      page: document.documentElement.scrollWidth,
      track: document.querySelector('.row .track').getBoundingClientRect().width,
      timeline: document.querySelector('[data-testid="timeline"]').getBoundingClientRect().right,
    })`);
    expect(widths.page).toBeLessThanOrEqual(390);
    expect(widths.timeline).toBeLessThanOrEqual(390);
    expect(widths.track).toBeGreaterThan(250);
    await phone.screenshot({ path: join(ARTIFACTS, 'timeline-390px.png'), fullPage: true });
  } finally {
    await phone.close();
  }
});

it('searches the list and picks an order from the keyboard alone', async () => {
  await page.goto(`${host!.baseUrl}/api/timeline`);
  await page.waitForSelector('#orders button');
  await page.locator('#q').focus();
  await page.keyboard.type(`timeline-reject-${run}`);
  await page.keyboard.press('Enter');
  await until(
    () => page.locator('#orders button').allInnerTexts(),
    (items) => items.length === 1 && items[0].includes(`timeline-reject-${run}`),
  );
  await page.keyboard.press('Tab');
  expect(await page.evaluate<string>('document.activeElement.id')).toBe('');
  // Tab from the search box reaches the Search button, then the order.
  await page.keyboard.press('Tab');
  expect(await page.evaluate<string | undefined>('document.activeElement.dataset.orderId')).toBe(
    `timeline-reject-${run}`,
  );
  await page.keyboard.press('Enter');
  await page.waitForSelector(`[data-testid="timeline"][data-order-id="timeline-reject-${run}"]`);
  expect(page.url()).toContain(`order=timeline-reject-${run}`);
  expect(await page.locator(`#orders button[aria-current="true"]`).innerText()).toContain(`timeline-reject-${run}`);
});

it('pages the list: Older shows the next twenty, Newer goes back', async () => {
  // Enough declined orders (quick: no retries) to fill more than one page.
  await Promise.all(
    Array.from({ length: 21 }, (_, index) =>
      place(`timeline-page-${run}-${index}`, { payment: { token: 'tok_declined' } }),
    ),
  );
  await until(
    () => call<{ orders: unknown[]; next: string | null }>('GET', `${host!.baseUrl}/api/orders?limit=20`),
    (response) => response.json.next !== null,
  );
  await page.goto(`${host!.baseUrl}/api/timeline`);
  await page.waitForSelector('#orders button');
  const first = await page.locator('#orders button .id').allInnerTexts();
  expect(first).toHaveLength(20);
  expect(await page.locator('#newer').isDisabled()).toBe(true);
  await page.locator('#older').click();
  await until(
    () => page.locator('#page').innerText(),
    (label) => label.startsWith('page 2'),
  );
  const second = await page.locator('#orders button .id').allInnerTexts();
  expect(second.length).toBeGreaterThan(0);
  expect(second.filter((id) => first.includes(id))).toEqual([]);
  await page.locator('#newer').click();
  await until(
    () => page.locator('#page').innerText(),
    (label) => label.startsWith('page 1'),
  );
});

it('sends the #key= it was opened with in a header of every API call, never in a URL', async () => {
  const calls: { url: string; key?: string }[] = [];
  // A page of its own: a poll of the page before (opened without a key) may still be on its way out.
  const keyed = await browser!.newPage();
  keyed.on(
    'request',
    (request) =>
      request.url().includes('/api/orders') &&
      calls.push({ url: request.url(), key: request.headers()['x-functions-key'] }),
  );
  await keyed.goto(`${host!.baseUrl}/api/timeline#key=the-function-key`);
  await keyed.waitForSelector('#orders li');
  await keyed.waitForSelector('[data-testid="timeline"][data-order-status]');
  expect(calls.length).toBeGreaterThanOrEqual(2);
  for (const call of calls) {
    expect(call.key).toBe('the-function-key');
    expect(call.url).not.toContain('the-function-key');
  }
  expect(keyed.url()).not.toContain('the-function-key');
  await keyed.close();
});

it('ran without a console error or a Content-Security-Policy violation', () => {
  expect(problems).toEqual([]);
});
