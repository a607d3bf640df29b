import { failureOf, failureText, isInstanceNotFound } from '../../src/libs/errors';

describe('failureText', () => {
  it('reads the message of an activity failure as the Durable extension words it', () => {
    const error = new Error(
      'Activity function \'authorizePayment\' failed: card declined \n {"$type":"System.Exception, System.Private.CoreLib"}',
    );
    expect(failureText(error)).toBe('card declined');
    // Extensions before 3.19 kept the space after "Exception:" in front of the message.
    expect(failureText(new Error("Activity function 'authorizePayment' failed:  card declined \n {}"))).toBe(
      'card declined',
    );
  });

  it('reads failure details where the SDK gives them (a TaskFailedError)', () => {
    const error = Object.assign(new Error('GatewayError: gateway down'), {
      failureDetails: { errorType: 'GatewayError', errorMessage: 'gateway down' },
    });
    expect(failureText(error)).toBe('gateway down');
  });

  it('falls back to the first line of any other error, and to the text of a non-error', () => {
    expect(failureText(new Error('no stock for sku-1 \n Error: no stock\n    at reserve'))).toBe('no stock for sku-1');
    expect(failureText('plain text')).toBe('plain text');
  });
});

describe('failureOf', () => {
  it('gives the error type as a field where the failure details carry it', () => {
    const error = Object.assign(new Error('ShipmentAlreadyCancelled: shipment was cancelled'), {
      failureDetails: { errorType: 'ShipmentAlreadyCancelled', errorMessage: 'shipment was cancelled' },
    });
    expect(failureOf(error)).toEqual({ message: 'shipment was cancelled', type: 'ShipmentAlreadyCancelled' });
  });

  it('gives only the message when the failure is text', () => {
    expect(failureOf(new Error("Activity function 'refundPayment' failed: refund API down \n {}"))).toEqual({
      message: 'refund API down',
    });
  });
});

describe('isInstanceNotFound', () => {
  it("knows the SDK's getStatus 404, which carries no status field", () => {
    const sdk404 = new Error(
      'DurableClient error: Durable Functions extension replied with HTTP 404 response. This usually means we could not find any data associated with the instanceId provided: o-1.',
    );
    expect(isInstanceNotFound(sdk404)).toBe(true);
    expect(isInstanceNotFound(Object.assign(new Error('gone'), { statusCode: 404 }))).toBe(true);
  });

  it('takes nothing else for a missing instance', () => {
    expect(
      isInstanceNotFound(
        new Error('DurableClient error: the Durable Functions extension replied with an empty HTTP 500 response.'),
      ),
    ).toBe(false);
    expect(isInstanceNotFound(new Error('order HTTP 404 mentioned in passing'))).toBe(false);
  });
});
