/**
 * The Durable extension refuses a custom status whose JSON is over 16 KB in UTF-16 (whole KB,
 * rounded down: 17,407 bytes pass, 17,408 do not), and the engine does the same: the episode
 * schedules nothing and the instance fails, with the output the extension gives.
 */
import { customStatusLength, customStatusSizeKb, customStatusTooLarge } from '../../local/engine/custom-status';
import { EventType } from '../../local/engine/history';
import { startTestApp, type TestApp } from '../../local/engine/testing';
import { ran, statusOfUnits } from './fixtures/status-limit';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());
beforeEach(() => {
  ran.length = 0;
});

/** The largest JSON that passes: 17,407 bytes round down to 16 KB; an odd byte count is impossible, so 8,703 units. */
const LARGEST = 8703;

describe('the size the extension measures', () => {
  it('counts UTF-16 bytes in whole KB, rounded down', () => {
    expect(customStatusSizeKb(statusOfUnits(LARGEST))).toBe(16);
    expect(customStatusSizeKb(statusOfUnits(LARGEST + 1))).toBe(17);
    expect(customStatusTooLarge(statusOfUnits(LARGEST))).toBeUndefined();
    expect(customStatusTooLarge(statusOfUnits(LARGEST + 1))).toBe(
      'The UTF-16 size of the JSON-serialized payload must not exceed 16 KB. The current payload size is 17 KB.',
    );
    expect(customStatusTooLarge(null)).toBeUndefined();
  });

  it('counts escapes as Newtonsoft.Json writes them: quotes and control characters double, U+2028 is six units', () => {
    expect(customStatusLength({ a: '"\\\t' })).toBe('{"a":"\\"\\\\\\t"}'.length);
    expect(customStatusLength('\u2028')).toBe('"\\u2028"'.length);
    expect(customStatusLength('\ud800')).toBe(3);
    expect(customStatusLength('😀')).toBe(4);
  });

  it('writes a thousand KB and more with a group separator, as {0:N0} does', () => {
    expect(customStatusTooLarge('x'.repeat(600_000))).toMatch(/The current payload size is 1,171 KB\.$/);
  });
});

describe('an orchestrator whose custom status is over the limit', () => {
  it('fails in its first episode with the extension message, and schedules nothing', async () => {
    const id = app.engine.startNew('limit_status', { input: { first: statusOfUnits(LARGEST + 1) } });
    await app.settle();
    const status = app.status(id)!;
    expect(status).toMatchObject({
      runtimeStatus: 'Failed',
      customStatus: null,
      output:
        "Orchestrator function 'limit_status' failed: The UTF-16 size of the JSON-serialized payload must not exceed 16 KB. The current payload size is 17 KB.",
    });
    expect(status.history!.map((event) => EventType[event.EventType])).toEqual([
      'OrchestratorStarted',
      'ExecutionStarted',
      'ExecutionCompleted',
      'OrchestratorCompleted',
    ]);
    expect(ran).toEqual([]);
  });

  it('in a later episode, fails as the extension reports it: non-deterministic, on the first task it had scheduled', async () => {
    const id = app.engine.startNew('limit_status', { input: { first: 'small', second: statusOfUnits(9000) } });
    await app.settle();
    const status = app.status(id)!;
    expect(status).toMatchObject({
      runtimeStatus: 'Failed',
      customStatus: null,
      output:
        "Non-Deterministic workflow detected: A previous execution of this orchestration scheduled an activity task with sequence ID 0 and name 'limit_step' (version ''), but the current replay execution hasn't (yet?) scheduled this task. Was a change made to the orchestrator code after this instance had already started running?",
    });
    expect(status.history!.filter((event) => event.EventType === EventType.TaskScheduled)).toHaveLength(1);
    expect(ran).toEqual(['one']);
  });

  it('names the timer when a timer came first', async () => {
    const id = app.engine.startNew('limit_status', { input: { timerFirst: true, first: statusOfUnits(9000) } });
    await app.settle({ fastForward: true });
    expect(app.status(id)).toMatchObject({
      runtimeStatus: 'Failed',
      output: expect.stringMatching(
        /^Non-Deterministic workflow detected: A previous execution of this orchestration scheduled a timer task with sequence number 0 but/,
      ),
    });
    expect(ran).toEqual([]);
  });

  it('runs on with a status of exactly the largest size that passes', async () => {
    const id = app.engine.startNew('limit_status', { input: { first: statusOfUnits(LARGEST), second: 'small' } });
    await app.settle();
    expect(app.status(id)).toMatchObject({ runtimeStatus: 'Completed', output: 'done', customStatus: 'small' });
    expect(ran).toEqual(['one', 'two']);
  });
});
