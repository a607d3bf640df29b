import { parseDuration } from '../../src/libs/duration';

describe('parseDuration', () => {
  it.each([
    ['PT24H', 86_400_000],
    ['P1DT2H', 93_600_000],
    ['PT30M', 1_800_000],
    ['PT0.5S', 500],
    ['pt1h', 3_600_000],
  ])('%s is %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['24h', 'P', 'PT', '', '1000'])('rejects %p', (text) =>
    expect(() => parseDuration(text)).toThrow(/ISO 8601/),
  );
});
