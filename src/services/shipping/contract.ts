/** The shipping context's activities: each registered name with its command and the facts it answers. */
import { activity } from '../../libs/activity';
import { AddressRejected, CancelShipment, CreateShipment, ShipmentCancelled, ShipmentCreated } from '../../libs/events';

export const ShippingContract = {
  create: activity('createShipment', CreateShipment, [ShipmentCreated, AddressRejected]),
  cancel: activity('cancelShipment', CancelShipment, [ShipmentCancelled]),
} as const;

/** The registered names alone. */
export const ShippingActivities = {
  create: ShippingContract.create.name,
  cancel: ShippingContract.cancel.name,
} as const;
