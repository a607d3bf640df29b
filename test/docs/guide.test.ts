/**
 * docs/architecture.md is a guide people follow: the files its "How to add a step" names exist,
 * every step of the saga appears in each place that list says a step must be, the code names it
 * quotes are declared in the code (so a rename fails here, not on a reader), its retries table is
 * the retry policies', the pictures it shows are there, and the tests it, the README and the
 * patterns page cite by name exist.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FINAL, IN_FLIGHT } from '../../src/services/orders/order-view';
import { GiveUpAfterMs, RetryPolicies } from '../../src/services/orders/retry-policies';

const ROOT = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const guide = read('docs/architecture.md');
const sectionOf = (text: string, heading: string) =>
  text.slice(text.indexOf(heading), text.indexOf('\n## ', text.indexOf(heading) + 1));
const section = (heading: string) => sectionOf(guide, heading);

/** Every file of a folder, recursively. */
const filesUnder = (folder: string): string[] =>
  readdirSync(join(ROOT, folder), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? filesUnder(`${folder}/${entry.name}`)
      : entry.name.endsWith('.ts')
        ? [`${folder}/${entry.name}`]
        : [],
  );
const code = [...filesUnder('src'), 'test/support/stubbed-saga.ts'].map(read).join('\n');
const registeredNames = new Set([...code.matchAll(/\bactivity\('([A-Za-z]+)'/g)].map((match) => match[1]));
/** Statuses and setting names are string literals; local/ reads the host's own settings. */
const literals = new Set(
  [...[code, ...filesUnder('local').map(read)].join('\n').matchAll(/'([A-Za-z_]+)'/g)].map((match) => match[1]),
);

const stepNames = (): string[] => {
  const union = /export const STEP_NAMES = \[([^\]]+)\]/.exec(read('src/services/orders/order-view.ts'))![1];
  return [...union.matchAll(/'([a-z]+)'/g)].map((match) => match[1]);
};

describe('how to add a step', () => {
  const text = section('## 6. How to add a step');
  const files = [...text.matchAll(/`((?:src|test|docs)\/[^`<>]+\.(?:ts|dot))`/g)].map((match) => match[1]);

  it('names files that exist', () => {
    expect(files.length).toBeGreaterThanOrEqual(8);
    expect(files.filter((file) => !existsSync(join(ROOT, file)))).toEqual([]);
  });

  it('every step of the saga is in the orchestrator, the timeline mapping and the replay test', () => {
    const steps = stepNames();
    expect(steps).toEqual(
      expect.arrayContaining(['validate', 'approval', 'pay', 'reserve', 'confirm', 'analytics', 'ship']),
    );
    const orchestrator = read('src/services/orders/place-order.orchestrator.ts');
    const timeline = read('src/services/orders/timeline.ts');
    const mapping = timeline.slice(
      timeline.indexOf('const STEP_ACTIVITIES'),
      timeline.indexOf('};', timeline.indexOf('const STEP_ACTIVITIES')),
    );
    for (const step of steps) {
      expect([step, orchestrator.includes(`'${step}'`)]).toEqual([step, true]);
      if (step !== 'approval') expect([step, new RegExp(`\\b${step}: `).test(mapping)]).toEqual([step, true]);
    }
    for (const file of [
      'src/services/orders/order-view.ts',
      'src/services/orders/retry-policies.ts',
      'src/services/orders/place-order.orchestrator.ts',
      'src/services/orders/timeline.ts',
      'test/saga/replay.test.ts',
    ]) {
      expect(files).toContain(file);
    }
  });
});

describe('the pictures', () => {
  it('the contexts picture names every registered activity and orchestration', () => {
    // Labels break lines with a literal \n, which would hide a word boundary.
    const picture = read('docs/diagrams/contexts.dot').replaceAll('\\n', ' ');
    const orchestrations = [...code.matchAll(/export const [A-Z_]+_ORCHESTRATION = '(\w+)'/g)].map((match) => match[1]);
    expect(orchestrations).toEqual(expect.arrayContaining(['placeOrder', 'repairOrder']));
    expect(
      [...registeredNames, ...orchestrations].filter((name) => !new RegExp(`\\b${name}\\b`).test(picture)),
    ).toEqual([]);
  });

  it.each(['saga', 'contexts', 'deployment'])('%s.svg is shown, and rendered from its .dot source', (name) => {
    expect(guide).toContain(`(diagrams/${name}.svg)`);
    expect(existsSync(join(ROOT, 'docs', 'diagrams', `${name}.dot`))).toBe(true);
    expect(read(`docs/diagrams/${name}.svg`)).toMatch(/^<\?xml[\s\S]*<svg[\s\S]*<\/svg>\s*$/);
  });
});

describe('the code names the guide quotes', () => {
  // The worked example's own names (a fraud check that does not exist) and the SDK's.
  const notOurs = /fraud|Fraud|^check$|^Context$|^TaskFailedError$|^failureDetails$|^ApprovalDecision$/;
  const quoted = (text: string) => {
    const names = new Set<string>();
    for (const [, span] of text.matchAll(/`([^`\n]+)`/g)) {
      if (span.includes('/') && !span.includes('(')) continue; // a path
      for (const [name] of span.matchAll(/\b(?:[a-z]+[A-Z]\w*|[A-Z][a-z]+[A-Z]\w*|[A-Z]+_[A-Z_]+)\b/g))
        if (!notOurs.test(name)) names.add(name);
    }
    return [...names];
  };
  const declared = (name: string) =>
    new RegExp(
      `(?:function\\*?|const|let|class|interface|type)\\s+${name}\\b|^\\s*(?:\\*|async\\s+)?${name}\\s*[<(]|\\b${name}: (?:registerActivity|activity|step)\\(|^\\s*${name}\\??: `,
      'm',
    ).test(code);

  it.each(['## 2. The orchestrator', '## 6. How to add a step', '## 7. How to add a context'])(
    '%s: every name is declared in src/ (or the test support it names)',
    (heading) => {
      const names = quoted(section(heading));
      expect(names.length).toBeGreaterThanOrEqual(3);
      expect(names.filter((name) => !declared(name) && !registeredNames.has(name) && !literals.has(name))).toEqual([]);
    },
  );

  it.each(['## The saga', '## Knobs of the simulated providers'])(
    'README %s: every name is declared in src/',
    (heading) => {
      const names = quoted(sectionOf(read('README.md'), heading));
      expect(names.length).toBeGreaterThanOrEqual(3);
      expect(names.filter((name) => !declared(name) && !registeredNames.has(name) && !literals.has(name))).toEqual([]);
    },
  );

  it('the statuses it lists are every final and in-flight status of the order view', () => {
    const sentence = section('## 2. The orchestrator');
    const listed = sentence.slice(
      sentence.indexOf("The order's status is the saga's answer"),
      sentence.indexOf('`IN_FLIGHT` in'),
    );
    const [final, inFlight] = listed.split('(final)');
    const names = (text: string) => [...text.matchAll(/`([A-Za-z]+)`/g)].map((match) => match[1]);
    expect(names(final)).toEqual([...FINAL]);
    expect(names(inFlight).filter((name) => name !== 'FINAL')).toEqual([...IN_FLIGHT]);
  });

  it('every saga.<method> it quotes is a method of OrderSaga', () => {
    const saga = read('src/services/orders/saga.ts');
    const methods = [...new Set([...guide.matchAll(/\bsaga\.(\w+)\(/g)].map((match) => match[1]))];
    expect(methods).toEqual(expect.arrayContaining(['run', 'branch', 'parallel', 'reject', 'abort']));
    expect(methods.filter((method) => !new RegExp(`^\\s*\\*?${method}\\s*[<(]`, 'm').test(saga))).toEqual([]);
  });
});

describe('the retries table', () => {
  const rows = section('## 2. The orchestrator')
    .split('\n')
    .map((line) => line.split('|').map((cell) => cell.trim()))
    .filter((cells) => cells.length >= 6 && /^`\w+`$/.test(cells[1]) && /^\d+ s$/.test(cells[4]))
    .map((cells) => ({
      policy: cells[1].slice(1, -1),
      usedFor: [...cells[2].matchAll(/`(\w+)`/g)].map((match) => match[1]),
      attempts: Number(cells[3]),
      giveUpMs: Number(cells[4].slice(0, -2)) * 1000,
    }));

  it('has one row per retry policy, with its attempts and the give-up time retry-policies.ts computes', () => {
    expect(rows.map((row) => row.policy).sort()).toEqual(Object.keys(RetryPolicies).sort());
    for (const { policy, attempts, giveUpMs } of rows) {
      const options = RetryPolicies[policy as keyof typeof RetryPolicies];
      expect({ policy, attempts, giveUpMs }).toEqual({
        policy,
        attempts: options.maxNumberOfAttempts,
        giveUpMs: GiveUpAfterMs[policy as keyof typeof RetryPolicies],
      });
    }
  });

  it('names registered activities, each under the policy the code schedules it with', () => {
    const orchestrators =
      read('src/services/orders/place-order.orchestrator.ts') +
      read('src/services/orders/saga.ts') +
      read('src/services/orders/repair-order.orchestrator.ts');
    for (const { policy, usedFor } of rows) {
      expect(usedFor.length).toBeGreaterThan(0);
      expect([policy, usedFor.filter((name) => !registeredNames.has(name))]).toEqual([policy, []]);
      expect([policy, new RegExp(`(?:retry|RetryPolicies)\\.${policy}\\b`).test(orchestrators)]).toEqual([
        policy,
        true,
      ]);
    }
  });
});

describe('the tests the docs cite', () => {
  /** `test/x.test.ts` "a test name" (or several, or a glob of files): the file exists and holds each name. */
  const citations = (doc: string) =>
    read(doc)
      .split('\n')
      .flatMap((line) => [...line.matchAll(/`(test\/[^`]+?\.test\.ts)`((?:\s*(?:\(|,|;|and|or)?\s*"[^"]+")*)/g)])
      .map((match) => ({ doc, file: match[1], names: [...match[2].matchAll(/"([^"]+)"/g)].map((name) => name[1]) }));
  const filesOf = (pattern: string) => {
    if (!pattern.includes('*')) return existsSync(join(ROOT, pattern)) ? [pattern] : [];
    const folder = pattern.slice(0, pattern.lastIndexOf('/'));
    const name = new RegExp(
      `^${pattern
        .slice(folder.length + 1)
        .replace(/\./g, '\\.')
        .replace(/\*/g, '.*')}$`,
    );
    return readdirSync(join(ROOT, folder))
      .filter((file) => name.test(file))
      .map((file) => `${folder}/${file}`);
  };

  it.each([
    'README.md',
    'docs/patterns.md',
    'docs/architecture.md',
    'docs/offline-host.md',
    'docs/performance.md',
    'docs/infra.md',
    'local/engine/README.md',
  ])('%s: every cited test file exists and holds the tests it names', (doc) => {
    const cited = citations(doc);
    const missing = cited.flatMap(({ file, names }) => {
      const files = filesOf(file);
      if (files.length === 0) return [`${file} (no such file)`];
      const text = files.map(read).join('\n');
      // "… " stands for words left out of a long test name.
      return names
        .filter(
          (name) =>
            !name
              .split('…')
              .map((part) => part.trim())
              .filter(Boolean)
              .every((part) => text.includes(part)),
        )
        .map((name) => `${file} "${name}"`);
    });
    expect(missing).toEqual([]);
  });

  it('finds the citations it checks', () => {
    expect(citations('docs/patterns.md').filter(({ names }) => names.length > 0).length).toBeGreaterThanOrEqual(15);
  });
});
