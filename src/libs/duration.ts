const ISO_DURATION = /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/** Milliseconds in an ISO 8601 duration such as `PT24H`, `P1DT2H` or `PT0.5S`. */
export function parseDuration(text: string): number {
  const match = ISO_DURATION.exec(text.trim().toUpperCase());
  if (!match || text.trim().toUpperCase() === 'P' || text.trim().toUpperCase().endsWith('T')) {
    throw new Error(`"${text}" is not an ISO 8601 duration (e.g. PT24H)`);
  }
  const [, days, hours, minutes, seconds] = match.map((part) => Number(part ?? 0));
  return Math.round(((days * 24 + hours) * 60 + minutes) * 60_000 + seconds * 1000);
}
