/**
 * Runs demo scenarios against a running app, all at once: places each order, approves or rejects
 * the ones that wait for a person, and follows each to its final status.
 */
import { CLIENT_PRINCIPAL_HEADER, encodeClientPrincipal, Roles } from '../../src/libs/client-principal';
import { AppClient } from './client';
import { demoOrder, type CatalogEntry, type DemoScenario, type FinalStatus } from './scenarios';

/**
 * A development principal with the approver role. The offline host and `func start` have no App
 * Service Authentication in front of them, so the app reads what the client sends; in Azure with
 * App Service Authentication on, the platform replaces it with the signed-in user's.
 */
const DEMO_APPROVER = encodeClientPrincipal('demo-approver@contoso.example', [Roles.approver]);
/** And one with the operator role, for the dead-letter retry. */
const DEMO_OPERATOR = encodeClientPrincipal('demo-operator@contoso.example', [Roles.operator]);

const FINAL: readonly string[] = [
  'Completed',
  'Rejected',
  'Failed',
  'Compensated',
  'CompensationFailed',
  'Terminated',
] satisfies (FinalStatus | 'Terminated')[];

export interface LogEntry {
  name: string;
  status: string;
  at: string;
  detail?: string;
}

export interface OrderView {
  orderId: string;
  status: string;
  total: number | null;
  currency: string;
  steps: LogEntry[];
  compensations: LogEntry[];
  warnings: string[];
  reason?: string;
}

export interface ScenarioResult {
  scenario: DemoScenario;
  orderId: string;
  /** The last status seen (a final one unless the run timed out or failed). */
  status: string;
  view?: OrderView;
  durationMs: number;
  /** Ended as the scenario expects (status, and a warning where one is expected). */
  ok: boolean;
  error?: string;
}

export interface RunOptions {
  baseUrl: string;
  key?: string;
  /** For the approval and operator routes (the master key in Azure without App Service Authentication); default `key`. */
  adminKey?: string;
  /**
   * An Entra access token for the app, for the approval and operator routes behind App Service
   * Authentication (it takes no client principal from the caller): sent as a bearer token in
   * place of the development principals.
   */
  token?: string;
  /** Appended to every order id, so runs never collide. */
  runId?: string;
  pollMs?: number;
  /** Per scenario, from placing the order. */
  timeoutMs?: number;
  /** Called whenever an order's status changes. */
  onProgress?: (statuses: ReadonlyMap<string, string>) => void;
}

/**
 * Who calls the approval and operator routes: the bearer token when one was given, else the
 * development principal; and the key those routes take, when one was given apart from the customer's.
 */
const privileged = (options: RunOptions, principal: string): Record<string, string> => ({
  ...(options.token ? { authorization: `Bearer ${options.token}` } : { [CLIENT_PRINCIPAL_HEADER]: principal }),
  ...(options.adminKey ? { 'x-functions-key': options.adminKey } : {}),
});

export async function runScenarios(scenarios: readonly DemoScenario[], options: RunOptions): Promise<ScenarioResult[]> {
  const client = new AppClient(options.baseUrl, options.key);
  const catalog = await client.get<CatalogEntry[]>('api/catalog');
  if (catalog.status !== 200 || !Array.isArray(catalog.body))
    throw new Error(`GET /api/catalog answered ${catalog.status}: ${JSON.stringify(catalog.body)}`);
  const runId = options.runId ?? Date.now().toString(36);
  const statuses = new Map<string, string>();
  const report = (key: string, status: string) => {
    if (statuses.get(key) === status) return;
    statuses.set(key, status);
    options.onProgress?.(statuses);
  };
  return Promise.all(
    scenarios.map((scenario) =>
      runOne(client, scenario, catalog.body, `demo-${scenario.key}-${runId}`, options, (status) =>
        report(scenario.key, status),
      ),
    ),
  );
}

async function runOne(
  client: AppClient,
  scenario: DemoScenario,
  catalog: CatalogEntry[],
  orderId: string,
  options: RunOptions,
  report: (status: string) => void,
): Promise<ScenarioResult> {
  const started = Date.now();
  const result = (status: string, view?: OrderView, error?: string): ScenarioResult => ({
    scenario,
    orderId,
    status,
    view,
    durationMs: Date.now() - started,
    ok:
      !error &&
      status === scenario.expected.status &&
      (view?.warnings.length ?? 0) > 0 === (scenario.expected.warning ?? false),
    error,
  });
  try {
    const placed = await client.post('api/orders', demoOrder(orderId, scenario.order(catalog)));
    if (placed.status !== 202)
      return result(
        'not placed',
        undefined,
        `POST /api/orders answered ${placed.status}: ${JSON.stringify(placed.body)}`,
      );
    report('Pending');
    let decided = false;
    let repaired = false;
    const deadline = started + (options.timeoutMs ?? 10 * 60_000);
    for (;;) {
      const current = await client.get<OrderView>(`api/orders/${orderId}`);
      // Unavailable for now (neither the saga nor the order document could be read): the app says when to ask again.
      if (current.status === 503 && current.headers.has('retry-after') && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, pollDelayMs(current.headers, options.pollMs)));
        continue;
      }
      if (current.status !== 200)
        return result('unknown', undefined, `GET /api/orders/${orderId} answered ${current.status}`);
      const view = current.body;
      report(view.status);
      // A final status comes before the saga's last acts (the stock commit, the dead letter, the
      // announcement), and each can still add a warning: the app answers Retry-After until then.
      const settled = FINAL.includes(view.status) && !current.headers.has('retry-after');
      if (scenario.repair && view.status === 'CompensationFailed') {
        // The operator's move: run the failed compensations again (the refund now goes through),
        // then wait for the repair to make the order Compensated. The saga reports
        // CompensationFailed a moment before its dead letter is written: 404 until then.
        if (!repaired) {
          const retry = await client.post(
            `api/operations/dead-letters/${orderId}/retry`,
            {},
            privileged(options, DEMO_OPERATOR),
          );
          if (retry.status === 202) {
            repaired = true;
            report('repairing');
          } else if (retry.status !== 404)
            return result(
              view.status,
              view,
              `the dead-letter retry answered ${retry.status}: ${JSON.stringify(retry.body)}`,
            );
          // GET answers Retry-After while the repair runs: without it, the repair has ended.
        } else if (settled) return result(view.status, view, 'the repair left the order CompensationFailed');
      } else if (settled) return result(view.status, view);
      const decidedNow =
        view.status === 'AwaitingApproval' &&
        !decided &&
        scenario.decision !== undefined &&
        scenario.decision !== 'none';
      if (decidedNow) {
        // Who decides is the caller's client principal, as App Service Authentication would set it.
        const decision = await client.post(
          `api/orders/${orderId}/approval`,
          { approved: scenario.decision === 'approve' },
          privileged(options, DEMO_APPROVER),
        );
        if (decision.status !== 202)
          return result(
            view.status,
            view,
            `the approval answered ${decision.status}: ${JSON.stringify(decision.body)}`,
          );
        decided = true;
      }
      if (Date.now() > deadline)
        return result(view.status, view, `still ${view.status} after ${Math.round((Date.now() - started) / 1000)} s`);
      // The app says when to ask again (Retry-After); right after a decision, ask at once.
      await new Promise((resolve) =>
        setTimeout(resolve, decidedNow ? 0 : pollDelayMs(current.headers, options.pollMs)),
      );
    }
  } catch (error) {
    return result('error', undefined, error instanceof Error ? error.message : String(error));
  }
}

/**
 * How long to wait before the next poll: what the app's Retry-After says (whole seconds), else
 * `pollMs`; `pollMs` is also the least wait, for a caller that wants to poll more gently.
 */
export function pollDelayMs(headers: Headers, pollMs = 250): number {
  const seconds = Number(headers.get('retry-after') ?? '');
  return Number.isFinite(seconds) && seconds >= 0 && headers.get('retry-after') !== null
    ? Math.max(seconds * 1000, pollMs)
    : pollMs;
}
