/**
 * Latency of the simulated providers (payment gateway, carrier, mailer, analytics sink).
 * Zero unless configured, so tests run fast; the benchmark sets realistic values, e.g.
 * SIMULATED_LATENCY_MS="gateway=120,carrier=200,mailer=80,analytics=30,cosmos=0".
 */
import { config } from './config';

export type SimulatedProvider = 'gateway' | 'carrier' | 'mailer' | 'analytics';

export async function simulatedLatency(provider: SimulatedProvider): Promise<void> {
  const ms = config.simulatedLatencyMs(provider);
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
}
