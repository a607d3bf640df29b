import { failureText } from '../../src/libs/errors';

describe('failureText', () => {
  it('reads the message of an activity failure as the Durable extension words it', () => {
    const error = new Error("Activity function 'authorizePayment' failed: card declined \n {\"$type\":\"System.Exception, System.Private.CoreLib\"}");
    expect(failureText(error)).toBe('card declined');
    // Extensions before 3.19 kept the space after "Exception:" in front of the message.
    expect(failureText(new Error("Activity function 'authorizePayment' failed:  card declined \n {}"))).toBe('card declined');
  });

  it('reads failure details where the SDK gives them (a TaskFailedError)', () => {
    const error = Object.assign(new Error('GatewayError: gateway down'), { failureDetails: { errorType: 'GatewayError', errorMessage: 'gateway down' } });
    expect(failureText(error)).toBe('gateway down');
  });

  it('falls back to the first line of any other error, and to the text of a non-error', () => {
    expect(failureText(new Error('no stock for sku-1 \n Error: no stock\n    at reserve'))).toBe('no stock for sku-1');
    expect(failureText('plain text')).toBe('plain text');
  });
});
