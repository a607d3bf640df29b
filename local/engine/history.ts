/**
 * The Durable Task history protocol as the durable-functions SDK reads it
 * (node_modules/durable-functions/lib/src/history). Events stay plain JSON so an instance's
 * record can be written to disk as is.
 */
export enum EventType {
  ExecutionStarted = 0,
  ExecutionCompleted = 1,
  ExecutionTerminated = 3,
  TaskScheduled = 4,
  TaskCompleted = 5,
  TaskFailed = 6,
  TimerCreated = 10,
  TimerFired = 11,
  OrchestratorStarted = 12,
  OrchestratorCompleted = 13,
  EventRaised = 15,
}

/** The failure shape the SDK turns into a `TaskFailedError` (error/TaskFailedError.js). */
export interface FailureDetails {
  ErrorType: string;
  ErrorMessage: string;
  StackTrace?: string;
  IsNonRetriable?: boolean;
  Properties?: Record<string, unknown>;
}

export interface HistoryEvent {
  EventType: EventType;
  /** The task id for TaskScheduled / TimerCreated; -1 for every other event. */
  EventId: number;
  IsPlayed: boolean;
  Timestamp: string;
  Name?: string;
  /** JSON text (ExecutionStarted, TaskScheduled, EventRaised) or the termination reason. */
  Input?: string;
  /** JSON text (TaskCompleted, ExecutionCompleted). */
  Result?: string;
  TaskScheduledId?: number;
  Reason?: string;
  Details?: string;
  FailureDetails?: FailureDetails;
  FireAt?: string;
  TimerId?: number;
  OrchestrationStatus?: string;
}

const NO_ID = -1;

function event(type: EventType, at: Date, fields: Partial<HistoryEvent> = {}): HistoryEvent {
  return { EventType: type, EventId: NO_ID, IsPlayed: false, Timestamp: at.toISOString(), ...fields };
}

export const events = {
  orchestratorStarted: (at: Date) => event(EventType.OrchestratorStarted, at),
  orchestratorCompleted: (at: Date) => event(EventType.OrchestratorCompleted, at),
  executionStarted: (at: Date, name: string, input: string | undefined) =>
    event(EventType.ExecutionStarted, at, { Name: name, Input: input }),
  executionCompleted: (
    at: Date,
    status: 'Completed' | 'Failed',
    result: string | undefined,
    failure?: FailureDetails,
  ) =>
    event(EventType.ExecutionCompleted, at, {
      OrchestrationStatus: status,
      Result: result,
      ...(failure ? { FailureDetails: failure } : {}),
    }),
  executionTerminated: (at: Date, reason: string) => event(EventType.ExecutionTerminated, at, { Input: reason }),
  taskScheduled: (at: Date, id: number, name: string, input: string | undefined) =>
    event(EventType.TaskScheduled, at, { EventId: id, Name: name, Input: input }),
  taskCompleted: (at: Date, id: number, result: string) =>
    event(EventType.TaskCompleted, at, { TaskScheduledId: id, Result: result }),
  taskFailed: (at: Date, id: number, failure: { reason: string; details?: string; failureDetails?: FailureDetails }) =>
    event(EventType.TaskFailed, at, {
      TaskScheduledId: id,
      Reason: failure.reason,
      ...(failure.details !== undefined ? { Details: failure.details } : {}),
      ...(failure.failureDetails ? { FailureDetails: failure.failureDetails } : {}),
    }),
  timerCreated: (at: Date, id: number, fireAt: string) =>
    event(EventType.TimerCreated, at, { EventId: id, FireAt: fireAt }),
  timerFired: (at: Date, id: number, fireAt: string) =>
    event(EventType.TimerFired, at, { TimerId: id, FireAt: fireAt }),
  eventRaised: (at: Date, name: string, input: string | undefined) =>
    event(EventType.EventRaised, at, { Name: name, Input: input }),
};

/**
 * The JSON text of events serialized before. An event never changes once created (histories and
 * inboxes only ever gain events), and the engine keeps running instances' records parsed, so the
 * same event objects are written with every change of their record and copied for every episode:
 * each is serialized once.
 */
const eventTexts = new WeakMap<HistoryEvent, string>();

export function eventJson(event: HistoryEvent): string {
  let text = eventTexts.get(event);
  if (text === undefined) {
    text = JSON.stringify(event);
    eventTexts.set(event, text);
  }
  return text;
}

/** `JSON.stringify(history)`, each event's text serialized once (see eventJson). */
export function historyJson(history: readonly HistoryEvent[]): string {
  return `[${history.map(eventJson).join(',')}]`;
}

/** `JSON.stringify` that never yields undefined: the SDK `JSON.parse`s results unconditionally. */
export function toJsonText(value: unknown): string {
  return JSON.stringify(value) ?? 'null';
}

/** Parses JSON text from the wire or the store; absent text is an absent value. */
export function fromJsonText(text: string | undefined): unknown {
  return text === undefined || text === '' ? undefined : JSON.parse(text);
}
