/**
 * The HTTP edge: read a JSON body defensively and answer with consistent error shapes.
 * Everything the saga receives passes through a schema first; nothing unparsed goes further.
 */
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import type { z } from 'zod';

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
  return path.reduce<string>((text, key) => {
    if (typeof key === 'number') return `${text}[${key}]`;
    return text ? `${text}.${String(key)}` : String(key);
  }, '') || '(body)';
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
  const contentType = request.headers.get('content-type') ?? '';
  if (!/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(contentType.trim())) {
    return { ok: false, response: json(415, { errors: [{ path: '(headers).content-type', message: 'expected application/json' }] }) };
  }
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > maxBytes) return { ok: false, response: tooLarge(maxBytes) };
  const raw = Buffer.from(await request.arrayBuffer());
  if (raw.length > maxBytes) return { ok: false, response: tooLarge(maxBytes) };

  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    return { ok: false, response: fieldErrors([{ path: '(body)', message: 'body is not valid JSON' }]) };
  }
  const result = schema.safeParse(parsed);
  if (!result.success) {
    return {
      ok: false,
      response: fieldErrors(uniqueErrors(result.error.issues.flatMap(toFieldErrors))),
    };
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

function uniqueErrors(errors: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errors.filter(({ path, message }) => !seen.has(`${path}\u0000${message}`) && seen.add(`${path}\u0000${message}`));
}

const tooLarge = (maxBytes: number) =>
  json(413, { errors: [{ path: '(body)', message: `body is larger than ${maxBytes} bytes` }] });

/** The public origin of a request, so links work behind the host, the offline host and Azure alike. */
export function originOf(request: HttpRequest): string {
  return new URL(request.url).origin;
}
