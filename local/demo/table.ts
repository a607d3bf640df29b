/** The demo's report: one row per scenario, readable in a terminal and in a CI log. */
import type { LogEntry, ScenarioResult } from './runner';

const MARK: Record<string, string> = { succeeded: '✓', failed: '✗', warning: '!', skipped: '–', running: '…' };

/** `validate✓ pay✗`: each entry with a mark for its status. */
export function entries(log: readonly LogEntry[] | undefined): string {
  return log && log.length > 0 ? log.map((entry) => `${entry.name}${MARK[entry.status] ?? '?'}`).join(' ') : '—';
}

export function formatResults(results: readonly ScenarioResult[]): string {
  const header = ['order', 'scenario', 'final status', 'steps', 'compensations', 'duration'];
  const rows = results.map((result) => [
    result.orderId,
    result.scenario.knob,
    `${result.ok ? '✓' : '✗'} ${result.status}${result.ok ? '' : ` (expected ${result.scenario.expected.status}${result.scenario.expected.warning ? ' with a warning' : ''})`}`,
    entries(result.view?.steps),
    entries(result.view?.compensations),
    `${(result.durationMs / 1000).toFixed(1)} s`,
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => [...row[column]].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell + ' '.repeat(widths[column] - [...cell].length))
      .join('  ')
      .trimEnd();
  const errors = results.filter((result) => result.error).map((result) => `  ${result.orderId}: ${result.error}`);
  return [
    line(header),
    line(widths.map((width) => '─'.repeat(width))),
    ...rows.map(line),
    ...(errors.length ? ['', 'errors:', ...errors] : []),
  ].join('\n');
}
