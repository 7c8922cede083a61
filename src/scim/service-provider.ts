/**
 * What this SCIM service provider supports, as data (RFC 7643 §5), served at /scim2/ServiceProviderConfig
 * (RFC 7644 §4) and read by the handlers that enforce the limits it announces, so the two cannot drift.
 *
 * Cursor pagination is announced as RFC 9865 §4 describes (`pagination`); index pagination stays the
 * default so clients that know only RFC 7644 §3.4.2.4 behave as before.
 */
/** RFC 7643 §8.7.2 (kept here, beside the resource it names, rather than in schemas.ts, which others own). */
export const SCHEMA_SERVICE_PROVIDER_CONFIG = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';

/**
 * Limits enforced by the Bulk, filter and list handlers; those RFC 7643 §5 has a place for are announced in
 * ServiceProviderConfig (bulk.maxOperations, bulk.maxPayloadSize, filter.maxResults), the others are named in the
 * error a client gets when it goes over them.
 */
export const SCIM_LIMITS = {
  /** RFC 7644 §3.7: a Bulk request with more operations is refused with 413. */
  bulkMaxOperations: 1000,
  /** RFC 7644 §3.7: a Bulk request body larger than this (bytes) is refused with 413. */
  bulkMaxPayloadSize: 1_048_576,
  /** RFC 7643 §5 filter.maxResults: the most resources one query answers with. */
  filterMaxResults: 1000,
  /**
   * A filter (or PATCH path) longer than this many characters is refused with 400 invalidFilter (invalidPath)
   * before it is parsed (RFC 7644 §3.12: "the specified filter ... exceeds some limit"). 16 KiB is as much as a GET request line carries through
   * most proxies; POST /.search can carry more, which is never needed by a real client.
   */
  filterMaxLength: 16_384,
  /**
   * The most comparisons and presence tests one filter may hold: enough for a client that looks up a batch of
   * users by id in one request (`id eq "..." or id eq "..."`), while keeping the SQL a filter becomes small.
   */
  filterMaxTerms: 200,
  /** The deepest nesting of parentheses, `not (...)` and value filters a filter may have. */
  filterMaxDepth: 64,
} as const;

/** RFC 9865 §4: the pagination methods and page sizes of list and search responses. */
export const SCIM_PAGINATION = {
  cursor: true,
  index: true,
  defaultPaginationMethod: 'index',
  defaultPageSize: 100,
  maxPageSize: 1000,
  /** Seconds a cursor stays valid after the page that returned it. */
  cursorTimeout: 3600,
} as const;

export interface AuthenticationScheme {
  type: 'oauthbearertoken' | 'httpbasic';
  name: string;
  description: string;
  specUri: string;
  documentationUri: string;
  primary: boolean;
}

export const AUTHENTICATION_SCHEMES: readonly AuthenticationScheme[] = [
  {
    type: 'oauthbearertoken',
    name: 'OAuth Bearer Token',
    description: 'An OAuth 2.0 access token (client credentials grant at /oauth2/token) in the Authorization header as a Bearer token',
    specUri: 'https://www.rfc-editor.org/info/rfc6750',
    documentationUri: 'https://www.rfc-editor.org/rfc/rfc6750.html#section-2.1',
    primary: true,
  },
  {
    type: 'httpbasic',
    name: 'HTTP Basic',
    description: "The operator's credential with the HTTP Basic authentication scheme",
    specUri: 'https://www.rfc-editor.org/info/rfc7617',
    documentationUri: 'https://www.rfc-editor.org/rfc/rfc7617.html#section-2',
    primary: false,
  },
];

/**
 * The ServiceProviderConfig resource (RFC 7643 §5, example in §8.5). `scimBaseUrl` is the SCIM base URL
 * (`https://host/scim2`), for `meta.location`.
 */
export function serviceProviderConfig(scimBaseUrl: string, opts: { documentationUri?: string } = {}): Record<string, unknown> {
  return {
    schemas: [SCHEMA_SERVICE_PROVIDER_CONFIG],
    documentationUri: opts.documentationUri ?? 'https://www.rfc-editor.org/rfc/rfc7644.html',
    patch: { supported: true },
    bulk: { supported: true, maxOperations: SCIM_LIMITS.bulkMaxOperations, maxPayloadSize: SCIM_LIMITS.bulkMaxPayloadSize },
    // Only RFC 7643 §5's attributes: strict clients refuse any other (scim2-models, which scim2-tester uses,
    // forbids unknown attributes in `filter` and unknown extension schemas here). The filter limits beyond
    // maxResults (SCIM_LIMITS.filterMax*) are stated in each refusal's detail and in the README instead.
    filter: { supported: true, maxResults: SCIM_LIMITS.filterMaxResults },
    changePassword: { supported: true },
    sort: { supported: true },
    etag: { supported: true },
    pagination: { ...SCIM_PAGINATION },
    authenticationSchemes: AUTHENTICATION_SCHEMES.map((s) => ({ ...s })),
    meta: { resourceType: 'ServiceProviderConfig', location: `${scimBaseUrl}/ServiceProviderConfig` },
  };
}
