/**
 * Who is calling: the client principal App Service Authentication (Entra ID) puts in the
 * `x-ms-client-principal` header, base64 JSON `{ auth_typ, name_typ, role_typ, claims: [{ typ, val }] }`.
 *
 * With App Service Authentication on (AUTHENTICATION_MODE=appService), the platform sets the
 * header and drops any copy a client sends, so it can be trusted as is. Without it the routes that
 * read it take the master key (authLevel `admin`), so only a holder of that key can assert a
 * principal. The offline host checks no keys: there anyone can send a development principal.
 */
import type { HttpRequest } from '@azure/functions';
import { config } from './config';
import { json } from './http';
import type { HttpResponseInit } from '@azure/functions';

export const CLIENT_PRINCIPAL_HEADER = 'x-ms-client-principal';

/** The app roles infra/ declares on the app registration. */
export const Roles = { approver: 'Orders.Approver', operator: 'Orders.Operator' } as const;
export type Role = (typeof Roles)[keyof typeof Roles];

export interface ClientPrincipal {
  /** The caller's name: the claim `name_typ` names (for Entra ID, the user principal name), else FALLBACK_NAME_TYPES's first. */
  name: string;
  roles: string[];
}

interface PrincipalPayload {
  name_typ?: unknown;
  role_typ?: unknown;
  claims?: unknown;
}

const DEFAULT_NAME_TYPE = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name';
const DEFAULT_ROLE_TYPE = 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role';
/**
 * Where the name is looked for when the claim `name_typ` names is absent: a v2 access token (as
 * infra.md configures the registration) carries short claim names, and an application's token (a
 * service holding Orders.Operator) carries no name at all, only its object id. Never the display
 * name (`name`): two people may share one, and the name is who decided, in the order's record.
 */
const FALLBACK_NAME_TYPES = [
  'preferred_username',
  'http://schemas.microsoft.com/identity/claims/objectidentifier',
  'oid',
];

/**
 * A name that can stand for who decided: 1 to 256 characters, none of them a control character
 * (C0, DEL, C1) or a line or paragraph separator. It is recorded on the order and shown in its
 * status, where such characters would only hide what the name says (and grow sixfold in JSON).
 */
export function isPrincipalName(name: string): boolean {
  // eslint-disable-next-line no-control-regex
  return name.length >= 1 && name.length <= 256 && !/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(name);
}

/** Decodes the header; undefined when it is missing or not a principal with a name. */
export function readClientPrincipal(header: string | null | undefined): ClientPrincipal | undefined {
  if (!header || header.length > 16_384) return undefined;
  let payload: PrincipalPayload;
  try {
    payload = JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as PrincipalPayload;
  } catch {
    return undefined;
  }
  if (!payload || typeof payload !== 'object' || !Array.isArray(payload.claims)) return undefined;
  const nameType = typeof payload.name_typ === 'string' ? payload.name_typ : DEFAULT_NAME_TYPE;
  const roleType = typeof payload.role_typ === 'string' ? payload.role_typ : DEFAULT_ROLE_TYPE;
  const values = (type: string) =>
    (payload.claims as unknown[])
      .filter(
        (claim): claim is { typ: string; val: string } =>
          typeof (claim as { typ?: unknown })?.typ === 'string' &&
          typeof (claim as { val?: unknown })?.val === 'string',
      )
      .filter((claim) => claim.typ === type)
      .map((claim) => claim.val.trim())
      .filter(Boolean);
  const name = [nameType, ...FALLBACK_NAME_TYPES].map((type) => values(type)[0]).find(Boolean);
  if (!name || !isPrincipalName(name)) return undefined;
  return { name, roles: [...values(roleType), ...(roleType === 'roles' ? [] : values('roles'))] };
}

/** Encodes a principal the way App Service Authentication does: for the demo, the tests and scripts. */
export function encodeClientPrincipal(name: string, roles: readonly string[]): string {
  const payload = {
    auth_typ: 'aad',
    name_typ: DEFAULT_NAME_TYPE,
    role_typ: DEFAULT_ROLE_TYPE,
    claims: [{ typ: DEFAULT_NAME_TYPE, val: name }, ...roles.map((role) => ({ typ: DEFAULT_ROLE_TYPE, val: role }))],
  };
  return Buffer.from(JSON.stringify(payload), 'utf8').toString('base64');
}

export type Authorization = { ok: true; principal: ClientPrincipal } | { ok: false; response: HttpResponseInit };

/** 401 without a principal, 403 without the role; else the principal, whose name is the caller's identity. */
export function authorize(request: HttpRequest, role: Role): Authorization {
  const principal = readClientPrincipal(request.headers.get(CLIENT_PRINCIPAL_HEADER));
  if (!principal)
    return {
      ok: false,
      response: json(401, { message: `sign in: this route needs a client principal with the role ${role}` }),
    };
  if (!principal.roles.includes(role))
    return { ok: false, response: json(403, { message: `${principal.name} does not hold the role ${role}` }) };
  return { ok: true, principal };
}

/**
 * The key a person's route (approval, operations) needs. Behind App Service Authentication the
 * principal is the check; without it, the master key (`admin`), which no customer holds: a
 * function or host key opens the customer routes only.
 */
export const personRouteAuthLevel = (): 'anonymous' | 'admin' =>
  config.authenticationMode() === 'appService' ? 'anonymous' : 'admin';
