/**
 * A local stand-in for Google's OAuth 2.0 token endpoint and the Admin SDK Directory API (users, groups,
 * members), over real HTTP, following Google's documentation closely enough that Google's own client
 * libraries (google-auth-library, @googleapis/admin) work against it unchanged:
 *
 *  - POST /token: the JWT bearer grant (RFC 7523, `urn:ietf:params:oauth:grant-type:jwt-bearer`) as Google
 *    runs it for service accounts: RS256 signature checked with the service account's public key, `iss`,
 *    `sub` (the impersonated admin), `aud`, `scope` (against the scopes delegated to the client), `iat`/`exp`
 *    (one hour at most); errors are OAuth's `{"error":"invalid_grant","error_description":...}`.
 *  - /admin/directory/v1/users, users/{userKey}, groups, groups/{groupKey}, groups/{groupKey}/members,
 *    .../members/{memberKey}: Bearer tokens and their scopes checked, keys by id or email, required fields
 *    (400 `required`/`invalid`), 409 `duplicate`, 404 `notFound`, pages with `nextPageToken`, Google's JSON
 *    error shape `{"error":{"code","message","errors":[{"domain","reason","message"}],"status"}}`.
 *  - Injected faults: 429 `rateLimitExceeded` with Retry-After, 403 `userRateLimitExceeded`, 403 `forbidden`, 401, 503, a
 *    dropped connection, or the whole server down.
 *
 * Test service accounts get a fresh key pair from node:crypto (generateServiceAccount): no private key is
 * ever committed.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const USER_SCOPE = 'https://www.googleapis.com/auth/admin.directory.user';
const GROUP_SCOPE = 'https://www.googleapis.com/auth/admin.directory.group';

export interface ServiceAccount {
  email: string;
  /** PKCS#8 PEM, as in a JSON key's `private_key`. */
  privateKey: string;
  publicKey: crypto.KeyObject;
}

export function generateServiceAccount(email = 'provisioning@test-project.iam.gserviceaccount.com'): ServiceAccount {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { email, privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKey };
}

export interface FakeUser {
  kind: 'admin#directory#user';
  id: string;
  etag: string;
  primaryEmail: string;
  name: { givenName: string; familyName: string; fullName: string };
  suspended: boolean;
  orgUnitPath: string;
  isAdmin: boolean;
  creationTime: string;
  externalIds?: unknown[];
  emails?: unknown[];
  phones?: unknown[];
  organizations?: unknown[];
  changePasswordAtNextLogin?: boolean;
  [more: string]: unknown;
}

export interface FakeGroup {
  kind: 'admin#directory#group';
  id: string;
  etag: string;
  email: string;
  name: string;
  description: string;
  directMembersCount: string;
  adminCreated: boolean;
}

export interface FakeMember {
  kind: 'admin#directory#member';
  id: string;
  email: string;
  role: 'OWNER' | 'MANAGER' | 'MEMBER';
  type: 'USER' | 'GROUP';
  status: 'ACTIVE';
}

export type Fault =
  | { kind: 'rateLimit'; retryAfterSeconds?: number }
  | { kind: 'userRateLimit' }
  | { kind: 'unavailable'; retryAfterSeconds?: number }
  | { kind: 'unauthorized' }
  | { kind: 'forbidden' }
  | { kind: 'reset' };

export interface FaultRule {
  fault: Fault;
  /** How many matching requests fail (default 1). */
  times?: number;
  method?: string;
  /** Matched against the path (without query), e.g. /\/users$/; unset: any Directory API call (not /token). */
  path?: RegExp;
}

export interface RecordedRequest {
  method: string;
  path: string;
  status: number;
  /** When the answer was sent (ms since the epoch). */
  at: number;
  body?: unknown;
}

export interface GoogleDirectoryServer {
  baseUrl: string;
  /** The token endpoint, for the connector's `tokenUrl`. */
  tokenUrl: string;
  /** The Directory API root, for the connector's `directoryUrl` (the client's rootUrl). */
  directoryUrl: string;
  users: Map<string, FakeUser>;
  /** Plaintext passwords as received (a fake may keep them; Google hashes). */
  passwords: Map<string, string>;
  groups: Map<string, FakeGroup>;
  /** group id -> member id -> member */
  members: Map<string, Map<string, FakeMember>>;
  requests: RecordedRequest[];
  tokensIssued: number;
  /** Makes every issued access token invalid (as a revocation does): the next API call gets 401. */
  revokeTokens(): void;
  /** Lifetime of tokens issued from now on (Google: 3600). */
  tokenLifetimeSeconds: number;
  inject(rule: FaultRule): void;
  /** While down, every connection is closed without an answer. */
  down: boolean;
  userByEmail(email: string): FakeUser | undefined;
  groupByEmail(email: string): FakeGroup | undefined;
  close(): Promise<void>;
}

export interface GoogleDirectoryServerOptions {
  serviceAccount: { email: string; publicKey: crypto.KeyObject };
  /** The domain users and groups may be created in. */
  domain: string;
  /** Admins the service account may impersonate (the JWT `sub`). */
  admins: string[];
  /** Scopes delegated to the service account's client (domain-wide delegation). */
  delegatedScopes?: string[];
}

class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly domain = 'global',
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const STATUS_TEXT: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  429: 'RESOURCE_EXHAUSTED',
  503: 'UNAVAILABLE',
};

function numericId(): string {
  // Google user ids are 21-digit numbers.
  return `1${Array.from(crypto.randomBytes(20), (b) => String(b % 10)).join('')}`;
}

function b64urlJson(part: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function parseOrRaw(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

export async function startGoogleDirectoryServer(opts: GoogleDirectoryServerOptions): Promise<GoogleDirectoryServer> {
  const delegated = new Set(opts.delegatedScopes ?? [USER_SCOPE, GROUP_SCOPE]);
  const tokens = new Map<string, { expiresAt: number; scopes: Set<string> }>();
  const faults: (FaultRule & { left: number })[] = [];
  const domain = opts.domain.toLowerCase();
  let baseUrl = '';

  const state: GoogleDirectoryServer = {
    baseUrl: '',
    tokenUrl: '',
    directoryUrl: '',
    users: new Map(),
    passwords: new Map(),
    groups: new Map(),
    members: new Map(),
    requests: [],
    tokensIssued: 0,
    tokenLifetimeSeconds: 3600,
    down: false,
    revokeTokens: () => tokens.clear(),
    inject: (rule) => faults.push({ ...rule, left: rule.times ?? 1 }),
    userByEmail: (email) => [...state.users.values()].find((u) => u.primaryEmail === email.toLowerCase()),
    groupByEmail: (email) => [...state.groups.values()].find((g) => g.email === email.toLowerCase()),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };

  // --- the token endpoint -------------------------------------------------------------------------------

  function token(form: URLSearchParams): { status: number; body: Record<string, unknown> } {
    const fail = (error: string, description: string, status = 400) => ({ status, body: { error, error_description: description } });
    if (form.get('grant_type') !== JWT_BEARER_GRANT) return fail('unsupported_grant_type', 'Invalid grant_type: ' + (form.get('grant_type') ?? ''));
    const assertion = form.get('assertion') ?? '';
    const parts = assertion.split('.');
    if (parts.length !== 3) return fail('invalid_grant', 'Invalid JWT: not a compact JWS.');
    const [h, p, sig] = parts as [string, string, string];
    const header = b64urlJson(h);
    const claims = b64urlJson(p);
    if (!header || !claims) return fail('invalid_grant', 'Invalid JWT: malformed header or claims.');
    if (header.alg !== 'RS256') return fail('invalid_grant', 'Invalid JWT: alg must be RS256.');
    if (claims.iss !== opts.serviceAccount.email) return fail('invalid_grant', 'Invalid JWT Signature.');
    const signatureOk = crypto.verify('RSA-SHA256', Buffer.from(`${h}.${p}`), opts.serviceAccount.publicKey, Buffer.from(sig, 'base64url'));
    if (!signatureOk) return fail('invalid_grant', 'Invalid JWT Signature.');
    if (claims.aud !== state.tokenUrl) return fail('invalid_grant', `Invalid JWT: aud must be ${state.tokenUrl}.`);
    const now = Math.floor(Date.now() / 1000);
    const iat = Number(claims.iat);
    const exp = Number(claims.exp);
    if (!Number.isFinite(iat) || !Number.isFinite(exp) || exp <= now || iat > now + 300 || exp - iat > 3600) {
      return fail('invalid_grant', 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.');
    }
    if (typeof claims.sub !== 'string' || !opts.admins.map((a) => a.toLowerCase()).includes(claims.sub.toLowerCase())) {
      return fail('invalid_grant', 'Invalid email or User ID');
    }
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [];
    if (scopes.length === 0) return fail('invalid_scope', 'Empty or missing scope not allowed.');
    if (scopes.some((s) => !delegated.has(s))) {
      return fail('unauthorized_client', 'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.', 401);
    }
    const accessToken = `ya29.fake-${crypto.randomBytes(24).toString('base64url')}`;
    tokens.set(accessToken, { expiresAt: Date.now() + state.tokenLifetimeSeconds * 1000, scopes: new Set(scopes) });
    state.tokensIssued += 1;
    return { status: 200, body: { access_token: accessToken, expires_in: state.tokenLifetimeSeconds, token_type: 'Bearer' } };
  }

  // --- the Directory API -------------------------------------------------------------------------------

  const notFound = (what: string) => new ApiError(404, 'notFound', `Resource Not Found: ${what}`);
  const duplicate = (message = 'Entity already exists.') => new ApiError(409, 'duplicate', message);
  const required = (field: string) => new ApiError(400, 'required', `Invalid Input: ${field}`);
  const invalid = (message: string) => new ApiError(400, 'invalid', message);

  function authorize(req: http.IncomingMessage, scope: string): void {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    const t = m ? tokens.get(m[1]!) : undefined;
    if (!t || t.expiresAt <= Date.now()) {
      throw new ApiError(401, 'authError', 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.');
    }
    if (!t.scopes.has(scope)) throw new ApiError(403, 'insufficientPermissions', 'Request had insufficient authentication scopes.');
  }

  function findUser(key: string): FakeUser | undefined {
    return state.users.get(key) ?? state.userByEmail(key);
  }
  function findGroup(key: string): FakeGroup | undefined {
    return state.groups.get(key) ?? state.groupByEmail(key);
  }
  function emailTaken(email: string, exceptId?: string): boolean {
    const e = email.toLowerCase();
    return [...state.users.values()].some((u) => u.primaryEmail === e && u.id !== exceptId) || [...state.groups.values()].some((g) => g.email === e && g.id !== exceptId);
  }
  function checkDomain(email: string): void {
    if (!/^[^@\s]+@[^@\s]+$/.test(email)) throw invalid('Invalid Input: primary_user_email');
    if (email.toLowerCase().split('@')[1] !== domain) throw new ApiError(400, 'invalid', 'Domain not found.');
  }
  function etag(): string {
    return `"${crypto.randomBytes(12).toString('base64url')}"`;
  }

  function page<T>(items: T[], query: URLSearchParams, key: string): Record<string, unknown> {
    const max = Math.min(Number(query.get('maxResults') ?? 100) || 100, 500);
    const start = query.get('pageToken') ? Number(Buffer.from(query.get('pageToken')!, 'base64url').toString()) : 0;
    if (!Number.isInteger(start) || start < 0) throw invalid('Invalid Input: pageToken');
    const slice = items.slice(start, start + max);
    const next = start + max < items.length ? Buffer.from(String(start + max)).toString('base64url') : undefined;
    return { etag: etag(), [key]: slice, ...(next && { nextPageToken: next }) };
  }

  function applyUserFields(u: FakeUser, body: Record<string, unknown>): void {
    const name = body.name as { givenName?: unknown; familyName?: unknown } | undefined;
    if (typeof name?.givenName === 'string') u.name.givenName = name.givenName;
    if (typeof name?.familyName === 'string') u.name.familyName = name.familyName;
    u.name.fullName = `${u.name.givenName} ${u.name.familyName}`;
    if (typeof body.suspended === 'boolean') u.suspended = body.suspended;
    if (typeof body.orgUnitPath === 'string') u.orgUnitPath = body.orgUnitPath;
    if (typeof body.changePasswordAtNextLogin === 'boolean') u.changePasswordAtNextLogin = body.changePasswordAtNextLogin;
    for (const k of ['externalIds', 'emails', 'phones', 'organizations'] as const) {
      if (Array.isArray(body[k])) u[k] = body[k] as unknown[];
    }
  }

  function setPassword(id: string, password: unknown): void {
    if (password === undefined) return;
    if (typeof password !== 'string' || password.length < 8 || password.length > 100) throw invalid('Invalid Password');
    state.passwords.set(id, password);
  }

  function directory(method: string, segments: string[], query: URLSearchParams, body: Record<string, unknown>, req: http.IncomingMessage): { status: number; body?: unknown } {
    const [collection, key, sub, memberKey] = segments;
    if (collection === 'users') {
      authorize(req, USER_SCOPE);
      if (key === undefined) {
        if (method === 'GET') {
          if (!query.get('domain') && !query.get('customer')) throw new ApiError(400, 'badRequest', 'Bad Request');
          const users = [...state.users.values()].sort((a, b) => a.primaryEmail.localeCompare(b.primaryEmail));
          return { status: 200, body: { kind: 'admin#directory#users', ...page(users, query, 'users') } };
        }
        if (method === 'POST') {
          const email = body.primaryEmail;
          if (typeof email !== 'string' || email === '') throw required('primary_user_email');
          const name = body.name as { givenName?: unknown; familyName?: unknown } | undefined;
          if (typeof name?.givenName !== 'string' || name.givenName === '') throw required('given_name');
          if (typeof name.familyName !== 'string' || name.familyName === '') throw required('family_name');
          if (body.password === undefined) throw required('password');
          checkDomain(email);
          if (emailTaken(email)) throw duplicate();
          const id = numericId();
          setPassword(id, body.password);
          const u: FakeUser = {
            kind: 'admin#directory#user',
            id,
            etag: etag(),
            primaryEmail: email.toLowerCase(),
            name: { givenName: name.givenName, familyName: name.familyName, fullName: '' },
            suspended: false,
            orgUnitPath: '/',
            isAdmin: false,
            creationTime: new Date().toISOString(),
          };
          applyUserFields(u, body);
          state.users.set(id, u);
          return { status: 200, body: u };
        }
        throw new ApiError(405, 'methodNotAllowed', 'Method not allowed');
      }
      const u = findUser(key);
      if (!u || sub !== undefined) throw notFound('userKey');
      if (method === 'GET') return { status: 200, body: u };
      if (method === 'DELETE') {
        state.users.delete(u.id);
        state.passwords.delete(u.id);
        for (const ms of state.members.values()) ms.delete(u.id);
        return { status: 204 };
      }
      if (method === 'PUT' || method === 'PATCH') {
        // users.update and users.patch both have patch semantics: absent fields are kept.
        if (typeof body.primaryEmail === 'string' && body.primaryEmail.toLowerCase() !== u.primaryEmail) {
          checkDomain(body.primaryEmail);
          if (emailTaken(body.primaryEmail, u.id)) throw duplicate();
          u.primaryEmail = body.primaryEmail.toLowerCase();
        }
        const name = body.name as { givenName?: unknown; familyName?: unknown } | undefined;
        if (name && (name.givenName === '' || name.familyName === '')) throw required(name.givenName === '' ? 'given_name' : 'family_name');
        setPassword(u.id, body.password);
        applyUserFields(u, body);
        u.etag = etag();
        return { status: 200, body: u };
      }
      throw new ApiError(405, 'methodNotAllowed', 'Method not allowed');
    }

    if (collection === 'groups') {
      authorize(req, GROUP_SCOPE);
      if (key === undefined) {
        if (method === 'GET') {
          if (!query.get('domain') && !query.get('customer') && !query.get('userKey')) throw new ApiError(400, 'badRequest', 'Bad Request');
          const groups = [...state.groups.values()].sort((a, b) => a.email.localeCompare(b.email));
          return { status: 200, body: { kind: 'admin#directory#groups', ...page(groups, query, 'groups') } };
        }
        if (method === 'POST') {
          const email = body.email;
          if (typeof email !== 'string' || email === '') throw required('email');
          checkDomain(email);
          if (emailTaken(email)) throw duplicate();
          const g: FakeGroup = {
            kind: 'admin#directory#group',
            id: crypto.randomBytes(8).toString('hex').replace(/^./, '0'),
            etag: etag(),
            email: email.toLowerCase(),
            name: typeof body.name === 'string' ? body.name : email,
            description: typeof body.description === 'string' ? body.description : '',
            directMembersCount: '0',
            adminCreated: true,
          };
          state.groups.set(g.id, g);
          state.members.set(g.id, new Map());
          return { status: 200, body: g };
        }
        throw new ApiError(405, 'methodNotAllowed', 'Method not allowed');
      }
      const g = findGroup(key);
      if (!g) throw notFound('groupKey');
      const ms = state.members.get(g.id)!;
      if (sub === undefined) {
        if (method === 'GET') return { status: 200, body: { ...g, directMembersCount: String(ms.size) } };
        if (method === 'DELETE') {
          state.groups.delete(g.id);
          state.members.delete(g.id);
          for (const other of state.members.values()) other.delete(g.id);
          return { status: 204 };
        }
        if (method === 'PUT' || method === 'PATCH') {
          if (typeof body.email === 'string' && body.email.toLowerCase() !== g.email) {
            checkDomain(body.email);
            if (emailTaken(body.email, g.id)) throw duplicate();
            g.email = body.email.toLowerCase();
          }
          if (typeof body.name === 'string') g.name = body.name;
          if (typeof body.description === 'string') g.description = body.description;
          g.etag = etag();
          return { status: 200, body: g };
        }
        throw new ApiError(405, 'methodNotAllowed', 'Method not allowed');
      }
      if (sub !== 'members') throw notFound('groupKey');
      if (memberKey === undefined) {
        if (method === 'GET') return { status: 200, body: { kind: 'admin#directory#members', ...page([...ms.values()], query, 'members') } };
        if (method === 'POST') {
          const ref = typeof body.id === 'string' ? body.id : typeof body.email === 'string' ? body.email : undefined;
          if (ref === undefined) throw required('member_key');
          const user = findUser(ref);
          const group = user ? undefined : findGroup(ref);
          if (!user && !group) throw notFound('memberKey');
          const id = (user ?? group)!.id;
          if (ms.has(id)) throw duplicate('Member already exists.');
          const role = body.role === 'OWNER' || body.role === 'MANAGER' ? body.role : 'MEMBER';
          const m: FakeMember = { kind: 'admin#directory#member', id, email: user ? user.primaryEmail : group!.email, role, type: user ? 'USER' : 'GROUP', status: 'ACTIVE' };
          ms.set(id, m);
          return { status: 200, body: m };
        }
        throw new ApiError(405, 'methodNotAllowed', 'Method not allowed');
      }
      const m = ms.get(memberKey) ?? [...ms.values()].find((x) => x.email === memberKey.toLowerCase());
      if (!m) throw notFound('memberKey');
      if (method === 'GET') return { status: 200, body: m };
      if (method === 'DELETE') {
        ms.delete(m.id);
        return { status: 204 };
      }
      throw new ApiError(405, 'methodNotAllowed', 'Method not allowed');
    }
    throw notFound('resource');
  }

  // --- HTTP --------------------------------------------------------------------------------------------

  function takeFault(method: string, path: string): Fault | undefined {
    const i = faults.findIndex((f) => f.left > 0 && (!f.method || f.method === method) && (f.path ? f.path.test(path) : path !== '/token'));
    if (i < 0) return undefined;
    const rule = faults[i]!;
    rule.left -= 1;
    if (rule.left === 0) faults.splice(i, 1);
    return rule.fault;
  }

  function faultError(f: Exclude<Fault, { kind: 'reset' }>): ApiError {
    switch (f.kind) {
      case 'rateLimit':
        return new ApiError(429, 'rateLimitExceeded', 'Quota exceeded for quota metric \'Queries\' and limit \'Queries per minute per user\'.', 'usageLimits', {
          ...(f.retryAfterSeconds !== undefined && { 'retry-after': String(f.retryAfterSeconds) }),
        });
      case 'userRateLimit':
        return new ApiError(403, 'userRateLimitExceeded', 'User Rate Limit Exceeded', 'usageLimits');
      case 'unauthorized':
        return new ApiError(401, 'authError', 'Invalid Credentials');
      case 'forbidden':
        return new ApiError(403, 'forbidden', 'Not Authorized to access this resource/api');
      case 'unavailable':
        return new ApiError(503, 'backendError', 'The service is currently unavailable.', 'global', {
          ...(f.retryAfterSeconds !== undefined && { 'retry-after': String(f.retryAfterSeconds) }),
        });
    }
  }

  const server = http.createServer((req, res) => {
    if (state.down) {
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', baseUrl);
      const method = req.method ?? 'GET';
      const raw = Buffer.concat(chunks).toString('utf8');
      const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
        state.requests.push({ method, path: url.pathname, status, at: Date.now(), ...(raw && !url.pathname.endsWith('/token') && { body: parseOrRaw(raw) }) });
        if (body === undefined) {
          res.writeHead(status, headers).end();
        } else {
          res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers }).end(JSON.stringify(body));
        }
      };
      const fault = takeFault(method, url.pathname);
      if (fault?.kind === 'reset') {
        state.requests.push({ method, path: url.pathname, status: 0, at: Date.now() });
        req.socket.destroy();
        return;
      }
      if (method === 'POST' && url.pathname === '/token') {
        if (fault) {
          const e = faultError(fault);
          send(e.code, { error: e.code === 429 ? 'rate_limit_exceeded' : 'internal_failure', error_description: e.message }, e.headers);
          return;
        }
        const out = token(new URLSearchParams(raw));
        send(out.status, out.body);
        return;
      }
      const prefix = '/admin/directory/v1/';
      try {
        if (!url.pathname.startsWith(prefix)) throw notFound('resource');
        if (fault) throw faultError(fault);
        let body: Record<string, unknown> = {};
        if (raw) {
          try {
            body = JSON.parse(raw) as Record<string, unknown>;
          } catch {
            throw new ApiError(400, 'parseError', 'Parse Error');
          }
        }
        const segments = url.pathname.slice(prefix.length).split('/').filter(Boolean).map(decodeURIComponent);
        const out = directory(method, segments, url.searchParams, body, req);
        send(out.status, out.body);
      } catch (err) {
        if (!(err instanceof ApiError)) {
          send(500, { error: { code: 500, message: String(err), errors: [{ domain: 'global', reason: 'backendError', message: String(err) }] } });
          return;
        }
        send(
          err.code,
          { error: { code: err.code, message: err.message, errors: [{ message: err.message, domain: err.domain, reason: err.reason }], status: STATUS_TEXT[err.code] ?? 'UNKNOWN' } },
          err.headers,
        );
      }
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.baseUrl = baseUrl;
  state.tokenUrl = `${baseUrl}/token`;
  state.directoryUrl = `${baseUrl}/`;
  return state;
}
