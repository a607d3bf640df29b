/**
 * `npm run demo [URL] [-- --key KEY] [--admin-key KEY] [--token TOKEN] [--with-timeout]`: runs every knob scenario against a running
 * app (the offline host by default, `func start`, or a deployed app with its function key) and
 * prints what became of each order. Exits 1 if any scenario ends other than expected.
 */
import { runScenarios } from '../local/demo/runner';
import { DEMO_SCENARIOS } from '../local/demo/scenarios';
import { formatResults } from '../local/demo/table';

const USAGE = `usage: npm run demo -- [URL] [--key KEY] [--admin-key KEY] [--token TOKEN] [--with-timeout] [--timeout-s N]
  URL             the app, default http://127.0.0.1:7071
  --key KEY       function key, sent as x-functions-key (or set FUNCTION_KEY)
  --admin-key KEY the key for the approval and operator routes, which take the master key in
                  Azure without App Service Authentication (or set ADMIN_KEY; default: --key)
  --token TOKEN   behind App Service Authentication: an Entra access token for the app whose
                  caller holds Orders.Approver and Orders.Operator, sent as a bearer token on
                  the approval and operator routes (or set BEARER_TOKEN; docs/infra.md)
  --with-timeout  also let a large order wait out APPROVAL_TIMEOUT (24 h of saga time: use
                  DURABLE_TIME_SCALE=3600 or more on the offline host, or a short APPROVAL_TIMEOUT)
  --timeout-s N   give up on a scenario after N seconds (default 600)`;

function parseArgs(argv: string[]): {
  baseUrl: string;
  key?: string;
  adminKey?: string;
  token?: string;
  withTimeout: boolean;
  timeoutMs: number;
} {
  let baseUrl = 'http://127.0.0.1:7071';
  let key = process.env.FUNCTION_KEY || undefined;
  let adminKey = process.env.ADMIN_KEY || undefined;
  let token = process.env.BEARER_TOKEN || undefined;
  let withTimeout = false;
  let timeoutMs = 600_000;
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index];
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (arg === '--key') key = argv[++index];
    else if (arg === '--admin-key') adminKey = argv[++index];
    else if (arg === '--token') token = argv[++index];
    else if (arg === '--with-timeout') withTimeout = true;
    else if (arg === '--timeout-s') timeoutMs = Number(argv[++index]) * 1000;
    else if (/^https?:\/\//.test(arg)) baseUrl = arg;
    else throw new Error(`unknown argument "${arg}"\n${USAGE}`);
  }
  if (!(timeoutMs > 0)) throw new Error(`--timeout-s must be a positive number\n${USAGE}`);
  return { baseUrl, key, adminKey, token, withTimeout, timeoutMs };
}

const FINAL = ['Completed', 'Rejected', 'Failed', 'Compensated', 'CompensationFailed', 'Terminated'];

/**
 * One line of progress, e.g. `7/12 final · in flight: 3 Paying, 2 Fulfilling`: rewritten in
 * place on a terminal; in a log, printed when it changes, at most every two seconds.
 */
function progressPrinter(total: number): { update(statuses: ReadonlyMap<string, string>): void; done(): void } {
  const interactive = process.stdout.isTTY;
  let shown = '';
  let shownAt = 0;
  let pending = '';
  const show = (text: string) => {
    shown = text;
    shownAt = Date.now();
    if (interactive) process.stdout.write(`\r\x1b[2K${text.slice(0, (process.stdout.columns || 120) - 1)}`);
    else console.log(text);
  };
  return {
    update(statuses) {
      const counts = new Map<string, number>();
      for (const status of statuses.values())
        if (!FINAL.includes(status)) counts.set(status, (counts.get(status) ?? 0) + 1);
      const final = [...statuses.values()].filter((status) => FINAL.includes(status)).length;
      const text = `${final}/${total} final · in flight: ${[...counts].map(([status, count]) => `${count} ${status}`).join(', ') || '—'}`;
      pending = text;
      if (text !== shown && (interactive || final === total || Date.now() - shownAt >= 2000)) show(text);
    },
    done() {
      if (!interactive && pending !== shown) show(pending);
      if (interactive && shown) process.stdout.write('\n');
    },
  };
}

async function main(): Promise<void> {
  const { baseUrl, key, adminKey, token, withTimeout, timeoutMs } = parseArgs(process.argv.slice(2));
  const scenarios = DEMO_SCENARIOS.filter((scenario) => withTimeout || !scenario.slow);
  console.log(
    `running ${scenarios.length} scenarios against ${baseUrl}${withTimeout ? '' : ' (add --with-timeout for the approval timeout)'}`,
  );
  const progress = progressPrinter(scenarios.length);
  const results = await runScenarios(scenarios, {
    baseUrl,
    key,
    adminKey,
    token,
    timeoutMs,
    onProgress: (statuses) => progress.update(statuses),
  });
  progress.done();
  console.log(`\n${formatResults(results)}\n`);
  const unexpected = results.filter((result) => !result.ok);
  console.log(
    unexpected.length === 0
      ? `all ${results.length} scenarios ended as expected`
      : `${unexpected.length} of ${results.length} scenarios did not end as expected`,
  );
  console.log(`timeline: ${new URL('/api/timeline', baseUrl).href}${key ? '#key=<your key>' : ''}`);
  process.exitCode = unexpected.length === 0 ? 0 : 1;
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
  console.error(`demo: ${message}${cause}`);
  if (/fetch failed|ECONNREFUSED/.test(message + cause)) console.error('is the app running? start it with `npm start`');
  process.exit(2);
});
