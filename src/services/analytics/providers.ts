/** The providers the analytics context works with, as its handlers receive them. */
import type { Providers } from '../../libs/config';
import type { AnalyticsSink } from './sink';
import { simulatedSink } from './simulated-sink';

export interface AnalyticsProviders {
  sink: AnalyticsSink;
}

/** The implementations behind the PROVIDERS setting. */
export const analyticsProviders: Record<Providers, () => AnalyticsProviders> = {
  simulated: () => ({ sink: simulatedSink }),
};
