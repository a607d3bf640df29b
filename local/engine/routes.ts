/**
 * Functions-style route templates: `orders/{orderId}`, `files/{*path}`, `items/{id:int}`,
 * `search/{term?}`. Literal segments match case-insensitively, as in ASP.NET routing.
 */
export type RouteParams = Record<string, string>;

type Segment = { literal: string } | { param: string; optional: boolean; catchAll: boolean; constraint?: string };

export interface CompiledRoute {
  template: string;
  /** More literal segments first, so `orders/catalog` wins over `orders/{orderId}`. */
  specificity: number;
  match(path: string): RouteParams | undefined;
}

export function compileRoute(template: string): CompiledRoute {
  const segments: Segment[] = splitPath(template).map((part) => {
    const param = /^\{(\*)?([A-Za-z_][\w]*)(?::([^}?]+))?(\?)?\}$/.exec(part);
    if (!param) return { literal: part.toLowerCase() };
    return { param: param[2], catchAll: param[1] === '*', optional: param[4] === '?', constraint: param[3] };
  });
  return {
    template,
    specificity: segments.filter((segment) => 'literal' in segment).length,
    match: (path) => matchSegments(segments, splitPath(path)),
  };
}

function matchSegments(segments: Segment[], parts: string[]): RouteParams | undefined {
  const params: RouteParams = {};
  for (let index = 0; index < segments.length; index++) {
    const segment = segments[index];
    const part = parts[index];
    if ('literal' in segment) {
      if (part === undefined || part.toLowerCase() !== segment.literal) return undefined;
      continue;
    }
    if (segment.catchAll) {
      if (parts.length > index) params[segment.param] = parts.slice(index).join('/');
      return params;
    }
    if (part === undefined) {
      if (!segment.optional) return undefined;
      continue;
    }
    if (!satisfies(part, segment.constraint)) return undefined;
    params[segment.param] = part;
  }
  return parts.length === segments.length ||
    (parts.length < segments.length && segments.slice(parts.length).every(isOptional))
    ? params
    : undefined;
}

function isOptional(segment: Segment): boolean {
  return !('literal' in segment) && (segment.optional || segment.catchAll);
}

function satisfies(value: string, constraint: string | undefined): boolean {
  switch (constraint?.toLowerCase()) {
    case 'int':
    case 'long':
      return /^-?\d+$/.test(value);
    case 'guid':
      return /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(value);
    case 'alpha':
      return /^[a-z]+$/i.test(value);
    default:
      return true;
  }
}

/** Path segments, percent-decoded; a malformed escape is kept as written. */
export function splitPath(path: string): string[] {
  return path
    .split('/')
    .filter((part) => part.length > 0)
    .map((part) => {
      try {
        return decodeURIComponent(part);
      } catch {
        return part;
      }
    });
}
