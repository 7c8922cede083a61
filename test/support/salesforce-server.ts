/**
 * A local fake of the parts of Salesforce the Salesforce connector uses, over real HTTP (node:http), shaped
 * after Salesforce's documentation (REST API Developer Guide; OAuth 2.0 username-password and client
 * credentials flows; SOQL and SOSL Reference):
 *
 * - POST /services/oauth2/token: grant_type=password (client_id, client_secret, username, password) or
 *   client_credentials; answers access_token, instance_url (this server), id, token_type, issued_at, signature;
 *   wrong credentials: 400 {"error":"invalid_grant","error_description":"authentication failure"}.
 * - /services/data/vXX.X/sobjects/User (POST), /sobjects/User/{Id} (GET, PATCH, DELETE: refused, Salesforce
 *   never deletes users), /sobjects/User/{Id}/password (POST), /query?q=SOQL and /query/{locator} (paging by
 *   nextRecordsUrl). Errors are Salesforce's array [{ message, errorCode, fields }].
 * - Bearer tokens checked (401 INVALID_SESSION_ID); expireSessions() revokes them all.
 * - Faults: inject() answers the next matching requests with any status/body/headers; down() resets every
 *   connection.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeUser {
  Id: string;
  Username: string;
  LastName: string;
  FirstName?: string | null;
  Email: string;
  Alias: string;
  IsActive: boolean;
  ProfileId: string;
  TimeZoneSidKey: string;
  LocaleSidKey: string;
  EmailEncodingKey: string;
  LanguageLocaleKey: string;
  [field: string]: unknown;
}

export interface Fault {
  method?: string;
  /** Matched against the path (without query string). */
  path?: RegExp;
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** How many matching requests it answers (default 1). */
  times?: number;
}

export interface FakeSalesforceOptions {
  clientId?: string;
  clientSecret?: string;
  username?: string;
  /** The password the token endpoint expects (password + security token, as Salesforce checks it). */
  password?: string;
  /** Records per query page (Salesforce: 2000 by default). */
  pageSize?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: string;
  authorization?: string | undefined;
  body: string;
}

const REQUIRED = ['Username', 'LastName', 'Email', 'Alias', 'TimeZoneSidKey', 'LocaleSidKey', 'EmailEncodingKey', 'LanguageLocaleKey', 'ProfileId'];
const FIELDS = new Set([
  'Id', 'Username', 'LastName', 'FirstName', 'Email', 'Alias', 'IsActive', 'ProfileId', 'TimeZoneSidKey', 'LocaleSidKey',
  'EmailEncodingKey', 'LanguageLocaleKey', 'Title', 'Department', 'EmployeeNumber', 'FederationIdentifier', 'CommunityNickname',
]);
const ORG_ID = '00D5g000004XyZaEAK';
const API_USER_ID = '0055g00000ApiUsrAAA';

type SfError = { message: string; errorCode: string; fields?: string[] };
class SfHttpError extends Error {
  constructor(
    readonly status: number,
    readonly errors: SfError[],
  ) {
    super(errors[0]?.message);
  }
}
const sfError = (status: number, errorCode: string, message: string, fields?: string[]) =>
  new SfHttpError(status, [{ message, errorCode, ...(fields && { fields }) }]);

export class FakeSalesforce {
  readonly users = new Map<string, FakeUser>();
  readonly passwords = new Map<string, string>();
  readonly requests: RecordedRequest[] = [];
  readonly options: Required<FakeSalesforceOptions>;
  private readonly tokens = new Set<string>();
  private readonly faults: Fault[] = [];
  private readonly cursors = new Map<string, { records: Record<string, unknown>[]; offset: number }>();
  private isDown = false;
  private server!: http.Server;
  private idCounter = 0;
  loginCount = 0;
  baseUrl = '';

  constructor(options: FakeSalesforceOptions = {}) {
    this.options = {
      clientId: options.clientId ?? '3MVG9fakeClientId',
      clientSecret: options.clientSecret ?? 'fake-client-secret',
      username: options.username ?? 'integration@acme.example',
      password: options.password ?? 'Passw0rd!TOKEN123',
      pageSize: options.pageSize ?? 2000,
    };
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Revokes every access token: the next API call answers 401 INVALID_SESSION_ID. */
  expireSessions(): void {
    this.tokens.clear();
  }

  inject(fault: Fault): void {
    this.faults.push({ times: 1, ...fault });
  }

  /** Every connection is reset at once, as when the host is unreachable. */
  down(): void {
    this.isDown = true;
  }

  up(): void {
    this.isDown = false;
  }

  /** Adds a user directly, as if an admin created it in Salesforce. */
  seed(fields: Partial<FakeUser> & { Username: string }): FakeUser {
    const user: FakeUser = {
      Id: this.newId('005'),
      LastName: 'Seeded',
      Email: 'seeded@acme.example',
      Alias: 'seeded',
      IsActive: true,
      ProfileId: '00e5g000001AbCdAAK',
      TimeZoneSidKey: 'America/Los_Angeles',
      LocaleSidKey: 'en_US',
      EmailEncodingKey: 'UTF-8',
      LanguageLocaleKey: 'en_US',
      ...fields,
    };
    this.users.set(user.Id, user);
    return user;
  }

  findByUsername(username: string): FakeUser | undefined {
    return [...this.users.values()].find((u) => u.Username.toLowerCase() === username.toLowerCase());
  }

  private newId(prefix: string): string {
    this.idCounter += 1;
    // 18 characters, like Salesforce's case-safe ids.
    return `${prefix}5g${String(this.idCounter).padStart(8, '0')}${crypto.randomBytes(3).toString('hex').toUpperCase().slice(0, 5)}`;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.isDown) {
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', this.baseUrl);
      const body = Buffer.concat(chunks).toString('utf8');
      const method = req.method ?? 'GET';
      this.requests.push({ method, path: url.pathname, query: url.search, authorization: req.headers.authorization, body });
      const send = (status: number, payload?: unknown, headers: Record<string, string> = {}) => {
        if (payload === undefined) {
          res.writeHead(status, headers).end();
          return;
        }
        const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
        res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', ...headers }).end(text);
      };
      const fault = this.faults.find((f) => (!f.method || f.method === method) && (!f.path || f.path.test(url.pathname)));
      if (fault) {
        fault.times = (fault.times ?? 1) - 1;
        if (fault.times <= 0) this.faults.splice(this.faults.indexOf(fault), 1);
        send(fault.status, fault.body, fault.headers);
        return;
      }
      try {
        const out = this.route(method, url, body, req.headers.authorization);
        send(out.status, out.body);
      } catch (err) {
        if (err instanceof SfHttpError) send(err.status, err.errors);
        else send(500, [{ message: String(err), errorCode: 'UNKNOWN_EXCEPTION' }]);
      }
    });
  }

  private route(method: string, url: URL, body: string, authorization: string | undefined): { status: number; body?: unknown } {
    if (url.pathname === '/services/oauth2/token' && method === 'POST') return this.token(new URLSearchParams(body));
    const m = /^\/services\/data\/v(\d+\.\d)(\/.*)$/.exec(url.pathname);
    if (!m) throw sfError(404, 'NOT_FOUND', 'The requested resource does not exist');
    const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    if (!token || !this.tokens.has(token)) throw sfError(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
    const version = m[1]!;
    const rest = m[2]!;
    const json = () => {
      try {
        return JSON.parse(body) as Record<string, unknown>;
      } catch {
        throw sfError(400, 'JSON_PARSER_ERROR', 'Unexpected character in the request body');
      }
    };

    if (rest === '/sobjects/User' && method === 'POST') return { status: 201, body: this.create(json()) };
    const one = /^\/sobjects\/User\/([^/]+)(\/password)?$/.exec(rest);
    if (one) {
      const id = one[1]!;
      const user = this.users.get(id);
      if (!user) throw sfError(404, 'NOT_FOUND', 'The requested resource does not exist');
      if (one[2]) {
        if (method !== 'POST') throw sfError(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${method}' not allowed. Allowed are POST`);
        const pw = json().NewPassword;
        if (typeof pw !== 'string' || pw.length < 8) throw sfError(400, 'INVALID_NEW_PASSWORD', 'Your password must be at least 8 characters long.');
        this.passwords.set(id, pw);
        return { status: 204 };
      }
      if (method === 'GET') return { status: 200, body: { attributes: { type: 'User', url: `/services/data/v${version}/sobjects/User/${id}` }, ...user } };
      if (method === 'PATCH') {
        this.update(user, json());
        return { status: 204 };
      }
      if (method === 'DELETE') throw sfError(400, 'INSUFFICIENT_ACCESS_OR_READONLY', 'Users cannot be deleted; deactivate them instead (IsActive = false)');
      throw sfError(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${method}' not allowed. Allowed are GET,PATCH`);
    }
    if (rest === '/query' && method === 'GET') return { status: 200, body: this.query(url.searchParams.get('q') ?? '', version) };
    const more = /^\/query\/([^/]+)$/.exec(rest);
    if (more && method === 'GET') return { status: 200, body: this.page(more[1]!, version) };
    throw sfError(404, 'NOT_FOUND', 'The requested resource does not exist');
  }

  private token(params: URLSearchParams): { status: number; body: unknown } {
    const o = this.options;
    const grant = params.get('grant_type');
    if (grant !== 'password' && grant !== 'client_credentials') {
      return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'grant type not supported' } };
    }
    if (params.get('client_id') !== o.clientId) return { status: 400, body: { error: 'invalid_client_id', error_description: 'client identifier invalid' } };
    if (params.get('client_secret') !== o.clientSecret) return { status: 400, body: { error: 'invalid_client', error_description: 'invalid client credentials' } };
    if (grant === 'password' && (params.get('username') !== o.username || params.get('password') !== o.password)) {
      return { status: 400, body: { error: 'invalid_grant', error_description: 'authentication failure' } };
    }
    const accessToken = `${ORG_ID}!${crypto.randomBytes(24).toString('base64url')}`;
    this.tokens.add(accessToken);
    this.loginCount += 1;
    const issuedAt = String(Date.now());
    return {
      status: 200,
      body: {
        access_token: accessToken,
        instance_url: this.baseUrl,
        id: `${this.baseUrl}/id/${ORG_ID}/${API_USER_ID}`,
        token_type: 'Bearer',
        issued_at: issuedAt,
        signature: crypto.createHmac('sha256', o.clientSecret).update(`${this.baseUrl}/id/${ORG_ID}/${API_USER_ID}${issuedAt}`).digest('base64'),
      },
    };
  }

  private validateFields(fields: Record<string, unknown>): void {
    for (const k of Object.keys(fields)) {
      if (!FIELDS.has(k)) throw sfError(400, 'INVALID_FIELD', `No such column '${k}' on sobject of type User`, [k]);
    }
    if (typeof fields.Alias === 'string' && fields.Alias.length > 8) {
      throw sfError(400, 'STRING_TOO_LONG', `Alias: data value too large: ${fields.Alias} (max length=8)`, ['Alias']);
    }
    if (typeof fields.Username === 'string' && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(fields.Username)) {
      throw sfError(400, 'INVALID_NEW_USERNAME', 'Username: The username must be in the form of an email address (for example, john@acme.com)', ['Username']);
    }
    if (typeof fields.Username === 'string') {
      const other = this.findByUsername(fields.Username);
      if (other && other.Id !== fields.Id) {
        throw sfError(400, 'DUPLICATE_USERNAME', `Duplicate Username.<br>The username already exists in this or another Salesforce organization.`, ['Username']);
      }
    }
  }

  private create(fields: Record<string, unknown>): unknown {
    if ('Id' in fields) throw sfError(400, 'INVALID_FIELD_FOR_INSERT_UPDATE', 'Unable to create/update fields: Id.', ['Id']);
    const missing = REQUIRED.filter((k) => fields[k] === undefined || fields[k] === null || fields[k] === '');
    if (missing.length > 0) throw sfError(400, 'REQUIRED_FIELD_MISSING', `Required fields are missing: [${missing.join(', ')}]`, missing);
    this.validateFields(fields);
    const user = { IsActive: true, ...fields, Id: this.newId('005') } as FakeUser;
    this.users.set(user.Id, user);
    return { id: user.Id, success: true, errors: [] };
  }

  private update(user: FakeUser, fields: Record<string, unknown>): void {
    if ('Id' in fields) throw sfError(400, 'INVALID_FIELD_FOR_INSERT_UPDATE', 'Unable to create/update fields: Id.', ['Id']);
    const emptied = REQUIRED.filter((k) => k in fields && (fields[k] === null || fields[k] === ''));
    if (emptied.length > 0) throw sfError(400, 'REQUIRED_FIELD_MISSING', `Required fields are missing: [${emptied.join(', ')}]`, emptied);
    this.validateFields({ ...fields, Id: user.Id });
    Object.assign(user, fields);
  }

  private query(soql: string, version: string): unknown {
    const q = parseSoql(soql);
    let rows = [...this.users.values()].filter((u) => !q.where || evaluate(q.where, u));
    if (q.orderBy) {
      const f = q.orderBy.field;
      const key = (u: FakeUser) => (typeof u[f] === 'string' ? u[f] : JSON.stringify(u[f] ?? ''));
      rows.sort((a, b) => key(a).localeCompare(key(b)) * (q.orderBy!.desc ? -1 : 1));
    }
    if (q.limit !== undefined) rows = rows.slice(0, q.limit);
    const records = rows.map((u) => {
      const r: Record<string, unknown> = { attributes: { type: 'User', url: `/services/data/v${version}/sobjects/User/${u.Id}` } };
      for (const f of q.fields) r[f] = u[f] ?? null;
      return r;
    });
    const locator = `01g5g${crypto.randomBytes(6).toString('hex').toUpperCase()}`;
    this.cursors.set(locator, { records, offset: 0 });
    return this.page(`${locator}-0`, version);
  }

  private page(locatorWithOffset: string, version: string): unknown {
    const m = /^(.+)-(\d+)$/.exec(locatorWithOffset);
    const cursor = m ? this.cursors.get(m[1]!) : undefined;
    if (!m || !cursor) throw sfError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
    const offset = Number(m[2]);
    const records = cursor.records.slice(offset, offset + this.options.pageSize);
    const next = offset + records.length;
    const done = next >= cursor.records.length;
    return {
      totalSize: cursor.records.length,
      done,
      ...(!done && { nextRecordsUrl: `/services/data/v${version}/query/${m[1]}-${next}` }),
      records,
    };
  }
}

// ---------- a small SOQL subset: SELECT f, ... FROM User [WHERE cond] [ORDER BY f [ASC|DESC]] [LIMIT n] ----------

type Value = string | number | boolean | null;
type Cond =
  | { kind: 'cmp'; field: string; op: '=' | '!=' | 'LIKE'; value: Value }
  | { kind: 'and' | 'or'; left: Cond; right: Cond }
  | { kind: 'not'; inner: Cond };
interface SoqlQuery {
  fields: string[];
  where?: Cond | undefined;
  orderBy?: { field: string; desc: boolean } | undefined;
  limit?: number | undefined;
}
type Token = { t: 'word'; v: string } | { t: 'str'; v: string } | { t: 'num'; v: number } | { t: 'sym'; v: string };

const malformed = (why: string) => sfError(400, 'MALFORMED_QUERY', why);

function tokenize(soql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < soql.length) {
    const c = soql[i]!;
    if (/\s/.test(c)) {
      i += 1;
    } else if (c === "'") {
      // SOQL and SOSL Reference, "Quoted String Escape Sequences"; \% and \_ are kept for LIKE.
      let v = '';
      i += 1;
      for (;;) {
        if (i >= soql.length) throw malformed('unterminated string literal');
        const d = soql[i]!;
        if (d === "'") {
          i += 1;
          break;
        }
        if (d === '\\') {
          const e = soql[i + 1];
          const map: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', '"': '"', "'": "'", '\\': '\\' };
          if (e !== undefined && e in map) v += map[e];
          else if (e === '%' || e === '_') v += `\\${e}`;
          else throw malformed(`invalid escape sequence \\${e ?? ''}`);
          i += 2;
        } else {
          v += d;
          i += 1;
        }
      }
      out.push({ t: 'str', v });
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9]+/.exec(soql.slice(i))![0];
      out.push({ t: 'num', v: Number(m) });
      i += m.length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(soql.slice(i))![0];
      out.push({ t: 'word', v: m });
      i += m.length;
    } else if (soql.startsWith('!=', i) || soql.startsWith('<>', i)) {
      out.push({ t: 'sym', v: '!=' });
      i += 2;
    } else if ('=,()'.includes(c)) {
      out.push({ t: 'sym', v: c });
      i += 1;
    } else {
      throw malformed(`unexpected character '${c}'`);
    }
  }
  return out;
}

export function parseSoql(soql: string): SoqlQuery {
  const toks = tokenize(soql);
  let p = 0;
  const peekWord = (w: string) => toks[p]?.t === 'word' && (toks[p]!.v as string).toUpperCase() === w;
  const expectWord = (w: string) => {
    if (!peekWord(w)) throw malformed(`expected ${w}`);
    p += 1;
  };
  const field = () => {
    const tok = toks[p];
    if (tok?.t !== 'word' || !FIELDS.has(tok.v)) throw malformed(`unknown field ${tok ? String(tok.v) : '<end>'}`);
    p += 1;
    return tok.v;
  };
  expectWord('SELECT');
  const fields = [field()];
  while (toks[p]?.t === 'sym' && toks[p]!.v === ',') {
    p += 1;
    fields.push(field());
  }
  expectWord('FROM');
  expectWord('USER');
  const value = (): Value => {
    const tok = toks[p++];
    if (!tok) throw malformed('expected a value');
    if (tok.t === 'str' || tok.t === 'num') return tok.v;
    if (tok.t === 'word' && /^(true|false|null)$/i.test(tok.v)) return tok.v.toLowerCase() === 'null' ? null : tok.v.toLowerCase() === 'true';
    throw malformed(`unexpected ${String(tok.v)}`);
  };
  const primary = (): Cond => {
    if (peekWord('NOT')) {
      p += 1;
      return { kind: 'not', inner: primary() };
    }
    if (toks[p]?.t === 'sym' && toks[p]!.v === '(') {
      p += 1;
      const c = or();
      if (!(toks[p]?.t === 'sym' && toks[p]!.v === ')')) throw malformed('expected )');
      p += 1;
      return c;
    }
    const f = field();
    const tok = toks[p++];
    let op: '=' | '!=' | 'LIKE';
    if (tok?.t === 'sym' && (tok.v === '=' || tok.v === '!=')) op = tok.v;
    else if (tok?.t === 'word' && tok.v.toUpperCase() === 'LIKE') op = 'LIKE';
    else throw malformed('expected an operator');
    return { kind: 'cmp', field: f, op, value: value() };
  };
  const and = (): Cond => {
    let c = primary();
    while (peekWord('AND')) {
      p += 1;
      c = { kind: 'and', left: c, right: primary() };
    }
    return c;
  };
  const or = (): Cond => {
    let c = and();
    while (peekWord('OR')) {
      p += 1;
      c = { kind: 'or', left: c, right: and() };
    }
    return c;
  };
  const q: SoqlQuery = { fields };
  if (peekWord('WHERE')) {
    p += 1;
    q.where = or();
  }
  if (peekWord('ORDER')) {
    p += 1;
    expectWord('BY');
    const f = field();
    let desc = false;
    if (peekWord('ASC') || peekWord('DESC')) desc = (toks[p++]!.v as string).toUpperCase() === 'DESC';
    q.orderBy = { field: f, desc };
  }
  if (peekWord('LIMIT')) {
    p += 1;
    const tok = toks[p++];
    if (tok?.t !== 'num') throw malformed('expected a number after LIMIT');
    q.limit = tok.v;
  }
  if (p < toks.length) throw malformed(`unexpected token '${String(toks[p]!.v)}'`);
  return q;
}

function likeRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern[i]!;
    if (c === '\\' && (pattern[i + 1] === '%' || pattern[i + 1] === '_')) {
      re += pattern[i + 1];
      i += 1;
    } else if (c === '%') re += '.*';
    else if (c === '_') re += '.';
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'is');
}

function evaluate(c: Cond, row: Record<string, unknown>): boolean {
  switch (c.kind) {
    case 'and':
      return evaluate(c.left, row) && evaluate(c.right, row);
    case 'or':
      return evaluate(c.left, row) || evaluate(c.right, row);
    case 'not':
      return !evaluate(c.inner, row);
    case 'cmp': {
      const actual = row[c.field] ?? null;
      // SOQL compares text case-insensitively.
      const norm = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v);
      if (c.op === 'LIKE') return typeof actual === 'string' && typeof c.value === 'string' && likeRegExp(c.value).test(actual);
      const eq = norm(actual) === norm(c.value);
      return c.op === '=' ? eq : !eq;
    }
  }
}

export async function startFakeSalesforce(options?: FakeSalesforceOptions): Promise<FakeSalesforce> {
  return new FakeSalesforce(options).start();
}
