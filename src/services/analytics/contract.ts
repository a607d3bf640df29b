/** The analytics context's activities: each registered name with its command and the facts it answers. */
import { activity } from '../../libs/activity';
import { OrderRecorded, OrderRetracted, RecordOrder, RetractOrder } from '../../libs/events';

export const AnalyticsContract = {
  record: activity('recordOrderFact', RecordOrder, [OrderRecorded]),
  retract: activity('retractOrderFact', RetractOrder, [OrderRetracted]),
} as const;

/** The registered names alone. */
export const AnalyticsActivities = {
  record: AnalyticsContract.record.name,
  retract: AnalyticsContract.retract.name,
} as const;
