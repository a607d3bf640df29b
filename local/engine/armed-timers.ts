/**
 * The clock callbacks behind durable timers, by instance. Only the persisted PendingTimer
 * survives a restart; these handles are rebuilt by Engine.recover().
 */
import type { Clock, TimerHandle } from './clock';

export class ArmedTimers {
  private readonly byInstance = new Map<string, Map<number, TimerHandle>>();

  constructor(private readonly clock: Clock) {}

  arm(instanceId: string, timerId: number, at: number, onFire: () => void): void {
    const timers = this.byInstance.get(instanceId) ?? new Map<number, TimerHandle>();
    this.byInstance.set(instanceId, timers);
    timers.get(timerId)?.cancel();
    timers.set(
      timerId,
      this.clock.schedule(at, () => {
        timers.delete(timerId);
        onFire();
      }),
    );
  }

  /** Cancels one timer of the instance, or all of them. */
  disarm(instanceId: string, timerId?: number): void {
    const timers = this.byInstance.get(instanceId);
    if (!timers) return;
    for (const [id, handle] of timers) {
      if (timerId !== undefined && id !== timerId) continue;
      handle.cancel();
      timers.delete(id);
    }
    if (timers.size === 0) this.byInstance.delete(instanceId);
  }

  disarmAll(): void {
    for (const instanceId of [...this.byInstance.keys()]) this.disarm(instanceId);
  }
}
