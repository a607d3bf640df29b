/** The names the orders context registers, and the event the approval endpoint raises. */
export const PLACE_ORDER_ORCHESTRATION = 'placeOrder';

export const OrdersActivities = {
  validate: 'validateOrder',
  recordProgress: 'recordOrderProgress',
  deadLetter: 'deadLetterOrder',
  recordRepair: 'recordRepairOutcome',
  publishOutcome: 'publishOrderOutcome',
  settleApproval: 'settleApproval',
} as const;

/** Retries the failed compensations of a dead-lettered order, on an operator's request. */
export const REPAIR_ORDER_ORCHESTRATION = 'repairOrder';
export const repairInstanceId = (orderId: string) => `${orderId}-repair`;

/** Raised on the order's instance when a person approves or rejects a large order. */
export const APPROVAL_EVENT = 'ApprovalDecision';
