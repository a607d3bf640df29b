/**
 * Where the engine's time comes from. Durable timers, orchestration time (`currentUtcDateTime`)
 * and injected slowness all read this clock, so tests can skip a 24-hour approval window in
 * milliseconds while the offline host runs on wall time.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch, in this clock's time. */
  now(): number;
  /** Runs `callback` once the clock reaches `at` (epoch ms); at once-ish if `at` is past. */
  schedule(at: number, callback: () => void): TimerHandle;
  sleep(ms: number): Promise<void>;
}

/** A clock whose time only moves when told: the engine can fast-forward it to the next due timer. */
export interface ControllableClock extends Clock {
  /** When the earliest scheduled callback is due, if any is. */
  nextDueTime(): number | undefined;
  /** Moves time to `at`, running every callback due by then in due order. */
  advanceTo(at: number): void;
}

export function isControllable(clock: Clock): clock is ControllableClock {
  return typeof (clock as Partial<ControllableClock>).advanceTo === 'function';
}

interface VirtualTimer {
  at: number;
  order: number;
  callback: () => void;
}

export class VirtualClock implements ControllableClock {
  private current: number;
  private timers: VirtualTimer[] = [];
  private scheduled = 0;

  constructor(start: number | Date = Date.now()) {
    this.current = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.current;
  }

  schedule(at: number, callback: () => void): TimerHandle {
    const timer: VirtualTimer = { at, order: this.scheduled++, callback };
    this.timers.push(timer);
    return { cancel: () => void (this.timers = this.timers.filter((candidate) => candidate !== timer)) };
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.schedule(this.current + ms, resolve));
  }

  nextDueTime(): number | undefined {
    return this.nextDue()?.at;
  }

  advance(ms: number): void {
    this.advanceTo(this.current + ms);
  }

  advanceTo(at: number): void {
    for (let due = this.nextDue(); due && due.at <= at; due = this.nextDue()) {
      this.timers = this.timers.filter((candidate) => candidate !== due);
      // Time never runs backwards, even for a callback scheduled in the past.
      this.current = Math.max(this.current, due.at);
      due.callback();
    }
    this.current = Math.max(this.current, at);
  }

  private nextDue(): VirtualTimer | undefined {
    let earliest: VirtualTimer | undefined;
    for (const timer of this.timers) {
      if (!earliest || timer.at < earliest.at || (timer.at === earliest.at && timer.order < earliest.order))
        earliest = timer;
    }
    return earliest;
  }
}

/** setTimeout cannot wait longer than this (about 24.8 days); longer waits are chained. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** A moment when a clock read `clockMs` while the wall clock read `wallMs`. */
export interface ClockAnchor {
  wallMs: number;
  clockMs: number;
}

/**
 * Wall-clock time, optionally sped up (`speed: 60` turns a 24-hour timer into 24 minutes) so a
 * demo can show timeouts without waiting for them. A sped-up clock runs ahead of the wall clock;
 * a host that restarts passes the previous clock's `anchor()` so its time does not jump back.
 */
export class RealClock implements Clock {
  readonly speed: number;
  private readonly start: ClockAnchor;
  private readonly live = new Set<NodeJS.Timeout>();

  constructor(options: { speed?: number; anchor?: ClockAnchor } = {}) {
    this.speed = options.speed && options.speed > 0 ? options.speed : 1;
    const wallMs = Date.now();
    this.start = options.anchor ?? { wallMs, clockMs: wallMs };
  }

  now(): number {
    return this.start.clockMs + (Date.now() - this.start.wallMs) * this.speed;
  }

  /** Where this clock stands now, to continue from after a restart. */
  anchor(): ClockAnchor {
    const wallMs = Date.now();
    return { wallMs, clockMs: this.start.clockMs + (wallMs - this.start.wallMs) * this.speed };
  }

  schedule(at: number, callback: () => void): TimerHandle {
    let handle: NodeJS.Timeout | undefined;
    let cancelled = false;
    const arm = () => {
      const remaining = (at - this.now()) / this.speed;
      // Node may wake a timer a millisecond early; re-arm rather than fire before `at`.
      if (remaining <= 0) return callback();
      handle = setTimeout(
        () => {
          if (handle) this.live.delete(handle);
          if (!cancelled) arm();
        },
        Math.min(Math.ceil(remaining), MAX_TIMEOUT_MS),
      );
      this.live.add(handle);
    };
    // Firing from a fresh task keeps callbacks asynchronous, as on the virtual clock's callers.
    handle = setTimeout(() => {
      if (handle) this.live.delete(handle);
      if (!cancelled) arm();
    }, 0);
    this.live.add(handle);
    return {
      cancel: () => {
        cancelled = true;
        if (handle) {
          clearTimeout(handle);
          this.live.delete(handle);
        }
      },
    };
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.schedule(this.now() + ms, resolve));
  }

  /** Cancels every pending callback, so a stopped host leaves no timers behind. */
  dispose(): void {
    for (const handle of this.live) clearTimeout(handle);
    this.live.clear();
  }
}
