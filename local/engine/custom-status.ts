/**
 * The Durable extension's limit on custom status. `DurableOrchestrationContext.SetCustomStatus`
 * serializes the status with `MessagePayloadDataConverter.Serialize(value, 16)`, which counts the
 * JSON's UTF-16 size in whole KB (`(int)(Encoding.Unicode.GetByteCount(json) / 1024.0)`) and throws
 * when that is over 16: a JSON text of up to 17,407 bytes (8,703 UTF-16 code units) passes.
 * `OutOfProcOrchestrationShim.ScheduleDurableTaskEvents` sets the status before it replays the
 * episode's actions, so an episode whose status is too large schedules nothing and fails the
 * instance (see apply-episode.ts for how).
 */

export const MAX_CUSTOM_STATUS_KB = 16;

/**
 * UTF-16 code units of the JSON the extension measures. The SDK's JSON reaches it through
 * Newtonsoft.Json, which writes strings a little differently from JSON.stringify: it escapes
 * U+0085, U+2028 and U+2029 (6 units each, JSON.stringify keeps them as 1) and writes a lone
 * surrogate as it is (1 unit, which Encoding.Unicode counts as its 2-byte replacement; JSON.stringify
 * writes `\udXXX`, 6). Numbers are measured as JSON.stringify writes them (see README).
 */
export function customStatusLength(value: unknown): number {
  const json = JSON.stringify(value);
  return json === undefined ? 0 : json.length + 5 * newtonsoftExtraEscapes(JSON.parse(json));
}

/** The extension's size of the serialized status, in whole KB, as MessagePayloadDataConverter counts it. */
export function customStatusSizeKb(value: unknown): number {
  return Math.trunc((customStatusLength(value) * 2) / 1024);
}

/** The extension's ArgumentException text for a status over the limit, or undefined when it fits (or there is none). */
export function customStatusTooLarge(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const size = customStatusSizeKb(value);
  if (size <= MAX_CUSTOM_STATUS_KB) return undefined;
  const kb = (n: number) => n.toLocaleString('en-US');
  return (
    `The UTF-16 size of the JSON-serialized payload must not exceed ${kb(MAX_CUSTOM_STATUS_KB)} KB. ` +
    `The current payload size is ${kb(size)} KB.`
  );
}

/** Escapes Newtonsoft adds (+1 each, ×5 units) minus the lone-surrogate escapes it does not write (−1 each). */
function newtonsoftExtraEscapes(value: unknown): number {
  if (typeof value === 'string') return stringDifference(value);
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + newtonsoftExtraEscapes(item), 0);
  if (value && typeof value === 'object')
    return Object.entries(value).reduce(
      (sum, [key, item]) => sum + stringDifference(key) + newtonsoftExtraEscapes(item),
      0,
    );
  return 0;
}

function stringDifference(text: string): number {
  let difference = 0;
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index);
    if (unit === 0x85 || unit === 0x2028 || unit === 0x2029) difference += 1;
    else if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) index += 1;
      else difference -= 1;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) difference -= 1;
  }
  return difference;
}
