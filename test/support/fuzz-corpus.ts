/**
 * A corpus of malformed requests, generated (deterministically, from a seed) across the server's four protocols:
 * SCIM 2.0 (/scim2), SCIM 1.1 (/wso2/scim), the admin API (/api/server/v1) and OAuth 2.0 (/oauth2). Every class of
 * bad input issue #8 found is in it, written out by hand, and seeded random mutations of valid requests add more.
 *
 * Every request here must be refused (or, for a read, answered) with a 4xx and never change anything: each write is
 * made invalid on purpose (a NUL, a lone surrogate, invalid UTF-8, a broken structure, an impossible value), so a
 * write that succeeds is a bug the test reports.
 */

import { prng } from './prng.js';

export type Protocol = 'scim2' | 'scim11' | 'admin' | 'oauth';

export interface FuzzCase {
  /** The class of bad input, for the report. */
  kind: string;
  protocol: Protocol;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Which credential to send: the admin's (default), an application's client credentials, or none. */
  auth?: 'admin' | 'client' | 'none';
  /** '4xx': must be refused. 'read': a read, any status below 500 (a 200 for an odd but valid query). */
  expect: '4xx' | 'read';
}

export interface CorpusFixtures {
  userId: string;
  groupId: string;
  applicationId: string;
  /** A real cursor from a list request (RFC 9865), to tamper with. */
  cursor: string;
}


const SCIM = 'application/scim+json';
const JSON_TYPE = 'application/json';
const FORM = 'application/x-www-form-urlencoded';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const SEARCH = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

/** Ways to make a string invalid. Strings stand for JSON text (escapes), bytes for raw invalid UTF-8. */
const BAD_STRINGS: { name: string; json: string }[] = [
  { name: 'NUL', json: 'a\\u0000b' },
  { name: 'NUL at the end', json: 'ab\\u0000' },
  { name: 'lone high surrogate', json: 'a\\ud800b' },
  { name: 'lone low surrogate', json: '\\udc00b' },
  { name: 'reversed surrogate pair', json: '\\udc00\\ud800' },
];
const BAD_BYTES: { name: string; bytes: number[] }[] = [
  { name: 'byte 0xFF', bytes: [0xff] },
  { name: 'overlong slash C0 AF', bytes: [0xc0, 0xaf] },
  { name: 'truncated E0 A4', bytes: [0xe0, 0xa4] },
  { name: 'encoded surrogate ED A0 80', bytes: [0xed, 0xa0, 0x80] },
];

/** A JSON text with MARK (a placeholder string value) replaced by a bad string or by raw invalid bytes. */
const MARK = '"\u2063MARK\u2063"';
function withBad(template: string, bad: { json: string } | { bytes: number[] }): string | Uint8Array {
  if ('json' in bad) return template.replace(MARK, `"${bad.json}"`);
  const [before, after] = template.split(MARK) as [string, string];
  return Buffer.concat([Buffer.from(`${before}"x`), Buffer.from(bad.bytes), Buffer.from(`y"${after}`)]);
}

function badVariants(kind: string, base: Omit<FuzzCase, 'kind' | 'body'>, template: string): FuzzCase[] {
  return [...BAD_STRINGS, ...BAD_BYTES].map((bad) => ({ ...base, kind: `${kind}: ${bad.name}`, body: withBad(template, bad) }));
}

/** `{"a":{"a":...}}` or `[[[...]]]` nested `depth` deep, as JSON text. */
const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
const deepArray = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

const patchBody = (op: Record<string, unknown> | string) =>
  `{"schemas":["${PATCH_OP}"],"Operations":[${typeof op === 'string' ? op : JSON.stringify(op)}]}`;

export function generateCorpus(f: CorpusFixtures, seed = 8): FuzzCase[] {
  const cases: FuzzCase[] = [];
  const add = (...c: FuzzCase[]) => cases.push(...c);
  const scim = (method: string, path: string, body?: string | Uint8Array, kind = 'scim2', extra: Partial<FuzzCase> = {}): FuzzCase => ({
    kind,
    protocol: 'scim2',
    method,
    path: `/scim2${path}`,
    ...(body !== undefined && { body, headers: { 'Content-Type': SCIM } }),
    expect: '4xx',
    ...extra,
  });

  // 1. Malformed percent-encoding in a path, on every prefix (issue #8: `/scim2/Users/%` answered 500).
  const badSegments = ['%', '%E0%A4%A', '%ZZ', '%C0%AF', '%ED%A0%80', '%FF', '%00', 'x%2', '%%41'];
  const prefixes: [Protocol, string][] = [
    ['scim2', '/scim2/Users/'],
    ['scim2', '/scim2/Groups/'],
    ['scim2', '/scim2/Schemas/'],
    ['scim2', '/scim2/ResourceTypes/'],
    ['scim11', '/wso2/scim/Users/'],
    ['scim11', '/wso2/scim/Groups/'],
    ['admin', '/api/server/v1/applications/'],
    ['admin', '/api/server/v1/identity-providers/'],
    ['admin', '/api/server/v1/userstores/'],
    ['admin', '/api/server/v1/provisioning/users/'],
  ];
  for (const [protocol, prefix] of prefixes) {
    for (const seg of badSegments) {
      add({ kind: `path percent-encoding ${seg}`, protocol, method: 'GET', path: `${prefix}${seg}`, expect: '4xx' });
    }
    add({ kind: 'path percent-encoding (DELETE)', protocol, method: 'DELETE', path: `${prefix}%E0%A4%A`, expect: '4xx' });
  }
  add({ kind: 'path percent-encoding', protocol: 'oauth', method: 'POST', path: '/oauth2/%E0%A4%A', auth: 'none', expect: '4xx' });
  add({ kind: 'query percent-encoding', protocol: 'scim2', method: 'GET', path: '/scim2/Users?filter=%E0%A4%A', expect: '4xx' });
  add({ kind: 'query percent-encoding', protocol: 'scim2', method: 'GET', path: '/scim2/Users?attributes=%FF', expect: '4xx' });
  add({ kind: 'query NUL', protocol: 'scim2', method: 'GET', path: '/scim2/Users?filter=userName%20eq%20%22a%00%22', expect: '4xx' });
  add({ kind: 'query NUL', protocol: 'scim11', method: 'GET', path: '/wso2/scim/Users?filter=userName%20eq%20%22a%00%22', expect: '4xx' });
  add({ kind: 'query NUL', protocol: 'admin', method: 'GET', path: '/api/server/v1/provisioning/audit?userId=%00', expect: '4xx' });

  // 2. NUL, lone surrogates and invalid UTF-8 in every kind of string (issue #8: a NUL made the store retry forever).
  const userFields: [string, string][] = [
    ['userName', `{"schemas":[],"userName":${MARK}}`],
    ['displayName', `{"userName":"fz-dn","displayName":${MARK}}`],
    ['name.givenName', `{"userName":"fz-gn","name":{"givenName":${MARK}}}`],
    ['emails.value', `{"userName":"fz-em","emails":[{"value":${MARK},"primary":true}]}`],
    ['title', `{"userName":"fz-ti","title":${MARK}}`],
    ['externalId', `{"userName":"fz-ex","externalId":${MARK}}`],
    ['password', `{"userName":"fz-pw","password":${MARK}}`],
    ['enterprise department', `{"userName":"fz-dp","${ENTERPRISE}":{"department":${MARK}}}`],
    ['a member name', `{"userName":"fz-mn",${MARK}:"x"}`],
  ];
  for (const [field, template] of userFields) {
    add(...badVariants(`POST /Users ${field}`, { protocol: 'scim2', method: 'POST', path: '/scim2/Users', headers: { 'Content-Type': SCIM }, expect: '4xx' }, template));
    add(
      ...badVariants(
        `PUT /Users ${field}`,
        { protocol: 'scim2', method: 'PUT', path: `/scim2/Users/${f.userId}`, headers: { 'Content-Type': SCIM }, expect: '4xx' },
        template.replace(/"fz-[a-z]{2}"/, '"fuzz-seed-user"'),
      ),
    );
  }
  for (const [path, value] of [
    ['title', MARK],
    ['displayName', MARK],
    ['userName', MARK],
    ['password', MARK],
    ['emails[type eq "work"].value', MARK],
  ] as const) {
    add(
      ...badVariants(
        `PATCH /Users ${path}`,
        { protocol: 'scim2', method: 'PATCH', path: `/scim2/Users/${f.userId}`, headers: { 'Content-Type': SCIM }, expect: '4xx' },
        patchBody(`{"op":"replace","path":${JSON.stringify(path)},"value":${value}}`),
      ),
    );
  }
  add(
    ...badVariants(
      'PATCH /Users without path',
      { protocol: 'scim2', method: 'PATCH', path: `/scim2/Users/${f.userId}`, headers: { 'Content-Type': SCIM }, expect: '4xx' },
      patchBody(`{"op":"replace","value":{"nickName":${MARK}}}`),
    ),
  );
  add(...badVariants('POST /Groups displayName', { protocol: 'scim2', method: 'POST', path: '/scim2/Groups', headers: { 'Content-Type': SCIM }, expect: '4xx' }, `{"displayName":${MARK}}`));
  add(
    ...badVariants(
      'PATCH /Groups displayName',
      { protocol: 'scim2', method: 'PATCH', path: `/scim2/Groups/${f.groupId}`, headers: { 'Content-Type': SCIM }, expect: '4xx' },
      patchBody(`{"op":"replace","path":"displayName","value":${MARK}}`),
    ),
  );
  add(
    ...badVariants(
      'Bulk data userName',
      { protocol: 'scim2', method: 'POST', path: '/scim2/Bulk', headers: { 'Content-Type': SCIM }, expect: '4xx' },
      `{"schemas":["${BULK}"],"Operations":[{"method":"POST","path":"/Users","bulkId":"b1","data":{"userName":${MARK}}}]}`,
    ),
  );
  add(
    ...badVariants(
      '.search filter',
      { protocol: 'scim2', method: 'POST', path: '/scim2/Users/.search', headers: { 'Content-Type': SCIM }, expect: '4xx' },
      `{"schemas":["${SEARCH}"],"filter":${MARK}}`,
    ),
  );
  add(...badVariants('SCIM 1.1 POST /Users userName', { protocol: 'scim11', method: 'POST', path: '/wso2/scim/Users', headers: { 'Content-Type': JSON_TYPE }, expect: '4xx' }, `{"schemas":["urn:scim:schemas:core:1.0"],"userName":${MARK}}`));
  add(...badVariants('admin application name', { protocol: 'admin', method: 'POST', path: '/api/server/v1/applications', headers: { 'Content-Type': JSON_TYPE }, expect: '4xx' }, `{"name":${MARK}}`));
  add(
    ...badVariants(
      'admin application PATCH description',
      { protocol: 'admin', method: 'PATCH', path: `/api/server/v1/applications/${f.applicationId}`, headers: { 'Content-Type': JSON_TYPE }, expect: '4xx' },
      `{"description":${MARK}}`,
    ),
  );
  add(...badVariants('admin user store description', { protocol: 'admin', method: 'POST', path: '/api/server/v1/userstores', headers: { 'Content-Type': JSON_TYPE }, expect: '4xx' }, `{"name":"FUZZ","description":${MARK}}`));
  add(...badVariants('admin identity provider name', { protocol: 'admin', method: 'POST', path: '/api/server/v1/identity-providers', headers: { 'Content-Type': JSON_TYPE }, expect: '4xx' }, `{"name":${MARK}}`));

  // 3. JSON nested 20,000 deep (issue #8: inside Bulk data or a PATCH value it overflowed the stack).
  add(scim('POST', '/Bulk', `{"schemas":["${BULK}"],"Operations":[{"method":"POST","path":"/Users","bulkId":"d","data":{"userName":"deep","x":${deepObject(20_000)}}}]}`, 'deep JSON in Bulk data'));
  add(scim('PATCH', `/Users/${f.userId}`, patchBody(`{"op":"add","path":"title","value":${deepArray(20_000)}}`), 'deep JSON in a PATCH value'));
  add(scim('POST', '/Users', `{"userName":"deep2","${ENTERPRISE}":${deepObject(20_000)}}`, 'deep JSON in an extension'));
  add(scim('POST', '/Users', deepArray(20_000), 'deep JSON as the body'));
  add({ kind: 'deep JSON', protocol: 'scim11', method: 'POST', path: '/wso2/scim/Users', headers: { 'Content-Type': JSON_TYPE }, body: `{"userName":"d",${'"x":'}${deepObject(20_000)}}`, expect: '4xx' });
  add({ kind: 'deep JSON', protocol: 'admin', method: 'POST', path: '/api/server/v1/applications', headers: { 'Content-Type': JSON_TYPE }, body: `{"name":"d","x":${deepArray(20_000)}}`, expect: '4xx' });
  add({ kind: 'deep JSON', protocol: 'scim2', method: 'POST', path: '/scim2/.search', headers: { 'Content-Type': SCIM }, body: `{"schemas":["${SEARCH}"],"x":${deepObject(5_000)}}`, expect: '4xx' });

  // 4. A plain body labelled with a Content-Encoding it does not have (issue #8: answered 5xx).
  for (const encoding of ['gzip', 'deflate', 'br', 'xz', 'compress', 'gzip, br', 'identity, zstd']) {
    add(scim('POST', '/Users', '{"userName":"enc-user"}', `Content-Encoding ${encoding}`, { headers: { 'Content-Type': SCIM, 'Content-Encoding': encoding } }));
    add({ kind: `Content-Encoding ${encoding}`, protocol: 'scim11', method: 'POST', path: '/wso2/scim/Users', headers: { 'Content-Type': JSON_TYPE, 'Content-Encoding': encoding }, body: '{"userName":"enc11"}', expect: '4xx' });
    add({ kind: `Content-Encoding ${encoding}`, protocol: 'admin', method: 'POST', path: '/api/server/v1/applications', headers: { 'Content-Type': JSON_TYPE, 'Content-Encoding': encoding }, body: '{"name":"enc-app"}', expect: '4xx' });
  }

  // 5. Numbers out of range (issue #8: startIndex >= 2^63 answered 500).
  const numbers = ['9223372036854775808', '99999999999999999999999', '1e400', '0x10', '1.5', 'NaN', '-9223372036854775809', '2147483648', '１'];
  for (const n of numbers) {
    add(scim('GET', `/Users?startIndex=${encodeURIComponent(n)}`, undefined, `startIndex ${n}`));
    // A count beyond the maximum is lowered to it (RFC 7644 §3.4.2.4), so only some of these are refused.
    add(scim('GET', `/Groups?count=${encodeURIComponent(n)}`, undefined, `count ${n}`, { expect: 'read' }));
  }
  add({ kind: 'startIndex huge', protocol: 'scim11', method: 'GET', path: '/wso2/scim/Users?startIndex=9223372036854775808', expect: '4xx' });
  add(scim('POST', '/Users/.search', `{"schemas":["${SEARCH}"],"startIndex":1e300}`, 'startIndex 1e300 in .search'));
  add(scim('POST', '/Users/.search', `{"schemas":["${SEARCH}"],"count":"ten"}`, 'count not a number in .search'));
  add({ kind: 'audit limit huge', protocol: 'admin', method: 'GET', path: '/api/server/v1/provisioning/audit?limit=1e309', expect: 'read' });
  add({ kind: 'audit bad date', protocol: 'admin', method: 'GET', path: '/api/server/v1/provisioning/audit?from=not-a-date', expect: '4xx' });
  add({ kind: 'audit bad uuid', protocol: 'admin', method: 'GET', path: '/api/server/v1/provisioning/audit?userId=not-a-uuid', expect: 'read' });

  // 6. Forged and tampered cursors (issue #8: the digest in a cursor was computable; odd offsets gave 500).
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const realBody = f.cursor.split('.')[0] ?? f.cursor;
  const forged = [
    'x',
    'AAAA',
    b64({ offset: 1e20, q: 'x' }),
    b64({ offset: -1 }),
    b64({ offset: 5, after: { created: '99999-01-01T00:00:00Z', id: 'x' } }),
    `${b64({ o: 1e20, t: 1 })}.${'A'.repeat(43)}`,
    `${realBody}.${'A'.repeat(43)}`,
    `${f.cursor.slice(0, -1)}${f.cursor.endsWith('A') ? 'B' : 'A'}`,
    `${b64({ o: 0, t: 0 })}${f.cursor.slice(realBody.length)}`,
    'A'.repeat(5000),
    '...',
  ];
  for (const c of forged) add(scim('GET', `/Users?cursor=${encodeURIComponent(c)}&count=1`, undefined, 'forged cursor'));
  add(scim('GET', `/Users?cursor=${encodeURIComponent(f.cursor)}&count=1&filter=${encodeURIComponent('userName sw "a"')}`, undefined, 'cursor of another query'));
  add(scim('GET', `/Users?cursor=${encodeURIComponent(f.cursor)}&startIndex=2`, undefined, 'cursor with startIndex'));

  // 7. Filters (issue #8: NUL in a filter and a 20,000-term and/or filter answered 500).
  const search = (filter: string, kind: string) => scim('POST', '/Users/.search', JSON.stringify({ schemas: [SEARCH], filter }), kind);
  // As large as a body string may be (src/http/input.ts: 65,536 characters), so the filter parser's own limits
  // are what refuses them; the 20,000-term filter of the issue is refused by the string limit already.
  add(search(Array.from({ length: 20_000 }, (_, i) => `userName eq "u${i}"`).join(' or '), '20,000-term or filter'));
  add(search(Array.from({ length: 2_800 }, (_, i) => `userName eq "u${i}"`).join(' or '), '2,800-term or filter'));
  add(search(Array.from({ length: 2_800 }, (_, i) => `userName eq "u${i}"`).join(' and '), '2,800-term and filter'));
  add(search(`${'('.repeat(32_000)}userName eq "a"${')'.repeat(32_000)}`, '32,000-deep parentheses'));
  add(search(`${'not ('.repeat(10_000)}userName eq "a"${')'.repeat(10_000)}`, '10,000 nested not'));
  add(search(`emails[${'value eq "a" and '.repeat(3_500)}value eq "b"]`, '3,500-term value path'));
  for (const bad of ['userName eq', 'userName xx "a"', '((userName eq "a"', 'userName eq "a" or', 'userName eq "unterminated', '[', 'emails[value eq "a"', 'userName eq "a"]', '"', 'userName eq "\\', 'meta.lastModified gt "not a date"', 'x'.repeat(100_000)]) {
    add(search(bad, `bad filter ${bad.slice(0, 20)}`));
  }
  add(scim('GET', `/Users?filter=${encodeURIComponent('userName eq "a" and (')}`, undefined, 'bad filter in a URL'));
  add(scim('GET', `/Groups?filter=${encodeURIComponent('members[value eq')}`, undefined, 'bad filter in a URL'));
  add(scim('GET', `/Users?sortBy=${encodeURIComponent('emails[')}`, undefined, 'bad sortBy', { expect: 'read' }));
  add(scim('GET', `/Users?sortOrder=sideways`, undefined, 'bad sortOrder'));
  // Unknown attributes in `attributes` are ignored (RFC 7644 §3.4.2.5): a read, not necessarily a refusal.
  add(scim('GET', `/Users?attributes=${encodeURIComponent('urn:x:'.repeat(2000))}`, undefined, 'long attributes', { expect: 'read' }));
  add({ kind: 'bad SCIM 1.1 filter', protocol: 'scim11', method: 'GET', path: `/wso2/scim/Users?filter=${encodeURIComponent('userName eq')}`, expect: '4xx' });

  // 8. Values too long or too many (issue #8: a 10,000-character userName answered 503; 30,000 emails took 25 s).
  add(scim('POST', '/Users', JSON.stringify({ userName: 'u'.repeat(10_000) }), '10,000-character userName'));
  add(scim('POST', '/Users', JSON.stringify({ userName: 'long-dn', displayName: 'd'.repeat(100_000) }), '100,000-character displayName'));
  add(scim('POST', '/Users', JSON.stringify({ userName: 'many-emails', emails: Array.from({ length: 30_000 }, (_, i) => ({ value: `e${i}@x.io` })) }), '30,000 emails'));
  add(scim('POST', '/Groups', JSON.stringify({ displayName: 'g'.repeat(10_000) }), '10,000-character group name'));
  add(
    scim(
      'POST',
      '/Bulk',
      JSON.stringify({ schemas: [BULK], Operations: Array.from({ length: 1001 }, (_, i) => ({ method: 'DELETE', path: `/Users/${f.userId}`, bulkId: `x${i}` })) }),
      '1,001 Bulk operations',
    ),
  );
  add(scim('POST', '/Users', Buffer.alloc(1_100_000, 0x20), 'a body over maxPayloadSize'));
  add({ kind: 'long client secret', protocol: 'oauth', method: 'POST', path: '/oauth2/token', auth: 'none', headers: { 'Content-Type': FORM }, body: `grant_type=client_credentials&client_id=x&client_secret=${'s'.repeat(200_000)}`, expect: '4xx' });

  // 9. Bodies that are not what they say, or not objects.
  for (const [kind, body] of [
    ['truncated JSON', '{"userName":"t'],
    ['trailing comma', '{"userName":"t",}'],
    ['single quotes', "{'userName':'t'}"],
    ['an array', '[{"userName":"t"}]'],
    ['a string', '"userName"'],
    ['a number', '42'],
    ['null', 'null'],
    ['true', 'true'],
    ['empty object', '{}'],
    ['two documents', '{"userName":"a"}{"userName":"b"}'],
    ['a comment', '{"userName":"c" /* x */}'],
  ] as const) {
    add(scim('POST', '/Users', body, `body: ${kind}`));
    add(scim('PATCH', `/Users/${f.userId}`, body, `PATCH body: ${kind}`));
    add({ kind: `admin body: ${kind}`, protocol: 'admin', method: 'POST', path: '/api/server/v1/userstores', headers: { 'Content-Type': JSON_TYPE }, body, expect: '4xx' });
  }
  add(scim('POST', '/Users', '{"userName":"latin"}', 'charset latin1', { headers: { 'Content-Type': `${SCIM}; charset=latin1` } }));
  add(scim('POST', '/Users', Buffer.from('{"userName":"utf16"}', 'utf16le'), 'charset utf-16', { headers: { 'Content-Type': `${SCIM}; charset=utf-16le` } }));
  add(scim('POST', '/Users', '{"userName":"plain"}', 'text/plain body', { headers: { 'Content-Type': 'text/plain' } }));
  add(scim('POST', '/Users', undefined, 'no body'));
  add(scim('PUT', `/Users/${f.userId}`, '', 'empty body', { headers: { 'Content-Type': SCIM } }));
  add(scim('PATCH', `/Users/${f.userId}`, patchBody({ op: 'explode', path: 'title', value: 'x' }), 'unknown PATCH op'));
  add(scim('PATCH', `/Users/${f.userId}`, patchBody({ op: 'replace', path: 'emails[type eq', value: 'x' }), 'malformed PATCH path'));
  add(scim('PATCH', `/Users/${f.userId}`, patchBody({ op: 'replace', path: 'id', value: 'x' }), 'PATCH of a readOnly attribute'));
  add(scim('PATCH', `/Users/${f.userId}`, '{"Operations":[]}', 'PATCH without operations'));
  add(scim('PATCH', `/Groups/${f.groupId}`, patchBody({ op: 'add', path: 'members', value: [{ value: 'not-a-uuid' }] }), 'member that does not exist'));
  add(scim('POST', '/Bulk', '{"schemas":["urn:x"],"Operations":[]}', 'Bulk without its schema'));
  add(scim('POST', '/Bulk', `{"schemas":["${BULK}"],"Operations":[{"method":"TRACE","path":"/Users"}]}`, 'Bulk method TRACE'));
  add(scim('POST', '/Bulk', `{"schemas":["${BULK}"],"failOnErrors":-1,"Operations":[{"method":"POST","path":"/Users","bulkId":"a","data":{}}]}`, 'Bulk failOnErrors -1'));

  // 10. Preconditions and methods.
  for (const tag of ['garbage', 'W/"99999999999999999999999999"', '"1"', 'W/', '*,*', 'W/"-1"']) {
    add(scim('PUT', `/Users/${f.userId}`, JSON.stringify({ userName: 'fuzz-seed-user', title: 'changed' }), `If-Match ${tag}`, { headers: { 'Content-Type': SCIM, 'If-Match': tag } }));
    add(scim('GET', `/Users/${f.userId}`, undefined, `If-None-Match ${tag}`, { headers: { 'If-None-Match': tag }, expect: 'read' }));
  }
  for (const method of ['PUT', 'PATCH', 'DELETE', 'POST']) {
    add(scim(method, '/ServiceProviderConfig', '{"not":"json"', `${method} on a read-only endpoint`));
    add(scim(method, '/Schemas', Buffer.alloc(10, 0xff), `${method} on a read-only endpoint`));
  }
  add(scim('PUT', '/Users', '{}', 'PUT on a collection'));
  add(scim('DELETE', '/Users', undefined, 'DELETE on a collection'));
  add(scim('GET', '/Users/not-a-uuid', undefined, 'unknown id', { expect: '4xx' }));
  add(scim('GET', `/Users/${'a'.repeat(5000)}`, undefined, 'long id'));
  add({ kind: 'PROPFIND', protocol: 'scim2', method: 'PROPFIND', path: '/scim2/Users', expect: '4xx' });

  // 11. OAuth 2.0 token endpoint.
  const token = (body: string, kind: string, extra: Partial<FuzzCase> = {}): FuzzCase => ({
    kind: `oauth: ${kind}`,
    protocol: 'oauth',
    method: 'POST',
    path: '/oauth2/token',
    auth: 'client',
    headers: { 'Content-Type': FORM },
    body,
    expect: '4xx',
    ...extra,
  });
  add(token('', 'empty form'));
  add(token('grant_type=', 'empty grant_type'));
  add(token('grant_type=magic', 'unknown grant type'));
  add(token('grant_type=password&username=nobody-x&password=%00', 'NUL in password'));
  add(token('grant_type=password&username=a%00b&password=x', 'NUL in username'));
  add(token('grant_type=password&username=%E0%A4%A&password=x', 'bad percent-encoding in username'));
  add(token('grant_type=password&username=%ED%A0%80&password=x', 'encoded surrogate in username'));
  add(token(`grant_type=password&username=${'u'.repeat(10_000)}&password=x`, '10,000-character username'));
  add(token('grant_type=client_credentials&scope=%00', 'NUL in scope'));
  add(token(`grant_type=client_credentials&scope=${'internal_x '.repeat(2_000)}`, 'huge scope'));
  add(token('grant_type=client_credentials&scope=unknown_scope', 'unknown scope'));
  add(token('grant_type=client_credentials', 'no client authentication', { auth: 'none' }));
  add(token('grant_type=client_credentials&client_id=a%00b&client_secret=x', 'NUL in client_id', { auth: 'none' }));
  add(token('grant_type=client_credentials&client_id=%FF&client_secret=x', 'invalid UTF-8 in client_id', { auth: 'none' }));
  add(token(`grant_type=client_credentials&client_id=${'c'.repeat(5000)}&client_secret=x`, 'long client_id', { auth: 'none' }));
  add(token('grant_type=client_credentials', 'Basic with no colon', { auth: 'none', headers: { 'Content-Type': FORM, Authorization: `Basic ${Buffer.from('nocolon').toString('base64')}` } }));
  add(token('grant_type=client_credentials', 'Basic not base64', { auth: 'none', headers: { 'Content-Type': FORM, Authorization: 'Basic !!!***' } }));
  add(token('grant_type=client_credentials', 'Basic with a NUL', { auth: 'none', headers: { 'Content-Type': FORM, Authorization: `Basic ${Buffer.from('a\u0000b:c').toString('base64')}` } }));
  add(token('{"grant_type":"client_credentials"}', 'a JSON body', { headers: { 'Content-Type': JSON_TYPE } }));
  add(token('grant_type=client_credentials', 'gzip label on a plain form', { headers: { 'Content-Type': FORM, 'Content-Encoding': 'gzip' } }));
  add(token('grant_type=client_credentials&grant_type=password', 'grant_type twice'));
  add({ kind: 'oauth: GET on the token endpoint', protocol: 'oauth', method: 'GET', path: '/oauth2/token', auth: 'none', expect: '4xx' });
  // RFC 7009 §2.2: a revocation of an unknown token answers 200, so this one is only required not to fail.
  add(token('token=%00', 'NUL in a revocation', { path: '/oauth2/token/revocation', expect: 'read' }));

  // 12. Admin API: wrong types, unknown fields, bad ids.
  const admin = (method: string, path: string, body: unknown, kind: string): FuzzCase => ({
    kind: `admin: ${kind}`,
    protocol: 'admin',
    method,
    path: `/api/server/v1${path}`,
    headers: { 'Content-Type': JSON_TYPE },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    expect: '4xx',
  });
  add(admin('POST', '/applications', { name: 123 }, 'name a number'));
  add(admin('POST', '/applications', { name: 'x', scopes: 'internal_login' }, 'scopes a string'));
  add(admin('POST', '/applications', { name: 'x', grantTypes: [1] }, 'grant type a number'));
  add(admin('POST', '/applications', { name: 'x', unknownField: true }, 'unknown field'));
  add(admin('POST', '/applications', { name: 'x', clientId: 'has space' }, 'bad client id'));
  add(admin('POST', '/applications', { name: 'x', inboundProvisioning: { userStoreDomain: 'NOPE' } }, 'unknown domain'));
  add(admin('POST', '/applications', { name: 'n'.repeat(300) }, 'name too long'));
  add(admin('PATCH', `/applications/${f.applicationId}`, { scopes: ['nope'] }, 'unknown scope'));
  add(admin('PATCH', '/applications/not-a-uuid', { name: 'x' }, 'bad id'));
  add(admin('POST', '/userstores', { name: 'has space' }, 'bad user store name'));
  add(admin('POST', '/userstores', { name: 'PRIMARY' }, 'PRIMARY again'));
  add(admin('POST', '/identity-providers', { name: 'idp', outboundConnectors: [{ type: 'nope' }] }, 'unknown connector type'));
  add(admin('POST', '/identity-providers', { name: 'idp', outboundConnectors: [{ type: 'scim2', settings: { userEndpoint: 'not a url' } }] }, 'bad connector settings'));
  add(admin('POST', '/identity-providers', { name: 'idp', outboundConnectors: 'x' }, 'connectors not a list'));
  add(admin('POST', '/scim2/schemas', { id: 'not-a-urn', attributes: 'x' }, 'bad schema'));
  add(admin('POST', '/applications/resident/provisioning/outbound-connectors', { connectorId: 'not-a-uuid' }, 'bad link'));
  add(admin('POST', '/provisioning/users/not-a-uuid/resend', {}, 'bad id'));
  add(admin('POST', `/provisioning/users/${f.userId}/resend`, { connectorId: 'x' }, 'bad connector id'));
  add(admin('POST', '/provisioning/reconcile/not-a-uuid', {}, 'bad connector id'));
  add(admin('PUT', `/provisioning/reconcile/${f.userId}/schedule`, { cron: 'not cron' }, 'bad schedule'));

  // 13. Seeded random mutations of valid requests, each made invalid: a NUL or a lone surrogate in a random string,
  // raw invalid UTF-8 at a random place, or a truncated body.
  const random = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const seeds: { protocol: Protocol; method: string; path: string; type: string; value: Record<string, unknown> }[] = [
    { protocol: 'scim2', method: 'POST', path: '/scim2/Users', type: SCIM, value: { userName: 'mut-user', name: { givenName: 'M', familyName: 'U' }, emails: [{ value: 'm@u.io', type: 'work' }], title: 'T' } },
    { protocol: 'scim2', method: 'PUT', path: `/scim2/Users/${f.userId}`, type: SCIM, value: { userName: 'fuzz-seed-user', displayName: 'Seed', nickName: 'n' } },
    { protocol: 'scim2', method: 'PATCH', path: `/scim2/Users/${f.userId}`, type: SCIM, value: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'x' }, { op: 'add', value: { nickName: 'y' } }] } },
    { protocol: 'scim2', method: 'POST', path: '/scim2/Groups', type: SCIM, value: { displayName: 'mut-group', members: [{ value: f.userId }] } },
    { protocol: 'scim2', method: 'POST', path: '/scim2/Bulk', type: SCIM, value: { schemas: [BULK], Operations: [{ method: 'POST', path: '/Users', bulkId: 'm', data: { userName: 'mut-bulk' } }] } },
    { protocol: 'scim2', method: 'POST', path: '/scim2/Users/.search', type: SCIM, value: { schemas: [SEARCH], filter: 'userName sw "mut"', count: 5 } },
    { protocol: 'scim11', method: 'POST', path: '/wso2/scim/Users', type: JSON_TYPE, value: { schemas: ['urn:scim:schemas:core:1.0'], userName: 'mut11', emails: [{ value: 'm@x.io' }] } },
    { protocol: 'admin', method: 'POST', path: '/api/server/v1/applications', type: JSON_TYPE, value: { name: 'mut-app', description: 'd', scopes: ['internal_user_mgt_view'] } },
    { protocol: 'admin', method: 'POST', path: '/api/server/v1/userstores', type: JSON_TYPE, value: { name: 'MUT', description: 'mutated' } },
  ];
  const strings = (v: unknown, out: string[][] = [], path: string[] = []): string[][] => {
    if (typeof v === 'string') out.push(path);
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) strings(x, out, [...path, k]);
    return out;
  };
  const setAt = (obj: unknown, path: string[], value: string): unknown => {
    const copy = structuredClone(obj) as Record<string, unknown>;
    let at: Record<string, unknown> = copy;
    for (const k of path.slice(0, -1)) at = at[k] as Record<string, unknown>;
    at[path[path.length - 1]!] = value;
    return copy;
  };
  for (let i = 0; i < 150; i++) {
    const s = pick(seeds);
    const strategy = pick(['nul', 'surrogate', 'bytes', 'truncate'] as const);
    let body: string | Uint8Array;
    if (strategy === 'nul' || strategy === 'surrogate') {
      const path = pick(strings(s.value));
      const original = path.reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], s.value) as string;
      const at = Math.floor(random() * (original.length + 1));
      const inject = strategy === 'nul' ? '\u0000' : pick(['\ud800', '\udbff', '\udc00', '\udfff']);
      body = JSON.stringify(setAt(s.value, path, original.slice(0, at) + inject + original.slice(at)));
    } else if (strategy === 'bytes') {
      const text = Buffer.from(JSON.stringify(s.value));
      const at = 1 + Math.floor(random() * (text.length - 2));
      body = Buffer.concat([text.subarray(0, at), Buffer.from(pick(BAD_BYTES).bytes), text.subarray(at)]);
    } else {
      const text = JSON.stringify(s.value);
      body = text.slice(0, 1 + Math.floor(random() * (text.length - 2)));
    }
    add({ kind: `mutation ${strategy}`, protocol: s.protocol, method: s.method, path: s.path, headers: { 'Content-Type': s.type }, body, expect: '4xx' });
  }

  return cases;
}
