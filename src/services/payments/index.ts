/**
 * The payments context: importing it registers its activities and its operator routes, each given
 * the providers the PROVIDERS setting chooses (an unknown value fails here, at the app's start).
 */
import { registerActivity } from '../../libs/activity';
import { config } from '../../libs/config';
import { chargePayment } from './charge-payment';
import { registerLateChargeRoutes } from './http/late-charges.http';
import { PaymentsContract } from './contract';
import { paymentsProviders } from './providers';
import { refundPayment } from './refund-payment';

const providers = paymentsProviders[config.providers()]();

export const paymentsActivities = {
  chargePayment: registerActivity(PaymentsContract.charge, chargePayment(providers)),
  refundPayment: registerActivity(PaymentsContract.refund, refundPayment(providers)),
};

registerLateChargeRoutes(providers);
