/**
 * The API scopes applications may be authorised for, with WSO2's names so a client written for WSO2's
 * SCIM 2.0 API asks for the same ones. An application's `scopes` (admin API) is a subset of this list; a
 * token carries the scopes it was granted; each SCIM route requires one of them (see requireScope in
 * src/http/auth.ts).
 */
export const API_SCOPES = [
  /** POST /scim2/Users */
  'internal_user_mgt_create',
  /** GET /scim2/Users/{id} */
  'internal_user_mgt_view',
  /** GET /scim2/Users (list, filter) and POST /scim2/Users/.search */
  'internal_user_mgt_list',
  /** PUT and PATCH /scim2/Users/{id} */
  'internal_user_mgt_update',
  /** DELETE /scim2/Users/{id} */
  'internal_user_mgt_delete',
  /** POST /scim2/Groups */
  'internal_group_mgt_create',
  /** GET /scim2/Groups/{id} */
  'internal_group_mgt_view',
  /** GET /scim2/Groups (list, filter) and POST /scim2/Groups/.search */
  'internal_group_mgt_list',
  /** PUT and PATCH /scim2/Groups/{id} */
  'internal_group_mgt_update',
  /** DELETE /scim2/Groups/{id} */
  'internal_group_mgt_delete',
  /** POST /scim2/Bulk, whatever its operations */
  'internal_bulk_resource_create',
  /** POST /scim2/Bulk: user creations in a bulk request */
  'internal_bulk_user_create',
  /** POST /scim2/Bulk: user replacements and patches in a bulk request */
  'internal_bulk_user_update',
  /** POST /scim2/Bulk: user deletions in a bulk request */
  'internal_bulk_user_delete',
  /** POST /scim2/Bulk: group creations in a bulk request */
  'internal_bulk_group_create',
  /** POST /scim2/Bulk: group replacements and patches in a bulk request */
  'internal_bulk_group_update',
  /** POST /scim2/Bulk: group deletions in a bulk request */
  'internal_bulk_group_delete',
  /** /scim2/Me: the signed-in user's own account (WSO2's self-service scope; needs a password-grant token) */
  'internal_login',
  /** POST /scim2/Roles (WSO2's SCIM 2.0 Roles API scopes) */
  'internal_role_mgt_create',
  /** GET /scim2/Roles, /scim2/Roles/{id} and POST /scim2/Roles/.search */
  'internal_role_mgt_view',
  /** PUT and PATCH /scim2/Roles/{id}: name, permissions, and assigning users and groups */
  'internal_role_mgt_update',
  /** DELETE /scim2/Roles/{id} */
  'internal_role_mgt_delete',
] as const;

export type ApiScope = (typeof API_SCOPES)[number];

/**
 * What every user may do without any role: WSO2's `Internal/everyone` role, which holds the self-service
 * permission (`internal_login`: /scim2/Me, the user's own account). A password-grant token carries these and the
 * scopes of the user's roles, never more (src/http/oauth/grants.ts, src/http/auth.ts).
 */
export const EVERYONE_SCOPES: readonly ApiScope[] = ['internal_login'];

const known: ReadonlySet<string> = new Set(API_SCOPES);

export function isApiScope(value: string): value is ApiScope {
  return known.has(value);
}

/** Splits an OAuth `scope` value (RFC 6749 §3.3: space-delimited) into distinct scope tokens. */
export function parseScope(value: string | undefined | null): string[] {
  return [...new Set((value ?? '').split(' ').filter((s) => s !== ''))];
}

/**
 * The scopes a user's token may carry: what its roles permit, and what every user may do (EVERYONE_SCOPES). The
 * password grant narrows a new token to them; the token check narrows every request's to them again.
 */
export function permittedScopes(access: { permissions: readonly string[] }): ReadonlySet<string> {
  return new Set([...EVERYONE_SCOPES, ...access.permissions]);
}
