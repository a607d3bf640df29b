/**
 * Reading the SDK's action list. Every episode returns all actions since the orchestration
 * began, in scheduling order, with Task.all/any nested; flattening them depth-first gives the
 * order in which the SDK handed out task ids (TaskOrchestrationExecutor.trackOpenTask).
 */

/** actions/ActionType.js */
export enum ActionType {
  CallActivity = 0,
  CallActivityWithRetry = 1,
  CallSubOrchestrator = 2,
  CallSubOrchestratorWithRetry = 3,
  ContinueAsNew = 4,
  CreateTimer = 5,
  WaitForExternalEvent = 6,
  CallEntity = 7,
  CallHttp = 8,
  SignalEntity = 9,
  WhenAny = 11,
  WhenAll = 12,
  LockEntities = 13,
  ReleaseEntities = 14,
}

export interface SdkAction {
  actionType: ActionType;
  functionName?: string;
  input?: unknown;
  retryOptions?: Record<string, unknown>;
  fireAt?: Date | string;
  isCanceled?: boolean;
  externalEventName?: string;
  compoundActions?: SdkAction[];
}

/**
 * Depth-first list of the atomic actions. An action object seen twice (a task yielded on its own
 * and later again inside Task.all) was scheduled once, so it is listed once.
 */
export function flattenActions(groups: unknown[][]): SdkAction[] {
  const seen = new Set<object>();
  const flat: SdkAction[] = [];
  const visit = (action: SdkAction) => {
    if (seen.has(action)) return;
    seen.add(action);
    if (action.actionType === ActionType.WhenAll || action.actionType === ActionType.WhenAny) {
      for (const child of action.compoundActions ?? []) visit(child);
    } else {
      flat.push(action);
    }
  };
  for (const group of groups) for (const action of group) visit(action as SdkAction);
  return flat;
}

/** Whether the SDK gave this action a task id (waits for external events are keyed by name). */
export function takesTaskId(action: SdkAction): boolean {
  return action.actionType !== ActionType.WaitForExternalEvent;
}

/**
 * The activity input the user passed. The SDK pre-serializes string inputs (Utils.processInput)
 * and leaves everything else as is.
 */
export function activityInputOf(action: SdkAction): unknown {
  return typeof action.input === 'string' ? JSON.parse(action.input) : action.input;
}

const SUPPORTED = new Set([
  ActionType.CallActivity,
  ActionType.CallActivityWithRetry,
  ActionType.CreateTimer,
  ActionType.WaitForExternalEvent,
]);

export function unsupportedAction(action: SdkAction): string | undefined {
  return SUPPORTED.has(action.actionType)
    ? undefined
    : (ActionType[action.actionType] ?? `action type ${String(action.actionType)}`);
}
