/**
 * The instance status object of the Durable HTTP API: name, instanceId, runtimeStatus, input,
 * customStatus, output, createdTime, lastUpdatedTime and, when asked, historyEvents in the
 * documented shape (event type names, orchestrator bookkeeping events left out, the function
 * name carried onto results).
 */
import type { InstanceStatus } from './engine';
import { EventType, fromJsonText, type HistoryEvent } from './history';

export interface StatusQuery {
  showHistory: boolean;
  showHistoryOutput: boolean;
  showInput: boolean;
}

export function statusPayload(status: InstanceStatus, query: StatusQuery): Record<string, unknown> {
  const payload: Record<string, unknown> = {
    name: status.name,
    instanceId: status.instanceId,
    runtimeStatus: status.runtimeStatus,
    // The SDK's DurableOrchestrationStatus requires `input` and `output` to be present.
    input: query.showInput ? status.input : null,
    customStatus: status.customStatus,
    output: status.output,
    createdTime: wholeSeconds(status.createdTime),
    lastUpdatedTime: wholeSeconds(status.lastUpdatedTime),
  };
  if (query.showHistory && status.history)
    payload.historyEvents = historyEvents(status.history, query.showHistoryOutput);
  return payload;
}

/** HttpApiHandler.ConvertFrom writes times as `ToString("s") + "Z"`: whole seconds, UTC. */
export function wholeSeconds(iso: string): string {
  return `${new Date(iso).toISOString().slice(0, 19)}Z`;
}

const HIDDEN = new Set([EventType.OrchestratorStarted, EventType.OrchestratorCompleted, EventType.TaskScheduled]);

export function historyEvents(history: HistoryEvent[], showOutput: boolean): Record<string, unknown>[] {
  const scheduled = new Map(
    history.filter((event) => event.EventType === EventType.TaskScheduled).map((event) => [event.EventId, event]),
  );
  return history
    .filter((event) => !HIDDEN.has(event.EventType))
    .map((event) => {
      const shown: Record<string, unknown> = {
        EventType: EventType[event.EventType],
        EventId: event.EventId,
        Timestamp: event.Timestamp,
      };
      const output = (text: string | undefined) => (showOutput ? safeJson(text) : undefined);
      switch (event.EventType) {
        case EventType.ExecutionStarted:
          return { ...shown, FunctionName: event.Name, ...(showOutput ? { Input: safeJson(event.Input) } : {}) };
        case EventType.TaskCompleted:
        case EventType.TaskFailed: {
          const origin = scheduled.get(event.TaskScheduledId ?? -1);
          const common = {
            ...shown,
            FunctionName: origin?.Name,
            ScheduledTime: origin?.Timestamp,
            TaskScheduledId: event.TaskScheduledId,
          };
          if (event.EventType === EventType.TaskFailed)
            return { ...common, Reason: event.Reason, Details: event.Details };
          return showOutput ? { ...common, Result: output(event.Result) } : common;
        }
        case EventType.TimerCreated:
          return { ...shown, FireAt: event.FireAt };
        case EventType.TimerFired:
          return { ...shown, TimerId: event.TimerId, FireAt: event.FireAt };
        case EventType.EventRaised:
          return { ...shown, Name: event.Name, ...(showOutput ? { Input: output(event.Input) } : {}) };
        case EventType.ExecutionCompleted:
          return {
            ...shown,
            OrchestrationStatus: event.OrchestrationStatus,
            ...(showOutput ? { Result: output(event.Result) } : {}),
          };
        case EventType.ExecutionTerminated:
          return { ...shown, Reason: event.Input };
        default:
          return shown;
      }
    });
}

function safeJson(text: string | undefined): unknown {
  try {
    return fromJsonText(text) ?? null;
  } catch {
    return text;
  }
}
