/** The providers the payments context works with, as its handlers receive them. */
import type { Providers } from '../../libs/config';
import type { PaymentGateway } from './payment-gateway';
import { simulatedGateway } from './simulated-gateway';

export interface PaymentsProviders {
  gateway: PaymentGateway;
}

/** The implementations behind the PROVIDERS setting. */
export const paymentsProviders: Record<Providers, () => PaymentsProviders> = {
  simulated: () => ({ gateway: simulatedGateway }),
};
