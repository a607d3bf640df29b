/**
 * docs/settings.md is the one settings table: it lists exactly the settings src/libs/config.ts
 * reads (marked "app"), every app setting infra/ sets, and every name local.settings.sample.json
 * uses, and nothing that none of them has.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SETTING_NAMES } from '../../src/libs/config';
import { appSettings, compileBicep, DEVELOPER, evaluate, serviceFolders } from '../infra/infra';

const ROOT = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

interface Row {
  name: string;
  readBy: string[];
}

/** The rows of the table whose header starts `| setting | default | set by | read by |`. */
function settingsTable(text: string): Row[] {
  const rows: Row[] = [];
  let inTable = false;
  for (const line of text.split('\n')) {
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((cell) => cell.trim());
    if (cells.slice(0, 4).join('|') === 'setting|default|set by|read by') {
      inTable = true;
      continue;
    }
    if (!inTable) continue;
    if (cells.length < 5) break;
    if (/^-+$/.test(cells[0]!)) continue;
    const name = /^`([^`]+)`$/.exec(cells[0]!);
    if (!name) throw new Error(`a row of the settings table names one setting, in backticks: ${line}`);
    rows.push({ name: name[1]!, readBy: cells[3]!.split(',').map((who) => who.trim()) });
  }
  return rows;
}

const rows = settingsTable(read('docs/settings.md'));
const contexts = serviceFolders().map((folder) => folder.toUpperCase());
/** Whether a table name (perhaps with `<CONTEXT>`) covers a concrete setting name. */
const covers = (pattern: string, name: string) =>
  new RegExp(
    `^${pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace('<CONTEXT>', `(?:${contexts.join('|')})`)}$`,
  ).test(name);
const listed = (name: string) => rows.some((row) => covers(row.name, name));

let infraSettings: string[];

beforeAll(() => {
  const { template } = compileBicep();
  // Every option that changes which settings the app gets: per-context accounts, authentication.
  const variants = [
    {},
    { principalId: DEVELOPER, cosmosAccountPerContext: true },
    { authClientId: '6d5f9ad4-1f2e-4f8b-9a51-1c8e2a0a7b11' },
  ];
  infraSettings = [
    ...new Set(variants.flatMap((parameters) => Object.keys(appSettings(evaluate(template, parameters))))),
  ].sort();
});

describe('docs/settings.md', () => {
  it('has one row per setting', () => {
    expect(rows.length).toBeGreaterThanOrEqual(SETTING_NAMES.length);
    expect(rows.map((row) => row.name).filter((name, i, names) => names.indexOf(name) !== i)).toEqual([]);
  });

  it('marks as read by the app exactly the settings config.ts reads', () => {
    const app = rows.filter((row) => row.readBy.includes('app')).map((row) => row.name);
    expect(app.sort()).toEqual([...SETTING_NAMES].sort());
  });

  it('lists every setting infra/ sets for the app', () => {
    expect(infraSettings).toEqual(
      expect.arrayContaining([
        'APPROVAL_THRESHOLD',
        'DEAD_LETTER_QUEUE',
        'ORDERS_IDENTITY_CLIENT_ID',
        'COSMOS_ENDPOINT_PAYMENTS',
        'AUTHENTICATION_MODE',
      ]),
    );
    expect(infraSettings.filter((name) => !listed(name))).toEqual([]);
  });

  it('local.settings.sample.json uses only listed names', () => {
    const sample = Object.keys(
      (JSON.parse(read('local.settings.sample.json')) as { Values: Record<string, string> }).Values,
    );
    expect(sample.length).toBeGreaterThan(0);
    expect(sample.filter((name) => !listed(name))).toEqual([]);
  });

  it('lists nothing that neither the app reads, infra/ sets nor the sample holds', () => {
    const sample = Object.keys(
      (JSON.parse(read('local.settings.sample.json')) as { Values: Record<string, string> }).Values,
    );
    const known = [...infraSettings, ...sample];
    const stale = rows.filter(
      (row) =>
        !(SETTING_NAMES as readonly string[]).includes(row.name) && !known.some((name) => covers(row.name, name)),
    );
    expect(stale.map((row) => row.name)).toEqual([]);
  });

  it('is the table the other guides link to', () => {
    for (const [file, link] of [
      ['README.md', 'docs/settings.md'],
      ['docs/architecture.md', 'settings.md'],
      ['docs/infra.md', 'settings.md'],
      ['docs/offline-host.md', 'settings.md'],
    ]) {
      expect([file, read(file!).includes(`(${link})`)]).toEqual([file, true]);
    }
  });
});
