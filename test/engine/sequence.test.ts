/** A plain sequence of activities: the exact history, the output, custom status, a failing orchestrator. */
import { EventType, type HistoryEvent } from '../../local/engine/history';
import { startTestApp, type TestApp } from '../../local/engine/testing';
import { received } from './fixtures/sequence';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

/** `TaskScheduled#0` style labels keep a whole history readable in one assertion. */
function labels(history: HistoryEvent[]): string[] {
  return history.map((event) => {
    const id =
      event.EventType === EventType.TaskScheduled || event.EventType === EventType.TimerCreated
        ? `#${event.EventId}`
        : event.TaskScheduledId !== undefined
          ? `#${event.TaskScheduledId}`
          : '';
    return `${EventType[event.EventType]}${id}`;
  });
}

describe('a sequence of activities', () => {
  it('runs each activity once, in order, and completes with the output', async () => {
    received.length = 0;
    const id = app.engine.startNew('seq_hello', { input: ['Tokyo', 'Seattle'] });
    await app.settle();

    const status = app.status(id)!;
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toEqual({ greetings: ['Hello Tokyo!', 'Hello Seattle!'], total: 6, nothing: 'absent' });
    expect(status.customStatus).toEqual({ greeted: 2 });
    expect(received).toEqual(['Tokyo', 'Seattle', { values: [1, 2, 3] }]);
    expect(labels(status.history!)).toEqual([
      'OrchestratorStarted',
      'ExecutionStarted',
      'TaskScheduled#0',
      'OrchestratorCompleted',
      'OrchestratorStarted',
      'TaskCompleted#0',
      'TaskScheduled#1',
      'OrchestratorCompleted',
      'OrchestratorStarted',
      'TaskCompleted#1',
      'TaskScheduled#2',
      'OrchestratorCompleted',
      'OrchestratorStarted',
      'TaskCompleted#2',
      'TaskScheduled#3',
      'OrchestratorCompleted',
      'OrchestratorStarted',
      'TaskCompleted#3',
      'ExecutionCompleted',
      'OrchestratorCompleted',
    ]);
  });

  it('stores inputs and results as JSON text, as the extension does', async () => {
    const id = app.engine.startNew('seq_hello', { input: ['Oslo'] });
    await app.settle();
    const history = app.status(id)!.history!;
    expect(history.find((event) => event.EventType === EventType.ExecutionStarted)).toMatchObject({
      Name: 'seq_hello',
      Input: '["Oslo"]',
    });
    expect(history.find((event) => event.EventType === EventType.TaskScheduled)).toMatchObject({
      Name: 'seq_greet',
      Input: '"Oslo"',
    });
    expect(history.find((event) => event.EventType === EventType.TaskCompleted)).toMatchObject({
      Result: '"Hello Oslo!"',
    });
    expect(history.find((event) => event.EventType === EventType.ExecutionCompleted)).toMatchObject({
      OrchestrationStatus: 'Completed',
    });
  });

  it('is Pending until its first episode, then Running', async () => {
    const id = app.engine.startNew('seq_hello', { input: ['Lima'] });
    expect(app.engine.getStatus(id)!.runtimeStatus).toBe('Pending');
    await app.waitFor(id, (status) => status.runtimeStatus !== 'Pending');
    await app.settle();
    expect(app.engine.getStatus(id)!.runtimeStatus).toBe('Completed');
  });

  it('marks the instance Failed with the error, keeping the custom status it had', async () => {
    const id = app.engine.startNew('seq_throws');
    await app.settle();
    const status = app.status(id)!;
    expect(status.runtimeStatus).toBe('Failed');
    expect(status.output).toBe("Orchestrator function 'seq_throws' failed: orchestrator gave up");
    expect(status.customStatus).toBe('about to fail');
    expect(status.history!.at(-2)).toMatchObject({
      EventType: EventType.ExecutionCompleted,
      OrchestrationStatus: 'Failed',
      FailureDetails: { ErrorMessage: 'orchestrator gave up' },
    });
  });

  it('refuses a malformed instance id', () => {
    expect(() => app.engine.startNew('seq_hello', { instanceId: 'a/b' })).toThrow(/Invalid instance id/);
    expect(() => app.engine.startNew('seq_hello', { instanceId: '@entity' })).toThrow(/Invalid instance id/);
  });

  it('starts an unknown orchestrator and fails it, as the extension does (GetInvalidOrchestratorFunctionMessage)', async () => {
    const id = app.engine.startNew('no_such_orchestrator');
    await app.settle();
    expect(app.engine.getStatus(id)).toMatchObject({
      runtimeStatus: 'Failed',
      output: expect.stringMatching(
        /^Orchestrator function 'no_such_orchestrator' failed: The function 'no_such_orchestrator' doesn't exist, is disabled, or is not an orchestrator function\. Additional info: The following are the known orchestrator functions: '.*seq_hello.*'\.$/,
      ),
    });
  });
});
