/** The clocks, and the engine on real (sped-up) time as the offline host will run it. */
import { Engine } from '../../local/engine/engine';
import { RealClock, VirtualClock } from '../../local/engine/clock';
import { loadRegistry } from '../../local/engine/registry';
import { DAY_MS } from './fixtures/events';

describe('VirtualClock', () => {
  it('moves only when told, firing due callbacks in time order (then scheduling order)', () => {
    const clock = new VirtualClock(1000);
    const fired: string[] = [];
    clock.schedule(3000, () => fired.push(`c@${clock.now()}`));
    clock.schedule(2000, () => fired.push(`a@${clock.now()}`));
    clock.schedule(2000, () => fired.push(`b@${clock.now()}`));
    const cancelled = clock.schedule(2500, () => fired.push('cancelled'));
    cancelled.cancel();

    expect(clock.nextDueTime()).toBe(2000);
    clock.advance(500);
    expect(fired).toEqual([]);
    clock.advanceTo(5000);
    expect(fired).toEqual(['a@2000', 'b@2000', 'c@3000']);
    expect(clock.now()).toBe(5000);
    expect(clock.nextDueTime()).toBeUndefined();
  });
});

describe('RealClock', () => {
  it('fires after the delay, scaled by its speed, and can be cancelled', () => {
    // Jest's fake timers stand in for the wall clock: 50 s of clock time at ×1000 is 50 ms of it.
    jest.useFakeTimers();
    try {
      const clock = new RealClock({ speed: 1000 });
      const target = clock.now() + 50_000;
      let firedAt: number | undefined;
      clock.schedule(target, () => (firedAt = clock.now()));
      let cancelledFired = false;
      clock.schedule(clock.now() + 10_000, () => (cancelledFired = true)).cancel();
      jest.advanceTimersByTime(49);
      expect(firedAt).toBeUndefined();
      jest.advanceTimersByTime(2);
      expect(firedAt).toBeGreaterThanOrEqual(target);
      expect(cancelledFired).toBe(false);
      clock.dispose();
    } finally {
      jest.useRealTimers();
    }
  });

  it('runs the engine: a 24-hour approval times out after about 86 ms at ×1,000,000', async () => {
    const clock = new RealClock({ speed: 1_000_000 });
    const engine = new Engine({ registry: loadRegistry(), clock });
    const id = engine.startNew('evt_approval');
    const status = await engine.waitFor(id, (current) => current.runtimeStatus === 'Completed', { timeoutMs: 5000 });
    expect(status.output).toEqual({ timedOutAt: expect.any(String) });
    const started = Date.parse(status.createdTime);
    expect(Date.parse((status.output as { timedOutAt: string }).timedOutAt) - started).toBeGreaterThanOrEqual(DAY_MS);
    engine.stop();
    clock.dispose();
  });
});
