/**
 * The saga timeline page in a real headless Chromium (Debian's `chromium`, driven by
 * playwright-core): it follows an order live as its steps complete, shows compensations of an
 * undone order, sends the page's #key= to its API calls in a header, and runs under its own strict
 * Content-Security-Policy without a single console error. Screenshots go to test-artifacts/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { hostFixture, ROOT, type HostFixture, type HostProcess } from './support/host-process';
import { call } from './support/http';

jest.setTimeout(120_000);

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-artifacts');
const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let fixture: HostFixture | undefined;
let host: HostProcess | undefined;
let browser: Browser | undefined;
let page: Page;
const problems: string[] = [];
const run = Date.now().toString(36);

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed (looked for ${CHROMIUM}). Install it with \`apt-get install chromium\` (Debian; as root, or with sudo), or set CHROMIUM_PATH to a Chromium or Chrome binary.`);
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  fixture = hostFixture('browser');
  // Real time with slow providers: the steps complete one by one, slowly enough to watch.
  host = await fixture.start('data', { SIMULATED_LATENCY_MS: 'gateway=1500,mailer=1200,analytics=1200,carrier=1500' });
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
}

/**
 * What the timeline shows now: the order's status and each row as `kind:name=status`. Written
 * as page source (the tests compile without the DOM's types).
 */
const snapshot = (): Promise<Snapshot> =>
  page.evaluate<Snapshot>(`({
    orderStatus: document.querySelector('[data-testid="timeline"]')?.dataset.orderStatus,
    entries: [...document.querySelectorAll('[data-entry]')].map((row) => row.dataset.entry + '=' + row.dataset.status),
  })`);

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

  expect(final.entries).toEqual(['validate', 'pay', 'reserve', 'confirm', 'analytics', 'ship'].map((name) => `step:${name}=succeeded`));
  // Watched, not just loaded: several distinct states, with a step running in at least one.
  expect(seen.length).toBeGreaterThanOrEqual(3);
  expect(seen.some((state) => state.entries.some((entry) => entry.endsWith('=running')))).toBe(true);
  const succeeded = seen.map((state) => state.entries.filter((entry) => entry.endsWith('=succeeded')).length);
  expect(succeeded).toEqual([...succeeded].sort((a, b) => a - b));
  expect(inFlightShot).toBe(true);

  // Positioned by time: the last step sits to the right of the first.
  const left = (entry: string) => page.evaluate<number>(`parseFloat(document.querySelector('[data-entry="${entry}"] .dot').style.left)`);
  expect(await left('step:ship')).toBeGreaterThan(await left('step:validate'));
  expect(await page.locator('#orders li', { hasText: orderId }).count()).toBe(1);
});

it('shows the compensations of an undone order, picked from the list', async () => {
  const orderId = `timeline-undone-${run}`;
  const address = { line1: '1 Main St', city: 'Berlin', postalCode: '00000', country: 'DE' };
  expect((await call('POST', `${host!.baseUrl}/api/orders`, order(orderId, { shippingAddress: address }))).status).toBe(202);
  // The list refreshes every five seconds; the new order shows up there, and a click opens it.
  await page.locator('#orders li', { hasText: orderId }).click({ timeout: 30_000 });
  await page.waitForSelector('[data-testid="timeline"][data-order-status="Compensated"]', { timeout: 60_000 });
  const final = await snapshot();
  await page.screenshot({ path: join(ARTIFACTS, 'timeline-compensated.png'), fullPage: true });
  expect(final.entries.filter((entry) => entry.startsWith('step:'))).toContain('step:ship=failed');
  expect(final.entries.filter((entry) => entry.startsWith('compensation:'))).toEqual(
    ['releaseStock', 'retractAnalytics', 'sendCancellation', 'refundPayment'].map((name) => `compensation:${name}=succeeded`),
  );
  expect(page.url()).toContain(`order=${orderId}`);
});

it('sends the #key= it was opened with in a header of every API call, never in a URL', async () => {
  const calls: { url: string; key?: string }[] = [];
  page.on('request', (request) => request.url().includes('/api/orders') && calls.push({ url: request.url(), key: request.headers()['x-functions-key'] }));
  await page.goto(`${host!.baseUrl}/api/timeline#key=the-function-key`);
  await page.waitForSelector('#orders li');
  await page.waitForSelector('[data-testid="timeline"][data-order-status]');
  expect(calls.length).toBeGreaterThanOrEqual(2);
  for (const call of calls) {
    expect(call.key).toBe('the-function-key');
    expect(call.url).not.toContain('the-function-key');
  }
  expect(page.url()).not.toContain('the-function-key');
});

it('ran without a console error or a Content-Security-Policy violation', () => {
  expect(problems).toEqual([]);
});
