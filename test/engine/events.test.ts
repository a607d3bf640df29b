/** External events, durable timers, Task.any, cancellation and terminate. */
import { EventType } from '../../local/engine/history';
import { startTestApp, type TestApp } from '../../local/engine/testing';
import { DAY_MS } from './fixtures/events';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

describe('waitForExternalEvent raced against a timer', () => {
  it('takes the event when it comes first and cancels the timer', async () => {
    const id = app.engine.startNew('evt_approval');
    await app.settle();
    expect(app.engine.getStatus(id)!.runtimeStatus).toBe('Running');
    expect(app.engine.getStatus(id)!.customStatus).toEqual({ waitingUntil: expect.any(String) });

    expect(app.engine.raiseEvent(id, 'Approval', { approved: true, by: 'grace' })).toBe('accepted');
    await app.settle();

    const status = app.status(id)!;
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toEqual({ decision: { approved: true, by: 'grace' } });
    expect(status.history!.some((event) => event.EventType === EventType.TimerFired)).toBe(false);
    // The cancelled timer is gone from the engine: nothing is left to fire.
    expect(app.clock.nextDueTime()).toBeUndefined();
  });

  it('still delivers a cancelled timer, as the extension does, and the orchestrator ignores it', async () => {
    const id = app.engine.startNew('evt_cancel_then_wait');
    await app.settle();
    app.engine.raiseEvent(id, 'Approval', true);
    await app.settle();
    // The shim cancels only the .NET task: the timer stays scheduled in the instance.
    expect(app.clock.nextDueTime()).toBeDefined();
    await app.settle({ fastForward: true });

    expect(app.engine.getStatus(id)!.runtimeStatus).toBe('Running');
    expect(app.clock.nextDueTime()).toBeUndefined();
    expect(app.status(id)!.history!.filter((event) => event.EventType === EventType.TimerFired)).toHaveLength(1);
    app.engine.raiseEvent(id, 'Finish');
    await app.settle();
    expect(app.engine.getStatus(id)!.output).toBe('decided');
  });

  it('times out exactly when 24 hours of virtual time have passed', async () => {
    const id = app.engine.startNew('evt_approval');
    await app.settle();
    const startedAt = app.clock.now();

    await app.advanceTime(DAY_MS - 1);
    expect(app.engine.getStatus(id)!.runtimeStatus).toBe('Running');
    await app.advanceTime(1);

    const status = app.status(id)!;
    expect(app.clock.now() - startedAt).toBe(DAY_MS);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toEqual({ timedOutAt: new Date(startedAt + DAY_MS).toISOString() });
    expect(status.history!.find((event) => event.EventType === EventType.TimerFired)).toMatchObject({
      TimerId: 0,
      FireAt: new Date(startedAt + DAY_MS).toISOString(),
    });
    // Too late now: the instance is finished.
    expect(app.engine.raiseEvent(id, 'Approval', { approved: true })).toBe('notRunning');
  });

  it('settle({ fastForward: true }) skips to the timeout', async () => {
    const id = app.engine.startNew('evt_approval');
    await app.settle({ fastForward: true });
    expect(app.engine.getStatus(id)!.output).toEqual({ timedOutAt: expect.any(String) });
  });
});

describe('an event raised before the orchestrator waits for it', () => {
  it('is kept and delivered when the orchestrator gets there, in order', async () => {
    const id = app.engine.startNew('evt_listens_late');
    await app.settle();
    app.engine.raiseEvent(id, 'Note', 'first');
    app.engine.raiseEvent(id, 'Note', 'second');
    await app.settle();
    expect(app.engine.getStatus(id)!.runtimeStatus).toBe('Running');

    await app.advanceTime(60 * 60 * 1000);
    const status = app.engine.getStatus(id)!;
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toEqual(['first', 'second']);
  });
});

describe('terminate', () => {
  it('ends a waiting instance; its timer never fires and later events are refused', async () => {
    const id = app.engine.startNew('evt_approval');
    await app.settle();
    expect(app.engine.terminate(id, 'changed my mind')).toBe('accepted');

    const status = app.status(id)!;
    expect(status.runtimeStatus).toBe('Terminated');
    expect(status.output).toBe('changed my mind');
    expect(status.history!.at(-1)).toMatchObject({
      EventType: EventType.ExecutionTerminated,
      Input: 'changed my mind',
    });
    expect(app.clock.nextDueTime()).toBeUndefined();
    expect(app.engine.raiseEvent(id, 'Approval', {})).toBe('notRunning');
    expect(app.engine.terminate(id)).toBe('notRunning');
    expect(app.engine.terminate('no-such-instance')).toBe('notFound');
  });
});
