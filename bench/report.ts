/** The metrics, their goals, and the table the bench prints. */
export interface Goal {
  op: '<=' | '>=';
  target: number;
}

export interface Metric {
  name: string;
  value: number | null;
  unit: string;
  goal?: Goal;
  /** null when there is no goal or no value. */
  pass: boolean | null;
  note?: string;
}

export function metric(
  name: string,
  value: number | null | undefined,
  unit: string,
  goal?: Goal,
  note?: string,
): Metric {
  const v = value === undefined || value === null || Number.isNaN(value) ? null : value;
  const pass = !goal || v === null ? null : goal.op === '<=' ? v <= goal.target : v >= goal.target;
  return { name, value: v, unit, ...(goal ? { goal } : {}), pass, ...(note ? { note } : {}) };
}

export function formatValue(value: number | null, unit: string): string {
  if (value === null) return 'n/a';
  if (unit === 'bytes') return `${value.toLocaleString('en-US')} B (${(value / 1_000_000).toFixed(2)} MB)`;
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : unit === 'ratio' ? 3 : 2;
  return `${value.toFixed(digits)}${unit === 'ratio' || unit === '' ? '' : ` ${unit}`}`;
}

function formatGoal(goal: Goal | undefined, unit: string): string {
  if (!goal) return '—';
  const target = unit === 'bytes' ? `${(goal.target / 1_000_000).toFixed(1)} MB` : String(goal.target);
  return `${goal.op === '<=' ? '≤' : '≥'} ${target}`;
}

export function table(metrics: readonly Metric[]): string {
  const rows = metrics.map((m) => [
    m.name,
    formatValue(m.value, m.unit),
    formatGoal(m.goal, m.unit),
    m.pass === null ? (m.goal ? 'ERROR' : '') : m.pass ? 'PASS' : 'FAIL  <<<',
  ]);
  const header = ['metric', 'value', 'goal', 'result'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

/** `key: value` lines for a breakdown, values in ms unless told. */
export function breakdown(title: string, values: Record<string, number>, unit = 'ms'): string {
  const width = Math.max(...Object.keys(values).map((key) => key.length), 0);
  const lines = Object.entries(values).map(([key, value]) => `  ${key.padEnd(width)}  ${formatValue(value, unit)}`);
  return [title, ...lines].join('\n');
}
