/** callActivityWithRetry: the host's half of the retry protocol, on the virtual clock. */
import { EventType, type HistoryEvent } from '../../local/engine/history';
import { startTestApp, type TestApp } from '../../local/engine/testing';
import { attempts } from './fixtures/retries';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

/** Labels without the OrchestratorStarted/Completed bookkeeping, with the task id each event carries. */
function labels(history: HistoryEvent[]): string[] {
  return history
    .filter(
      (event) =>
        event.EventType !== EventType.OrchestratorStarted && event.EventType !== EventType.OrchestratorCompleted,
    )
    .map(
      (event) =>
        `${EventType[event.EventType]}${[event.EventId, event.TaskScheduledId, event.TimerId]
          .filter((id) => id !== undefined && id >= 0)
          .map((id) => `#${id}`)
          .join('')}`,
    );
}

const find = (history: HistoryEvent[], type: EventType, id: number) =>
  history.find(
    (event) =>
      event.EventType === type && (event.EventId === id || event.TimerId === id || event.TaskScheduledId === id),
  )!;

describe('callActivityWithRetry', () => {
  it('retries after each failure with a backoff timer, then succeeds', async () => {
    const key = 'twice';
    const id = app.engine.startNew('retry_until_ok', { input: { key, failures: 2 } });
    await app.settle();

    // First failure: the host created a 1 s retry timer, with the id the SDK took for it.
    let history = app.status(id)!.history!;
    expect(labels(history)).toEqual(['ExecutionStarted', 'TaskScheduled#0', 'TaskFailed#0', 'TimerCreated#1']);
    expect(
      Date.parse(find(history, EventType.TimerCreated, 1).FireAt!) -
        Date.parse(find(history, EventType.TaskFailed, 0).Timestamp),
    ).toBe(1000);

    // Nothing happens before the timer is due.
    await app.advanceTime(999);
    expect(attempts.get(key)).toBe(1);
    await app.advanceTime(1);
    expect(attempts.get(key)).toBe(2);

    // Second failure: 2 s (1 s × 2).
    history = app.status(id)!.history!;
    const secondTimer = find(history, EventType.TimerCreated, 3);
    expect(Date.parse(secondTimer.FireAt!) - Date.parse(find(history, EventType.TaskFailed, 2).Timestamp)).toBe(2000);
    await app.advanceTime(1999);
    expect(attempts.get(key)).toBe(2);
    await app.advanceTime(1);

    const status = app.status(id)!;
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toEqual({ result: 'ok on attempt 3', after: 'plain after' });
    expect(labels(status.history!)).toEqual([
      'ExecutionStarted',
      'TaskScheduled#0',
      'TaskFailed#0',
      'TimerCreated#1',
      'TimerFired#1',
      'TaskScheduled#2',
      'TaskFailed#2',
      'TimerCreated#3',
      'TimerFired#3',
      'TaskScheduled#4',
      'TaskCompleted#4',
      'TaskScheduled#5',
      'TaskCompleted#5',
      'ExecutionCompleted',
    ]);
    // The extension's TaskFailed: Reason names the activity, Details is the serialized .NET exception.
    const failed = find(status.history!, EventType.TaskFailed, 0);
    expect(failed.Reason).toBe("Activity function 'retry_flaky' failed: flaky failure 1 of twice");
    expect(JSON.parse(failed.Details!)).toMatchObject({
      ClassName: 'System.Exception',
      Message: 'flaky failure 1 of twice',
      InnerException: {
        Message: expect.stringMatching(
          /^Result: Failure\nException: flaky failure 1 of twice\nStack: Error: flaky failure 1 of twice/,
        ),
      },
    });
  });

  it('fails the task after the last attempt, once its timer fires; the orchestrator sees the message', async () => {
    const key = 'always';
    const started = app.clock.now();
    const id = app.engine.startNew('retry_until_ok', { input: { key, failures: 99 } });
    await app.settle({ fastForward: true });

    const status = app.status(id)!;
    expect(attempts.get(key)).toBe(3);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toEqual({
      caught: expect.stringContaining('flaky failure 3 of always'),
      after: 'plain after',
    });
    expect((status.output as { caught: string }).caught.split('\n')[0].trim()).toBe(
      "Activity function 'retry_flaky' failed: flaky failure 3 of always",
    );
    expect(labels(status.history!)).toEqual([
      'ExecutionStarted',
      'TaskScheduled#0',
      'TaskFailed#0',
      'TimerCreated#1',
      'TimerFired#1',
      'TaskScheduled#2',
      'TaskFailed#2',
      'TimerCreated#3',
      'TimerFired#3',
      'TaskScheduled#4',
      'TaskFailed#4',
      'TimerCreated#5',
      'TimerFired#5',
      'TaskScheduled#6',
      'TaskCompleted#6',
      'ExecutionCompleted',
    ]);
    // 1 s + 2 s of backoff; the timer after the last attempt is due at once (RetryInterceptor's
    // "Dummy timer for back-compat"), so no third backoff is waited.
    expect(app.clock.now() - started).toBe(3000);
    const lastFailure = find(status.history!, EventType.TaskFailed, 4);
    expect(find(status.history!, EventType.TimerCreated, 5).FireAt).toBe(lastFailure.Timestamp);
  });

  it('takes retry ids in the SDK order when the retried task runs beside another', async () => {
    const id = app.engine.startNew('retry_in_parallel', { input: { key: 'parallel', failures: 1 } });
    await app.settle({ fastForward: true });
    const status = app.status(id)!;
    expect(status.output).toEqual({ results: ['ok on attempt 2', 'plain beside'], after: 'plain after' });
    expect(labels(status.history!)).toEqual([
      // Both results reach one episode; the retry timer is scheduled after the events it answers.
      'ExecutionStarted',
      'TaskScheduled#0',
      'TaskScheduled#1',
      'TaskFailed#0',
      'TaskCompleted#1',
      'TimerCreated#2',
      'TimerFired#2',
      'TaskScheduled#3',
      'TaskCompleted#3',
      'TaskScheduled#4',
      'TaskCompleted#4',
      'ExecutionCompleted',
    ]);
  });
});
