/** Who may decide: the client principal App Service Authentication sets, and the keys the person routes need without it. */
import { HttpRequest } from '@azure/functions';
import { capturedFunctions } from '../../local/engine/functions-core';
import { loadRegistry } from '../../local/engine/registry';
import { authorize, encodeClientPrincipal, readClientPrincipal, Roles } from '../../src/libs/client-principal';
import { originOf } from '../../src/libs/http';

const encode = (payload: unknown) => Buffer.from(JSON.stringify(payload)).toString('base64');

describe('the client principal', () => {
  it('reads the name and roles by the claim types the header names', () => {
    const header = encode({
      auth_typ: 'aad',
      name_typ: 'preferred_username',
      role_typ: 'roles',
      claims: [
        { typ: 'preferred_username', val: 'grace@contoso.example' },
        { typ: 'roles', val: 'Orders.Approver' },
        { typ: 'name', val: 'not the name claim here' },
      ],
    });
    expect(readClientPrincipal(header)).toEqual({ name: 'grace@contoso.example', roles: ['Orders.Approver'] });
    expect(readClientPrincipal(encodeClientPrincipal('olivia', [Roles.operator]))).toEqual({
      name: 'olivia',
      roles: ['Orders.Operator'],
    });
  });

  it("names a v2 token's user by preferred_username, and an application by its object id, when name_typ names no claim", () => {
    const v2User = encode({
      auth_typ: 'aad',
      name_typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name',
      role_typ: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role',
      claims: [
        { typ: 'name', val: 'Grace Hopper' },
        { typ: 'preferred_username', val: 'grace@contoso.example' },
        { typ: 'roles', val: 'Orders.Approver' },
      ],
    });
    expect(readClientPrincipal(v2User)).toEqual({ name: 'grace@contoso.example', roles: ['Orders.Approver'] });
    // A display name alone names nobody: two people may share it.
    const displayNameOnly = encode({ auth_typ: 'aad', claims: [{ typ: 'name', val: 'Grace Hopper' }] });
    expect(readClientPrincipal(displayNameOnly)).toBeUndefined();
    const application = encode({
      auth_typ: 'aad',
      claims: [
        {
          typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier',
          val: '6f1c0b7e-0000-4000-8000-000000000001',
        },
        { typ: 'roles', val: 'Orders.Operator' },
      ],
    });
    expect(readClientPrincipal(application)).toEqual({
      name: '6f1c0b7e-0000-4000-8000-000000000001',
      roles: ['Orders.Operator'],
    });
  });

  it('is no principal when missing, not base64 JSON, without claims or without a name', () => {
    for (const header of [
      undefined,
      '',
      'not base64 json',
      encode('text'),
      encode({ claims: 'x' }),
      encode({ claims: [{ typ: 'roles', val: 'Orders.Approver' }] }),
      encode({ claims: [{ typ: 42, val: {} }] }),
    ]) {
      expect(readClientPrincipal(header)).toBeUndefined();
    }
  });

  it('is no principal when its name is over 256 characters or holds a control character or a line separator', () => {
    for (const name of ['x'.repeat(257), 'gra\u0001ce', 'gr\nace', 'gra\u0085ce', 'gra\u2028ce']) {
      expect({ name, principal: readClientPrincipal(encodeClientPrincipal(name, [Roles.approver])) }).toEqual({
        name,
        principal: undefined,
      });
    }
    expect(readClientPrincipal(encodeClientPrincipal('"grace" \\ o\'brien', [Roles.approver]))?.name).toBe(
      '"grace" \\ o\'brien',
    );
    expect(readClientPrincipal(encodeClientPrincipal('x'.repeat(256), [Roles.approver]))?.name).toHaveLength(256);
  });

  it('answers 401 without a principal and 403 without the role', () => {
    const request = (headers: Record<string, string>) =>
      new HttpRequest({ method: 'POST', url: 'http://127.0.0.1/api/x', headers });
    expect(authorize(request({}), Roles.approver)).toMatchObject({ ok: false, response: { status: 401 } });
    expect(
      authorize(
        request({ 'x-ms-client-principal': encodeClientPrincipal('ada', ['Orders.Customer']) }),
        Roles.approver,
      ),
    ).toMatchObject({ ok: false, response: { status: 403 } });
    expect(
      authorize(request({ 'x-ms-client-principal': encodeClientPrincipal('grace', [Roles.approver]) }), Roles.approver),
    ).toEqual({ ok: true, principal: { name: 'grace', roles: [Roles.approver] } });
  });
});

describe('the keys each route needs', () => {
  const authLevels = (mode?: string) => {
    const previous = process.env.AUTHENTICATION_MODE;
    if (mode) process.env.AUTHENTICATION_MODE = mode;
    else delete process.env.AUTHENTICATION_MODE;
    try {
      let levels: Record<string, unknown> = {};
      jest.isolateModules(() => {
        capturedFunctions().clear();
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh load per setting
        require('../../src/index');
        levels = Object.fromEntries(loadRegistry().http.map((fn) => [fn.name, fn.options.trigger.authLevel]));
      });
      return levels;
    } finally {
      if (previous === undefined) delete process.env.AUTHENTICATION_MODE;
      else process.env.AUTHENTICATION_MODE = previous;
    }
  };

  it('without App Service Authentication: the master key for the person routes, a function key for the customer routes', () => {
    expect(authLevels()).toMatchObject({
      placeOrderHttp: 'function',
      getOrderHttp: 'function',
      listOrdersHttp: 'function',
      decideApprovalHttp: 'admin',
      terminateOrderHttp: 'admin',
      listDeadLettersHttp: 'admin',
      retryDeadLetterHttp: 'admin',
    });
  });

  it('behind App Service Authentication: the person routes rely on the principal it sets', () => {
    expect(authLevels('appService')).toMatchObject({
      placeOrderHttp: 'function',
      decideApprovalHttp: 'anonymous',
      terminateOrderHttp: 'anonymous',
      retryDeadLetterHttp: 'anonymous',
    });
  });
});

describe('the links the app hands out', () => {
  const request = new HttpRequest({ method: 'POST', url: 'http://evil.example/api/orders' });
  afterEach(() => {
    delete process.env.PUBLIC_BASE_URL;
    delete process.env.WEBSITE_HOSTNAME;
  });

  it('use the configured public base URL, then the site host name, and only then the request', () => {
    expect(originOf(request)).toBe('http://evil.example');
    process.env.WEBSITE_HOSTNAME = 'orders-app.azurewebsites.net';
    expect(originOf(request)).toBe('https://orders-app.azurewebsites.net');
    process.env.PUBLIC_BASE_URL = 'https://shop.contoso.example/some/path';
    expect(originOf(request)).toBe('https://shop.contoso.example');
    delete process.env.PUBLIC_BASE_URL;
    process.env.WEBSITE_HOSTNAME = 'localhost:7071';
    expect(originOf(request)).toBe('http://localhost:7071');
  });
});
