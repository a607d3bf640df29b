/**
 * The Node side of the extension backend, without .NET: what the .NET host is told (host.json as
 * configuration), and what it is answered (the worker's input parsing and failure text, which
 * the extension parses with OutOfProcExceptionHelpers).
 */
import { configurationEnv, failureText, tryJsonParse } from '../../local/extension/backend';

describe('host.json as the .NET configuration reads it', () => {
  it('flattens nested options into AzureWebJobs__extensions__durableTask__* variables', () => {
    expect(
      configurationEnv('AzureWebJobs:extensions:durableTask', {
        hubName: 'Hub1',
        maxConcurrentActivityFunctions: 10,
        storageProvider: { partitionCount: 1, maxQueuePollingInterval: '00:00:00.100' },
        tracing: { traceInputsAndOutputs: false, unset: null },
      }),
    ).toEqual({
      AzureWebJobs__extensions__durableTask__hubName: 'Hub1',
      AzureWebJobs__extensions__durableTask__maxConcurrentActivityFunctions: '10',
      AzureWebJobs__extensions__durableTask__storageProvider__partitionCount: '1',
      AzureWebJobs__extensions__durableTask__storageProvider__maxQueuePollingInterval: '00:00:00.100',
      AzureWebJobs__extensions__durableTask__tracing__traceInputsAndOutputs: 'false',
    });
  });
});

describe('what the Node side answers the .NET host', () => {
  it('reads a string binding as the worker does: JSON when it parses, the text otherwise', () => {
    expect(tryJsonParse('{"orderId":"o-1","total":3}')).toEqual({ orderId: 'o-1', total: 3 });
    expect(tryJsonParse('"quoted"')).toBe('quoted');
    expect(tryJsonParse('plain text')).toBe('plain text');
    expect(tryJsonParse('42')).toBe(42);
  });

  it("reports a failure in the Functions host's form, with the message between its labels", () => {
    const error = new Error('payment gateway timed out');
    const text = failureText(error);
    expect(
      text.startsWith('Result: Failure\nException: payment gateway timed out\nStack: Error: payment gateway timed out'),
    ).toBe(true);
    // What the extension extracts: from after "\nException:" to "\nStack:".
    expect(text.slice(text.indexOf('\nException:') + '\nException:'.length, text.indexOf('\nStack:'))).toBe(
      ' payment gateway timed out',
    );
    expect(failureText('a thrown string')).toBe('Result: Failure\nException: a thrown string\nStack: ');
  });
});
