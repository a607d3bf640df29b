/** Terminate and purge with work in flight, reusing an id, fault injection, and recovery from the store. */
import type { Fault } from '../../local/engine/activities';
import { EventType } from '../../local/engine/history';
import { Engine } from '../../local/engine/engine';
import { MemoryInstanceStore } from '../../local/engine/store';
import { VirtualClock } from '../../local/engine/clock';
import { loadRegistry } from '../../local/engine/registry';
import { startTestApp, type TestApp } from '../../local/engine/testing';
import { closeGate, hooks, releaseGate, sideEffects } from './fixtures/lifecycle';

let app: TestApp;
/** Faults for the next activity calls, by key (the activity input). */
const faults = new Map<string, Fault[]>();
beforeAll(async () => {
  app = await startTestApp({ faults: (call) => faults.get(String(call.input))?.shift() });
});
afterAll(() => app.stop());
afterEach(() => {
  releaseGate();
  delete hooks.onFirst;
  delete hooks.duringEpisode;
});

const historyTypes = (id: string) => app.status(id)!.history!.map((event) => EventType[event.EventType]);

describe('terminate and purge with work in flight', () => {
  it('ignores the result of an activity that finishes after terminate', async () => {
    closeGate();
    const id = app.engine.startNew('life_two_steps', { input: 'late' });
    await app.waitFor(id, (status) => status.runtimeStatus === 'Running');
    expect(app.engine.terminate(id, 'stop')).toBe('accepted');
    const before = historyTypes(id);

    releaseGate();
    await app.settle();
    expect(sideEffects.get('late')).toBe(1); // it did run …
    expect(app.engine.getStatus(id)!.runtimeStatus).toBe('Terminated');
    expect(historyTypes(id)).toEqual(before); // … but nothing was recorded
    expect(before.at(-1)).toBe('ExecutionTerminated');
  });

  it('still runs the activities it had scheduled, started or waiting for a slot, and records none of their results', async () => {
    // As the extension: terminate is an event for the orchestration; the activity messages already
    // on the work-item queue run all the same (the queue looks at no instance's status).
    const narrow = await startTestApp({ maxConcurrentActivities: 1 });
    try {
      closeGate();
      const id = narrow.engine.startNew('life_fan_out', { input: 'fanned' });
      await narrow.waitFor(id, (status) => status.runtimeStatus === 'Running');
      // The first waits at the gate, the others for the slot.
      expect(sideEffects.get('fanned-1')).toBeUndefined();
      expect(narrow.engine.terminate(id, 'stop')).toBe('accepted');
      const before = narrow.status(id)!.history!.map((event) => EventType[event.EventType]);

      releaseGate();
      await narrow.settle();
      expect([1, 2, 3].map((n) => sideEffects.get(`fanned-${n}`))).toEqual([1, 1, 1]);
      expect(narrow.engine.getStatus(id)!.runtimeStatus).toBe('Terminated');
      expect(narrow.status(id)!.history!.map((event) => EventType[event.EventType])).toEqual(before);
    } finally {
      await narrow.stop();
    }
  });

  // As on the extension, where terminate is a message queued behind the instance's events: a result
  // already waiting (or an episode running) is played first, and what it schedules still runs.
  it('plays an event already waiting when the terminate lands; what it schedules still runs', async () => {
    const id = app.engine.startNew('life_then', { input: 'queued' });
    // Just after the first result is queued for the instance, before an episode takes it.
    hooks.onFirst = () => setImmediate(() => expect(app.engine.terminate(id, 'stop')).toBe('accepted'));
    await app.settle();
    expectEndedAfterFirst(id, 'queued');
  });

  it('lets an episode running when the terminate lands finish; what it schedules still runs', async () => {
    const id = app.engine.startNew('life_then', { input: 'running' });
    hooks.duringEpisode = () => expect(app.engine.terminate(id, 'stop')).toBe('accepted');
    await app.settle();
    expectEndedAfterFirst(id, 'running');
  });

  it('purges an instance; its late results go nowhere, and the id can be used again', async () => {
    closeGate();
    const id = app.engine.startNew('life_two_steps', { input: 'purged' });
    await app.waitFor(id, (status) => status.runtimeStatus === 'Running');
    expect(app.engine.purge(id)).toBe(true);
    expect(app.engine.getStatus(id)).toBeUndefined();
    releaseGate();
    await app.settle();
    expect(app.engine.getStatus(id)).toBeUndefined();
    expect(app.engine.purge(id)).toBe(false);

    app.engine.startNew('life_two_steps', { instanceId: id, input: 'reused' });
    await app.settle();
    expect(app.engine.getStatus(id)!.output).toEqual(['passed reused', 'done reused']);
  });

  it('refuses to start over a running instance but restarts a finished one', async () => {
    closeGate();
    const id = app.engine.startNew('life_two_steps', { input: 'twice' });
    expect(() => app.engine.startNew('life_two_steps', { instanceId: id, input: 'again' })).toThrow(/already/);
    releaseGate();
    await app.settle();
    expect(app.engine.getStatus(id)!.runtimeStatus).toBe('Completed');
    app.engine.startNew('life_two_steps', { instanceId: id, input: 'again' });
    await app.settle();
    expect(app.engine.getStatus(id)!.output).toEqual(['passed again', 'done again']);
  });
});

/** life_then was terminated once its first step's result was played: the second step ran, its result went nowhere. */
function expectEndedAfterFirst(id: string, key: string): void {
  const status = app.status(id)!;
  expect(status).toMatchObject({ runtimeStatus: 'Terminated', output: 'stop', customStatus: 'first done' });
  expect(sideEffects.get(key)).toBe(1);
  expect(historyTypes(id).filter((type) => type.startsWith('Task') || type === 'ExecutionTerminated')).toEqual([
    'TaskScheduled',
    'TaskCompleted',
    'TaskScheduled',
    'ExecutionTerminated',
  ]);
}

describe('fault injection', () => {
  it('a transient fault fails the attempt without running it; the retry policy runs it again', async () => {
    faults.set('transient', ['transient']);
    const id = app.engine.startNew('life_retried_effect', { input: 'transient' });
    await app.settle({ fastForward: true });
    expect(app.engine.getStatus(id)!.output).toBe('done transient');
    expect(sideEffects.get('transient')).toBe(1);
    expect(app.status(id)!.history!.find((event) => event.EventType === EventType.TaskFailed)!.Reason).toMatch(
      /Injected transient fault/,
    );
  });

  it('crashAfter runs the activity, loses the result and runs the same task again, unseen by history', async () => {
    faults.set('crash', ['crashAfter']);
    const id = app.engine.startNew('life_plain_effect', { input: 'crash' });
    await app.settle();
    expect(app.engine.getStatus(id)!.output).toBe('done crash');
    expect(sideEffects.get('crash')).toBe(2); // at-least-once: the side effect happened twice
    expect(historyTypes(id).filter((type) => type.startsWith('Task'))).toEqual(['TaskScheduled', 'TaskCompleted']);
  });

  it('failAfter runs the activity and reports a failure anyway', async () => {
    faults.set('failAfter', ['failAfter']);
    const id = app.engine.startNew('life_plain_effect', { input: 'failAfter' });
    await app.settle();
    expect(sideEffects.get('failAfter')).toBe(1);
    // As the extension words it: the activity's name in front of the worker's message.
    expect(app.engine.getStatus(id)!.output).toEqual({
      caught: "Activity function 'life_effect' failed: Injected fault after activity 'life_effect' ran",
    });
  });

  it('a delay holds the activity for that long on the engine clock', async () => {
    faults.set('slow', [{ delayMs: 5000 }]);
    const id = app.engine.startNew('life_plain_effect', { input: 'slow' });
    await app.settle();
    expect(sideEffects.get('slow')).toBeUndefined();
    await app.advanceTime(5000);
    expect(app.engine.getStatus(id)!.output).toBe('done slow');
  });
});

describe('recovery from the store', () => {
  it('a new engine over the same store re-runs the activity that was in flight and finishes', async () => {
    const store = new MemoryInstanceStore();
    const clock = new VirtualClock();
    const first = new Engine({ registry: loadRegistry(), clock, store });
    closeGate();
    const id = first.startNew('life_two_steps', { input: 'recovered' });
    await first.waitFor(id, (status) => status.runtimeStatus === 'Running');
    first.stop(); // a crash: the gated activity is still running

    releaseGate();
    await first.idle();
    expect(store.get(id)!.pendingActivities[0]).toMatchObject({ activityName: 'life_gated' });

    const second = new Engine({ registry: loadRegistry(), clock, store });
    second.recover();
    await second.settle();
    expect(second.getStatus(id)!.output).toEqual(['passed recovered', 'done recovered']);
    expect(sideEffects.get('recovered')).toBe(3); // twice through the gate (before and after the crash), once the effect
    second.stop();
  });

  it('a new engine runs the activities a terminated instance had scheduled and not finished, and records nothing', async () => {
    const store = new MemoryInstanceStore();
    const clock = new VirtualClock();
    const first = new Engine({ registry: loadRegistry(), clock, store, maxConcurrentActivities: 1 });
    closeGate();
    const id = first.startNew('life_fan_out', { input: 'crashed' });
    await first.waitFor(id, (status) => status.runtimeStatus === 'Running');
    expect(first.terminate(id, 'stop')).toBe('accepted');
    first.stop(); // a crash: one activity at the gate, two waiting for a slot, none recorded
    const history = store.get(id)!.history.map((event) => EventType[event.EventType]);

    const second = new Engine({ registry: loadRegistry(), clock, store });
    second.recover();
    releaseGate();
    await first.idle();
    await second.settle();
    // At least once: the new engine runs again each one whose result was never recorded (the
    // crashed one's runner ran them too, its results going nowhere).
    expect([1, 2, 3].map((n) => sideEffects.get(`crashed-${n}`))).toEqual([2, 2, 2]);
    expect(second.getStatus(id)!.runtimeStatus).toBe('Terminated');
    expect(store.get(id)!.history.map((event) => EventType[event.EventType])).toEqual(history);
    expect(store.get(id)!.pendingActivities).toEqual({});
    // Done with: a third engine runs none of them again.
    const third = new Engine({ registry: loadRegistry(), clock, store });
    third.recover();
    await third.settle();
    expect([1, 2, 3].map((n) => sideEffects.get(`crashed-${n}`))).toEqual([2, 2, 2]);
    second.stop();
    third.stop();
  });

  it('re-arms a pending retry timer', async () => {
    const store = new MemoryInstanceStore();
    const clock = new VirtualClock();
    const first = new Engine({
      registry: loadRegistry(),
      clock,
      store,
      faults: (call) => faults.get(String(call.input))?.shift(),
    });
    faults.set('timer', ['transient']);
    const retried = first.startNew('life_retried_effect', { input: 'timer' });
    await first.settle();
    expect(Object.keys(store.get(retried)!.pendingTimers)).toHaveLength(1);
    first.stop();

    const second = new Engine({ registry: loadRegistry(), clock, store });
    second.recover();
    await second.settle({ fastForward: true });
    expect(second.getStatus(retried)!.output).toBe('done timer');
    second.stop();
  });
});
