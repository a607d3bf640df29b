/**
 * Waiting for the engine to have nothing left to do, and moving a virtual clock so that it
 * reacts to each timer in turn (a retry timer schedules an attempt whose failure arms the next
 * timer: jumping straight to the end would skip that work).
 */
import { isControllable, type Clock, type ControllableClock } from './clock';
import type { WorkTracker } from './work-tracker';

export async function waitUntilIdle(work: WorkTracker, clock: Clock): Promise<void> {
  for (;;) {
    await work.whenIdle();
    // Let completions already on their way (promise callbacks, I/O) land first.
    await new Promise((resolve) => setImmediate(resolve));
    if (work.busy) continue;
    // Timers already due are runnable work, not something to wait for.
    const due = isControllable(clock) ? clock.nextDueTime() : undefined;
    if (isControllable(clock) && due !== undefined && due <= clock.now()) {
      clock.advanceTo(clock.now());
      continue;
    }
    return;
  }
}

export async function advanceTime(work: WorkTracker, clock: Clock, ms: number): Promise<void> {
  const controllable = requireControllable(clock);
  const target = controllable.now() + ms;
  await waitUntilIdle(work, clock);
  for (let due = controllable.nextDueTime(); due !== undefined && due <= target; due = controllable.nextDueTime()) {
    controllable.advanceTo(due);
    await waitUntilIdle(work, clock);
  }
  controllable.advanceTo(target);
  await waitUntilIdle(work, clock);
}

export async function settle(
  work: WorkTracker,
  clock: Clock,
  options: { fastForward?: boolean; maxSteps?: number },
): Promise<void> {
  await waitUntilIdle(work, clock);
  if (!options.fastForward) return;
  const controllable = requireControllable(clock);
  for (let step = 0; step < (options.maxSteps ?? 10_000); step++) {
    const due = controllable.nextDueTime();
    if (due === undefined) return;
    controllable.advanceTo(due);
    await waitUntilIdle(work, clock);
  }
  throw new Error('settle: timers kept coming due; is an orchestration looping on timers?');
}

function requireControllable(clock: Clock): ControllableClock {
  if (!isControllable(clock)) throw new Error('Only a virtual clock can be moved; this engine runs on real time');
  return clock;
}
