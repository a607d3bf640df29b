/** The providers the shipping context works with, as its handlers receive them. */
import type { Providers } from '../../libs/config';
import type { Carrier } from './carrier';
import { simulatedCarrier } from './simulated-carrier';

export interface ShippingProviders {
  carrier: Carrier;
}

/** The implementations behind the PROVIDERS setting. */
export const shippingProviders: Record<Providers, () => ShippingProviders> = {
  simulated: () => ({ carrier: simulatedCarrier }),
};
