/**
 * docs/architecture.md is a guide people follow: the files its "How to add a step" names exist,
 * every step of the saga appears in each place that list says a step must be, and the pictures
 * it shows are there.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const guide = read('docs/architecture.md');
const section = (heading: string) => guide.slice(guide.indexOf(heading), guide.indexOf('\n## ', guide.indexOf(heading) + 1));

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
    expect(steps).toEqual(expect.arrayContaining(['validate', 'approval', 'pay', 'reserve', 'confirm', 'analytics', 'ship']));
    const orchestrator = read('src/services/orders/place-order.orchestrator.ts');
    const timeline = read('src/services/orders/timeline.ts');
    const mapping = timeline.slice(timeline.indexOf('const STEP_ACTIVITIES'), timeline.indexOf('};', timeline.indexOf('const STEP_ACTIVITIES')));
    for (const step of steps) {
      expect([step, orchestrator.includes(`'${step}'`)]).toEqual([step, true]);
      if (step !== 'approval') expect([step, new RegExp(`\\b${step}: `).test(mapping)]).toEqual([step, true]);
    }
    for (const file of ['src/services/orders/order-view.ts', 'src/services/orders/retry-policies.ts', 'src/services/orders/place-order.orchestrator.ts', 'src/services/orders/timeline.ts', 'test/saga/replay.test.ts']) {
      expect(files).toContain(file);
    }
  });
});

describe('the pictures', () => {
  it.each(['saga', 'contexts', 'deployment'])('%s.svg is shown, and rendered from its .dot source', (name) => {
    expect(guide).toContain(`(diagrams/${name}.svg)`);
    expect(existsSync(join(ROOT, 'docs', 'diagrams', `${name}.dot`))).toBe(true);
    expect(read(`docs/diagrams/${name}.svg`)).toMatch(/^<\?xml[\s\S]*<svg[\s\S]*<\/svg>\s*$/);
  });
});
