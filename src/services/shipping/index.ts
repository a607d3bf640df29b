/**
 * The shipping context: importing it registers its activities, each given the providers the
 * PROVIDERS setting chooses (an unknown value fails here, at the app's start).
 */
import { registerActivity } from '../../libs/activity';
import { config } from '../../libs/config';
import { cancelShipment } from './cancel-shipment';
import { ShippingContract } from './contract';
import { createShipment } from './create-shipment';
import { shippingProviders } from './providers';

const providers = shippingProviders[config.providers()]();

export const shippingActivities = {
  createShipment: registerActivity(ShippingContract.create, createShipment(providers)),
  cancelShipment: registerActivity(ShippingContract.cancel, cancelShipment(providers)),
};
