/**
 * Where the engine follows the Durable extension (3.x with DurableTask.Core and the Azure
 * Storage provider) on points a test of our own would not catch: long timers, batches of
 * events per episode, failure text, the client binding.
 */
import { taskFailureOf } from '../../local/engine/activities';
import { nextBatch } from '../../local/engine/apply-episode';
import { durableClientData } from '../../local/engine/client-binding';
import { retryDelayMs } from '../../local/engine/retries';
import { EventType, events, type HistoryEvent } from '../../local/engine/history';
import type { InstanceRecord } from '../../local/engine/store';
import { startTestApp, type TestApp } from '../../local/engine/testing';
import { DAY_MS } from './fixtures/agreement';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

const created = (history: HistoryEvent[]) => history.filter((event) => event.EventType === EventType.TimerCreated);

describe('a timer longer than 6 days (maximumShortTimerDuration)', () => {
  it('runs as a chain of timers of at most 3 days and fires at the time asked', async () => {
    const t0 = app.clock.now();
    const id = app.engine.startNew('agree_long_approval');
    await app.settle();
    // One CreateTimer action for 7 days; the host's first timer is 3 days out.
    expect(created(app.status(id)!.history!).map((event) => [event.EventId, Date.parse(event.FireAt!) - t0])).toEqual([
      [0, 3 * DAY_MS],
    ]);

    await app.advanceTime(3 * DAY_MS);
    await app.advanceTime(3 * DAY_MS);
    // Six days in: still waiting, on the chain's third timer (the SDK took ids 1 and 2 for them).
    expect(app.engine.getStatus(id)!.runtimeStatus).toBe('Running');
    expect(created(app.status(id)!.history!).map((event) => [event.EventId, Date.parse(event.FireAt!) - t0])).toEqual([
      [0, 3 * DAY_MS],
      [1, 6 * DAY_MS],
      [2, 7 * DAY_MS],
    ]);

    await app.advanceTime(DAY_MS - 1);
    expect(app.engine.getStatus(id)!.runtimeStatus).toBe('Running');
    await app.advanceTime(1);
    expect(app.engine.getStatus(id)).toMatchObject({
      runtimeStatus: 'Completed',
      output: { timedOutAt: new Date(t0 + 7 * DAY_MS).toISOString() },
    });
  });

  it('stops the chain when the event wins and the orchestrator cancels the timer', async () => {
    const id = app.engine.startNew('agree_long_approval');
    await app.settle();
    await app.advanceTime(4 * DAY_MS);
    app.engine.raiseEvent(id, 'Approval', { approved: true });
    await app.settle();
    expect(app.engine.getStatus(id)).toMatchObject({
      runtimeStatus: 'Completed',
      output: { decision: { approved: true } },
    });
    await app.settle({ fastForward: true });
    expect(created(app.status(id)!.history!)).toHaveLength(2);
  });
});

describe('episodes', () => {
  it('deliver every result waiting: the three results of a Task.all reach one episode', async () => {
    const id = app.engine.startNew('agree_fan_out');
    await app.settle();
    const status = app.status(id)!;
    expect(status.output).toEqual({ results: ['echo a', 'echo b', 'echo c'], after: 'echo after' });
    const episodes: string[][] = [];
    for (const event of status.history!) {
      if (event.EventType === EventType.OrchestratorStarted) episodes.push([]);
      else if (event.EventType !== EventType.OrchestratorCompleted)
        episodes
          .at(-1)!
          .push(
            `${EventType[event.EventType]}${event.EventId >= 0 ? `#${event.EventId}` : event.TaskScheduledId !== undefined ? `#${event.TaskScheduledId}` : ''}`,
          );
    }
    expect(episodes).toEqual([
      ['ExecutionStarted', 'TaskScheduled#0', 'TaskScheduled#1', 'TaskScheduled#2'],
      ['TaskCompleted#0', 'TaskCompleted#1', 'TaskCompleted#2', 'TaskScheduled#3'],
      ['TaskCompleted#3', 'ExecutionCompleted'],
    ]);
  });

  it('are cut before an event on which the SDK takes a task id, unless it comes first', () => {
    const at = new Date(0);
    const record = {
      inbox: [] as HistoryEvent[],
      retryChains: {
        0: {
          activityName: 'x',
          inputJson: undefined,
          policy: { firstRetryIntervalInMilliseconds: 1000, maxNumberOfAttempts: 3 },
          failures: 0,
          waitingOn: { kind: 'attempt', id: 0 },
        },
      },
      timerChains: { 5: { finalFireAt: new Date(7 * DAY_MS).toISOString(), actionIndex: 2 } },
    } as unknown as InstanceRecord;
    const failedAttempt = events.taskFailed(at, 0, { reason: 'r', details: 'd' });
    const plain = events.taskCompleted(at, 1, '1');
    const event = events.eventRaised(at, 'E', undefined);
    const longTimerStep = events.timerFired(at, 5, at.toISOString());

    record.inbox = [failedAttempt, plain, event];
    expect(nextBatch(record)).toEqual([failedAttempt, plain, event]);
    record.inbox = [plain, failedAttempt, event];
    expect(nextBatch(record)).toEqual([plain]);
    record.inbox = [event, longTimerStep];
    expect(nextBatch(record)).toEqual([event]);
  });
});

describe('activity failures', () => {
  it('reach the orchestrator worded as the extension words them; failureText reads the message back', async () => {
    const id = app.engine.startNew('agree_catch');
    await app.settle();
    const output = app.engine.getStatus(id)!.output as { message: string; clean: string };
    // `${Reason} \n ${Details}`: Reason carries the worker's message (RemoteMessage), Details a serialized exception.
    expect(
      output.message.startsWith(
        "Activity function 'agree_fail' failed: payment went wrong\nsecond line of the message \n {",
      ),
    ).toBe(true);
    expect(output.clean).toBe('payment went wrong');
    const failed = app.status(id)!.history!.find((event) => event.EventType === EventType.TaskFailed)!;
    expect(JSON.parse(failed.Details!)).toMatchObject({
      ClassName: 'System.Exception',
      Message: 'payment went wrong\nsecond line of the message',
    });
  });

  it('name a missing activity as TaskNonexistentActivityShim does', async () => {
    const { ActivityRunner } = await import('../../local/engine/activities');
    const runner = new ActivityRunner(app.registry, app.clock, { begin: () => () => undefined } as never);
    const outcome = await runner.run({
      instanceId: 'i',
      activityName: 'agree_missing',
      input: null,
      taskId: 0,
      attempt: 1,
      delivery: 1,
    });
    expect(outcome).toMatchObject({
      kind: 'failed',
      failure: {
        reason: "Activity function 'agree_missing' failed: Activity function 'agree_missing' does not exist.",
      },
    });
  });
});

describe('structured activity failures (an ExceptionPropertiesProvider)', () => {
  const json = JSON.stringify({
    errorType: 'GatewayError',
    errorMessage: 'gateway down',
    isNonRetriable: false,
    properties: { code: 503 },
    stackTrace: 'GatewayError: gateway down\n    at charge',
  });

  it('become a TaskFailed with FailureDetails and the generic Reason, as ActivityMiddleware records them', () => {
    const expected = {
      reason: "Activity function 'pay' failed with an unhandled exception.",
      failureDetails: {
        ErrorType: 'GatewayError',
        ErrorMessage: 'gateway down',
        IsNonRetriable: false,
        Properties: { code: 503 },
      },
    };
    expect(taskFailureOf('pay', new Error(json))).toMatchObject(expected);
    expect(taskFailureOf('pay', new Error(`ActivityMiddleware.StructuredActivityFailure: ${json}`))).toMatchObject(
      expected,
    );
    expect(taskFailureOf('pay', new Error(json)).details).toBeUndefined();
  });

  it('reach the orchestrator as a TaskFailedError, which failureText reads', async () => {
    const at = new Date(0);
    const failed = events.taskFailed(at, 0, taskFailureOf('agree_fail', new Error(json)));
    const history = [
      events.orchestratorStarted(at),
      events.executionStarted(at, 'agree_catch', undefined),
      events.taskScheduled(at, 0, 'agree_fail', '"payment"'),
      events.orchestratorCompleted(at),
      events.orchestratorStarted(at),
      failed,
    ];
    const { outcome } = await app.replay('agree_catch', history);
    expect(outcome.ok && outcome.state.output).toEqual({
      message: 'GatewayError: gateway down',
      clean: 'gateway down',
    });
  });
});

describe('retry backoff', () => {
  it('is capped at 6 days when the policy sets no maximum (the default MaxRetryInterval of the extension)', () => {
    const policy = { firstRetryIntervalInMilliseconds: DAY_MS, maxNumberOfAttempts: 10, backoffCoefficient: 2 };
    expect([1, 2, 3, 4].map((failures) => retryDelayMs(policy, failures) / DAY_MS)).toEqual([1, 2, 4, 6]);
    expect(retryDelayMs({ ...policy, maxRetryIntervalInMilliseconds: 3 * DAY_MS }, 4) / DAY_MS).toBe(3);
  });
});

describe('the durableClient binding', () => {
  it('is the legacy out-of-proc payload: no required query string locally, no connection name, rpcBaseUrl set', () => {
    const data = durableClientData('http://127.0.0.1:7071', 'Hub');
    expect(data).toMatchObject({
      taskHubName: 'Hub',
      connectionName: null,
      requiredQueryStringParameters: '',
      baseUrl: 'http://127.0.0.1:7071/runtime/webhooks/durabletask',
      rpcBaseUrl: 'http://127.0.0.1:7071/durabletask/',
      creationUrls: {
        createNewInstancePostUri:
          'http://127.0.0.1:7071/runtime/webhooks/durabletask/orchestrators/{functionName}[/{instanceId}]?',
        createAndWaitOnNewInstancePostUri:
          'http://127.0.0.1:7071/runtime/webhooks/durabletask/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&',
      },
    });
    expect(data.managementUrls.statusQueryGetUri).toBe(
      'http://127.0.0.1:7071/runtime/webhooks/durabletask/instances/INSTANCEID?taskHub=Hub&connection=Storage',
    );
  });
});
