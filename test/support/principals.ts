/** Development client principals, as App Service Authentication would send them. */
import { CLIENT_PRINCIPAL_HEADER, encodeClientPrincipal, Roles } from '../../src/libs/client-principal';

export const asApprover = (name = 'grace@contoso.example') => ({
  [CLIENT_PRINCIPAL_HEADER]: encodeClientPrincipal(name, [Roles.approver]),
});
export const asOperator = (name = 'olivia@contoso.example') => ({
  [CLIENT_PRINCIPAL_HEADER]: encodeClientPrincipal(name, [Roles.operator]),
});
export const asCustomer = (name = 'ada@example.com') => ({
  [CLIENT_PRINCIPAL_HEADER]: encodeClientPrincipal(name, []),
});
