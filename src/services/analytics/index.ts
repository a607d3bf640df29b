/**
 * The analytics context: importing it registers its activities, each given the providers the
 * PROVIDERS setting chooses (an unknown value fails here, at the app's start).
 */
import { registerActivity } from '../../libs/activity';
import { config } from '../../libs/config';
import { AnalyticsContract } from './contract';
import { analyticsProviders } from './providers';
import { recordOrderFact } from './record-order-fact';
import { retractOrderFact } from './retract-order-fact';

const providers = analyticsProviders[config.providers()]();

export const analyticsActivities = {
  recordOrderFact: registerActivity(AnalyticsContract.record, recordOrderFact(providers)),
  retractOrderFact: registerActivity(AnalyticsContract.retract, retractOrderFact(providers)),
};
