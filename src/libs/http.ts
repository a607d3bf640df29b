/**
 * The HTTP edge: read a JSON body defensively and answer with consistent error shapes.
 * Everything the saga receives passes through a schema first; nothing unparsed goes further.
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { z } from 'zod';
import { config } from './config';
import { isUnavailable } from './cosmos';

export interface FieldError {
  path: string;
  message: string;
}

export type BodyResult<T> = { ok: true; value: T } | { ok: false; response: HttpResponseInit };

export const json = (status: number, body: unknown, headers: Record<string, string> = {}): HttpResponseInit => ({
  status,
  jsonBody: body,
  headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
});

export const fieldErrors = (errors: FieldError[]): HttpResponseInit => json(400, { errors });

/** `items[0].quantity` reads better in an error than a JSON pointer or an array of keys. */
export function formatPath(path: readonly PropertyKey[]): string {
  return (
    path.reduce<string>((text, key) => {
      if (typeof key === 'number') return `${text}[${key}]`;
      return text ? `${text}.${String(key)}` : String(key);
    }, '') || '(body)'
  );
}

/**
 * Parses a JSON request body against a schema: 415 for another content type, 413 past
 * `maxBytes`, 400 for JSON that does not parse, 400 naming every bad field otherwise.
 */
export async function readJsonBody<S extends z.ZodType>(
  request: HttpRequest,
  schema: S,
  maxBytes: number,
): Promise<BodyResult<z.infer<S>>> {
  if (!isJsonContentType(request.headers.get('content-type') ?? '')) {
    return {
      ok: false,
      response: json(415, { errors: [{ path: '(headers).content-type', message: 'expected application/json' }] }),
    };
  }
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > maxBytes) return { ok: false, response: tooLarge(maxBytes) };
  const raw = Buffer.from(await request.arrayBuffer());
  if (raw.length > maxBytes) return { ok: false, response: tooLarge(maxBytes) };

  let text: string;
  try {
    // `fatal`: bytes that are not UTF-8 are refused, not quietly replaced with U+FFFD.
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    return { ok: false, response: fieldErrors([{ path: '(body)', message: 'body is not valid UTF-8' }]) };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, response: fieldErrors([{ path: '(body)', message: 'body is not valid JSON' }]) };
  }
  const unprintable = unprintableStrings(parsed);
  const result = schema.safeParse(parsed);
  if (!result.success || unprintable.length > 0) {
    const invalid = result.success ? [] : result.error.issues.flatMap(toFieldErrors);
    return { ok: false, response: fieldErrors(uniqueErrors([...unprintable, ...invalid])) };
  }
  return { ok: true, value: result.data };
}

/** An unknown key is reported at its own path, so the client sees exactly which field to drop. */
function toFieldErrors(issue: z.core.$ZodIssue): FieldError[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ path: formatPath([...issue.path, key]), message: 'unknown field' }));
  }
  return [{ path: formatPath(issue.path), message: issue.message }];
}

/** One error per field, the first found: an unprintable character is named before what the schema says of it. */
function uniqueErrors(errors: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errors.filter(({ path }) => !seen.has(path) && seen.add(path));
}

const tooLarge = (maxBytes: number) =>
  json(413, { errors: [{ path: '(body)', message: `body is larger than ${maxBytes} bytes` }] });

/**
 * JSON is `application/json`, with parameters (charset) or without. Other `+json` types mean
 * something else (a JSON Patch, a merge patch) and are not what these routes accept.
 */
export function isJsonContentType(contentType: string): boolean {
  return /^application\/json\s*(?:;|$)/i.test(contentType.trim());
}

/**
 * NUL and other control characters (tab, CR and LF aside) and lone UTF-16 surrogates, which JSON
 * escapes (`\u0000`, `\ud800`) let through the parser. Nothing a person types, and trouble in
 * logs, documents and headers downstream.
 */
const UNPRINTABLE =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Every string (and key) in a parsed body that holds an unprintable character, by path. Walks with
 * its own stack, not recursion: a body may nest tens of thousands of levels deep.
 */
export function unprintableStrings(body: unknown): FieldError[] {
  interface Node {
    value: unknown;
    key?: PropertyKey;
    parent?: Node;
  }
  const pathOf = (node: Node): PropertyKey[] => {
    const keys: PropertyKey[] = [];
    for (let at: Node | undefined = node; at?.parent; at = at.parent) keys.push(at.key!);
    return keys.reverse();
  };
  const errors: FieldError[] = [];
  const pending: Node[] = [{ value: body }];
  while (pending.length > 0) {
    const node = pending.pop()!;
    const { value } = node;
    if (typeof value === 'string') {
      if (UNPRINTABLE.test(value))
        errors.push({
          path: formatPath(pathOf(node)),
          message: 'must not contain control characters or unpaired surrogates',
        });
    } else if (Array.isArray(value)) {
      for (let index = value.length - 1; index >= 0; index -= 1)
        pending.push({ value: value[index], key: index, parent: node });
    } else if (value && typeof value === 'object') {
      for (const [key, item] of Object.entries(value).reverse()) {
        if (UNPRINTABLE.test(key))
          errors.push({
            path: formatPath([...pathOf(node), JSON.stringify(key)]),
            message: 'field name must not contain control characters',
          });
        else pending.push({ value: item, key, parent: node });
      }
    }
  }
  return errors;
}

/**
 * The public origin for links (Location, statusUrl). A Host header is the client's to choose, so
 * where the app knows its public address it uses that: PUBLIC_BASE_URL when set, else the site's
 * host name in Azure (WEBSITE_HOSTNAME). Only without either (local runs) is the request's own
 * origin used, which the offline host has already checked.
 */
export function originOf(request: HttpRequest): string {
  const configured = config.publicBaseUrl();
  if (configured) return configured;
  return new URL(request.url).origin;
}

/** 503 for a dependency that is down: the client may retry after the given seconds. */
export const unavailable = (message: string, retryAfterSeconds = 5): HttpResponseInit =>
  json(503, { message }, { 'retry-after': String(retryAfterSeconds) });

/**
 * Wraps an HTTP handler so that no fault leaves it as an empty 500: a dependency that cannot be
 * reached is a 503 with Retry-After, anything else a 500 with a JSON message (details in the log).
 */
export function answering<A extends [HttpRequest, InvocationContext]>(
  handler: (...args: A) => Promise<HttpResponseInit>,
): (...args: A) => Promise<HttpResponseInit> {
  return async (...args) => {
    try {
      return await handler(...args);
    } catch (error) {
      const [, context] = args;
      context.error('request failed', error instanceof Error ? error.message : String(error));
      if (isUnavailable(error)) return unavailable('a dependency of this service is unavailable: retry later');
      return json(500, { message: 'the request failed; the log has the details' });
    }
  };
}
