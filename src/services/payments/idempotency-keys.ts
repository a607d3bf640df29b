/**
 * One key per order and operation: whatever re-runs a step (a host retry, a redelivery after a
 * crash, a replayed orchestration) presents the same key, so the gateway does the work once.
 */
export const chargeKey = (orderId: string): string => `${orderId}:charge`;
export const refundKey = (orderId: string): string => `${orderId}:refund`;
