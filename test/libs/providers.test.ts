/** PROVIDERS chooses the implementation behind each provider interface; an unknown one stops the app's start. */
import { config } from '../../src/libs/config';

const withProviders = <T>(value: string | undefined, run: () => T): T => {
  const before = process.env.PROVIDERS;
  if (value === undefined) delete process.env.PROVIDERS;
  else process.env.PROVIDERS = value;
  try {
    return run();
  } finally {
    if (before === undefined) delete process.env.PROVIDERS;
    else process.env.PROVIDERS = before;
  }
};

describe('PROVIDERS', () => {
  it('is simulated when unset, and when set so', () => {
    expect(withProviders(undefined, () => config.providers())).toBe('simulated');
    expect(withProviders(' simulated ', () => config.providers())).toBe('simulated');
  });

  it('refuses an unknown value with a message that names the setting and the choices', () => {
    expect(() => withProviders('stripe', () => config.providers())).toThrow(
      'Setting PROVIDERS must be one of simulated, got "stripe"',
    );
  });

  it.each(['payments', 'notifications', 'shipping', 'analytics'])(
    'fails the %s context as it registers, rather than at its first order',
    (context) => {
      withProviders('stripe', () => {
        jest.isolateModules(() => {
          // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh load of the context under the bad setting
          expect(() => require(`../../src/services/${context}`)).toThrow(/Setting PROVIDERS/);
        });
      });
    },
  );
});
