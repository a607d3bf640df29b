/**
 * Deterministic replay: single episodes run from handmade histories must give exactly the
 * actions the extension expects, and the engine must write exactly such histories.
 */
import { EventType, events, type HistoryEvent } from '../../local/engine/history';
import { startTestApp, type TestApp } from '../../local/engine/testing';
import { flags } from './fixtures/replay';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

const t0 = new Date('2030-01-01T00:00:00.000Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

/** The history an engine run writes, episode by episode: each list is what one episode appends. */
function episodes(): HistoryEvent[][] {
  const started = (s: number, ...rest: HistoryEvent[]) => [events.orchestratorStarted(at(s)), ...rest];
  const done = (s: number) => events.orchestratorCompleted(at(s));
  return [
    [
      ...started(
        0,
        events.executionStarted(at(0), 'replay_all_kinds', '"x"'),
        events.taskScheduled(at(0), 0, 'replay_a', '"x"'),
      ),
      done(0),
    ],
    [
      ...started(
        1,
        events.taskCompleted(at(1), 0, '"X"'),
        events.taskScheduled(at(1), 1, 'replay_b', '"X"'),
        events.taskScheduled(at(1), 2, 'replay_c', '"X"'),
      ),
      done(1),
    ],
    [...started(2, events.taskCompleted(at(2), 1, '"b(X)"')), done(2)],
    [
      ...started(
        3,
        events.taskFailed(at(3), 2, { reason: 'c is down for X', details: 'stack' }),
        events.timerCreated(at(3), 3, at(4).toISOString()),
      ),
      done(3),
    ],
    [
      ...started(
        4,
        events.timerFired(at(4), 3, at(4).toISOString()),
        events.taskScheduled(at(4), 4, 'replay_c', '"X"'),
      ),
      done(4),
    ],
    [
      ...started(5, events.taskCompleted(at(5), 4, '"c(X)"'), events.timerCreated(at(5), 5, at(65).toISOString())),
      done(5),
    ],
    [...started(6, events.eventRaised(at(6), 'Decision', '{"approved":true}')), done(6)],
  ];
}

/** Runs the episode that delivers episode `n`'s new event, over the history of the episodes before it. */
async function replayEpisode(n: number) {
  const all = episodes();
  const history = [...all.slice(0, n).flat(), ...all[n].slice(0, 2)];
  return app.replay('replay_all_kinds', history, { input: 'x' });
}

const callA = { actionType: 0, functionName: 'replay_a', input: '"x"' };
const callB = { actionType: 0, functionName: 'replay_b', input: '"X"' };
const callC = {
  actionType: 1,
  functionName: 'replay_c',
  input: '"X"',
  retryOptions: { firstRetryIntervalInMilliseconds: 1000, maxNumberOfAttempts: 2 },
};
const whenAll = { actionType: 12, compoundActions: [callB, callC] };
const whenAny = (isCanceled: boolean) => ({
  actionType: 11,
  compoundActions: [
    { actionType: 6, externalEventName: 'Decision', reason: 'ExternalEvent' },
    { actionType: 5, fireAt: at(65).toISOString(), isCanceled },
  ],
});

describe('one episode from a handmade history', () => {
  it('gives exactly the actions scheduled so far, episode by episode', async () => {
    const expected = [
      [callA],
      [callA, whenAll],
      [callA, whenAll],
      [callA, whenAll], // the failure only takes a retry timer id: no new action
      [callA, whenAll], // the retry is rescheduled by the host: no new action either
      [callA, whenAll, whenAny(false)],
    ];
    for (const [n, actions] of expected.entries()) {
      const { outcome, actions: sent } = await replayEpisode(n);
      expect(outcome.ok && outcome.state.isDone).toBe(false);
      expect({ episode: n, actions: sent }).toEqual({ episode: n, actions: [actions] });
    }
  });

  it('completes on the event, cancelling the timer it raced', async () => {
    const { outcome, actions } = await replayEpisode(6);
    expect(outcome.ok && outcome.state).toMatchObject({
      isDone: true,
      output: { a: 'X', b: 'b(X)', c: 'c(X)', decision: { approved: true } },
      schemaVersion: 3,
    });
    expect(actions).toEqual([[callA, whenAll, whenAny(true)]]);
  });

  it('is what the engine writes: same events, ids and payloads (concurrent results may land in either order, in one episode or two)', async () => {
    const id = app.engine.startNew('replay_all_kinds', { input: 'x' });
    await app.advanceTime(1000); // the retry timer
    app.engine.raiseEvent(id, 'Decision', { approved: true });
    await app.settle();
    // The engine runs b and c at once, so their results may land in either order.
    const shape = (history: HistoryEvent[]) =>
      history.map(({ EventType: type, EventId, Name, Input, Result, TaskScheduledId, TimerId }) => ({
        type: EventType[type],
        EventId,
        Name,
        Input,
        Result,
        TaskScheduledId,
        TimerId,
      }));
    const written = shape(app.status(id)!.history!);
    const all = episodes();
    const expected = shape([
      ...all.slice(0, -1).flat(),
      ...all.at(-1)!.slice(0, 2),
      events.executionCompleted(t0, 'Completed', undefined),
      all.at(-1)!.at(-1)!,
    ]);
    // ExecutionCompleted's result is checked through the status output instead.
    written.find((event) => event.type === 'ExecutionCompleted')!.Result = undefined;
    // b and c may also land in one episode (a batch), so the episode boundaries are left out here.
    const bookkeeping = new Set(['OrchestratorStarted', 'OrchestratorCompleted']);
    const sort = (list: typeof written) =>
      list
        .filter((event) => !bookkeeping.has(event.type))
        .sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
    expect(sort(written)).toEqual(sort(expected));
    expect(
      written
        .filter((event) => event.type === 'TaskScheduled' || event.type === 'TimerCreated')
        .map((event) => event.EventId),
    ).toEqual([0, 1, 2, 3, 4, 5]);
    expect(app.engine.getStatus(id)!.output).toEqual({ a: 'X', b: 'b(X)', c: 'c(X)', decision: { approved: true } });
  });
});

describe('a non-deterministic orchestrator', () => {
  it('fails with a message naming the action that changed', async () => {
    flags.takeOtherPath = false;
    const id = app.engine.startNew('replay_unstable');
    await app.settle();
    flags.takeOtherPath = true; // the code "changed" under the running instance
    app.engine.raiseEvent(id, 'Continue');
    await app.settle();
    const status = app.engine.getStatus(id)!;
    expect(status.runtimeStatus).toBe('Failed');
    expect(status.output).toMatch(
      /Non-deterministic orchestrator: its action #1 was CallActivity\(replay_step\) and on replay is CallActivity\(replay_other_step\)/,
    );
  });
});
