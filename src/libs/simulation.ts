/**
 * Latency of the simulated providers (payment gateway, carrier, mailer, analytics sink).
 * Zero unless configured, so tests run fast; the benchmark sets realistic values, e.g.
 * SIMULATED_LATENCY_MS="gateway=120,carrier=200,mailer=80,analytics=30,cosmos=0".
 */
export type SimulatedProvider = 'gateway' | 'carrier' | 'mailer' | 'analytics';

let parsedFrom: string | undefined;
let latencies: Partial<Record<string, number>> = {};

function latencyOf(provider: SimulatedProvider): number {
  const raw = process.env.SIMULATED_LATENCY_MS ?? '';
  if (raw !== parsedFrom) {
    parsedFrom = raw;
    latencies = Object.fromEntries(
      raw
        .split(',')
        .map((pair) => pair.split('=').map((part) => part.trim()))
        .filter(([name, ms]) => name && Number.isFinite(Number(ms)))
        .map(([name, ms]) => [name, Number(ms)]),
    );
  }
  return latencies[provider] ?? 0;
}

export async function simulatedLatency(provider: SimulatedProvider): Promise<void> {
  const ms = latencyOf(provider);
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
}
