/** Task.all: branches run concurrently (up to the concurrency limit) and fail fast. */
import { startTestApp, type TestApp } from '../../local/engine/testing';
import { spans, type Branch } from './fixtures/parallel';

let app: TestApp;
let serial: TestApp;
beforeAll(async () => {
  app = await startTestApp();
  serial = await startTestApp({ maxConcurrentActivities: 1 });
});
afterAll(async () => {
  await app.stop();
  await serial.stop();
});
beforeEach(() => {
  spans.length = 0;
});

const branches: Branch[] = [
  { name: 'a', ms: 100 },
  { name: 'b', ms: 150 },
  { name: 'c', ms: 200 },
];

describe('Task.all', () => {
  it('runs its activities at the same time: every branch starts before any ends', async () => {
    const id = app.engine.startNew('par_all', { input: branches });
    await app.settle();

    expect(app.engine.getStatus(id)!.output).toEqual(['a', 'b', 'c']);
    const latestStart = Math.max(...spans.map((span) => span.start));
    const earliestEnd = Math.min(...spans.map((span) => span.end));
    expect(latestStart).toBeLessThan(earliestEnd);
  });

  it('runs them one at a time with maxConcurrentActivities = 1', async () => {
    const id = serial.engine.startNew('par_all', { input: branches });
    await serial.settle();

    expect(serial.engine.getStatus(id)!.output).toEqual(['a', 'b', 'c']);
    const ordered = [...spans].sort((x, y) => x.start - y.start);
    for (let index = 1; index < ordered.length; index++)
      expect(ordered[index].start).toBeGreaterThanOrEqual(ordered[index - 1].end - 1);
  });

  it('fails fast on the first failure; the remaining branches can still be awaited one by one', async () => {
    const id = app.engine.startNew('par_every_outcome', {
      input: [
        { name: 'x', ms: 10, fail: true },
        { name: 'y', ms: 60 },
        { name: 'z', ms: 120, fail: true },
      ],
    });
    await app.settle();

    const status = app.engine.getStatus(id)!;
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toEqual({
      firstError: "Activity function 'par_work' failed: x failed",
      unfinishedAfterFailFast: 2,
      outcomes: [
        { failed: "Activity function 'par_work' failed: x failed" },
        { ok: 'y' },
        { failed: "Activity function 'par_work' failed: z failed" },
      ],
    });
  });

  it('schedules a task only once when it is yielded again inside Task.all', async () => {
    const id = app.engine.startNew('par_reyield');
    await app.settle();
    expect(app.engine.getStatus(id)!.output).toEqual(['first', 'second']);
    expect(spans.map((span) => span.name)).toEqual(['first', 'second']);
  });
});
