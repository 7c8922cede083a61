/**
 * Every setting of the server, parsed and validated in one place. Nothing else reads `process.env`
 * (workflows never do: they are deterministic and get what they need as input).
 *
 * Two modes, chosen by configuration alone:
 * - embedded (default): no `DATABASE_URL` -> an embedded PostgreSQL (PGlite) under `DATA_DIR`;
 *   no `TEMPORAL_ADDRESS` -> a Temporal dev server started from the project-local CLI.
 * - production: `DATABASE_URL` and `TEMPORAL_ADDRESS` point at real services and only the api and the
 *   worker run.
 */
import os from 'node:os';
import path from 'node:path';
import type { PasswordPolicy } from './crypto/password-policy.js';
import { z } from 'zod';

export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly code = 'ERR_CONFIG';
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
  }
}

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const port = z.coerce
  .number({ message: 'expected a port number' })
  .int()
  .min(0)
  .max(65535, { message: 'expected a port number between 0 and 65535' });

const positiveInt = z.coerce.number({ message: 'expected a number' }).int().positive();

const url = (protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `expected a URL (${protocols.join(' or ')})` },
  );

/** `host:port`, as the Temporal SDK expects it. */
const hostPort = z.string().regex(/^[^\s:/]+:\d{1,5}$/, { message: 'expected host:port, e.g. localhost:7233' });

/**
 * Encryption keyring: `kid:base64key[,kid:base64key...]`. The first key encrypts; every key decrypts, so a
 * key can be rotated by putting the new one first and keeping the old one until nothing uses it.
 */
const keyring = z.string().transform((v, ctx) => {
  const keys: { id: string; key: Buffer }[] = [];
  for (const part of v.split(',').map((s) => s.trim()).filter(Boolean)) {
    const sep = part.indexOf(':');
    const id = sep > 0 ? part.slice(0, sep) : '';
    const key = Buffer.from(sep > 0 ? part.slice(sep + 1) : '', 'base64');
    if (!/^[A-Za-z0-9._-]{1,32}$/.test(id) || key.length !== 32) {
      ctx.addIssue({ code: 'custom', message: 'expected kid:base64 with a 32-byte (AES-256) key for every entry' });
      return z.NEVER;
    }
    keys.push({ id, key });
  }
  if (keys.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'expected at least one key' });
    return z.NEVER;
  }
  return keys;
});

/** Parses a keyring in the ENCRYPTION_KEYS form (the launcher hands it to its children in that form too). */
export function parseKeyring(value: string): { id: string; key: Buffer }[] {
  const parsed = keyring.safeParse(value);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => `encryption keys: ${i.message}`));
  return parsed.data;
}

/**
 * Settings that are secrets: the launcher keeps them out of its children's environment (readable in
 * /proc/<pid>/environ) and hands them over on a private pipe instead (src/runtime/secrets.ts).
 */
export const SECRET_SETTINGS = ['ADMIN_PASSWORD', 'ENCRYPTION_KEYS'] as const;

const envSchema = z.object({
  DATA_DIR: z.string().min(1).default('.data'),
  /**
   * embedded | production; by default production when DATABASE_URL and TEMPORAL_ADDRESS are both set. The
   * launcher sets it for its children, which receive the embedded services' URLs.
   */
  DEPLOYMENT_MODE: z.enum(['embedded', 'production']).optional(),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),

  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: port.default(8080),
  /** Base URL clients use to reach the API (SCIM `meta.location`); defaults to http://localhost:API_PORT. */
  PUBLIC_BASE_URL: url(['http:', 'https:']).optional(),

  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  DATABASE_POOL_SIZE: positiveInt.default(10),
  /**
   * How long the api waits for a connection of its pool before the request is answered 503 + Retry-After (the
   * database is saturated). node-postgres waits without end by default: a saturated database would hold every
   * request until the client gave up. A connection of this server is held for milliseconds (a query, a short
   * transaction), so 10 s (Prisma's own pool_timeout before driver adapters) is far past any healthy wait, also on the
   * embedded database, whose one session makes queries queue behind each other on a loaded machine. The worker's
   * activities wait as long as their own Temporal timeouts allow, and are retried.
   */
  DATABASE_POOL_TIMEOUT_MS: positiveInt.max(600_000).default(10_000),
  EMBEDDED_PG_PORT: port.default(5433),

  TEMPORAL_ADDRESS: hostPort.optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('provisioning'),
  TEMPORAL_TLS: bool.default(false),
  TEMPORAL_TLS_CERT: z.string().optional(),
  TEMPORAL_TLS_KEY: z.string().optional(),
  TEMPORAL_TLS_CA: z.string().optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().optional(),
  TEMPORAL_API_KEY: z.string().optional(),
  /** Where operators find the Temporal Web UI (printed at start; the dev server's UI by default). */
  TEMPORAL_UI_URL: url(['http:', 'https:']).optional(),
  /**
   * Where the api finds the Temporal Web UI it serves at /temporal-ui/ to signed-in operators (the launcher sets
   * it in embedded mode, to the dev server's UI on loopback). Unset: the api serves no UI.
   */
  TEMPORAL_UI_UPSTREAM: url(['http:']).optional(),
  TEMPORAL_CLI_PATH: z.string().optional(),
  TEMPORAL_DEV_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.default(8233),

  ADMIN_USERNAME: z.string().min(1).default('admin'),
  ADMIN_PASSWORD: z.string().min(8, { message: 'must be at least 8 characters' }).optional(),
  /** How long an operator stays signed in on the sign-in page (/login): the Temporal UI and its codec. */
  OPERATOR_SESSION_TTL_MINUTES: positiveInt.max(7 * 24 * 60).default(8 * 60),
  ENCRYPTION_KEYS: keyring.optional(),
  /**
   * Set by the launcher for its worker and api: the file descriptor on which it sends them the admin password
   * and the keyring (one JSON message), so that these are not in their environment.
   */
  SECRETS_FD: z.coerce.number({ message: 'expected a file descriptor number' }).int().min(3).optional(),

  /** A prebuilt workflow bundle (tests and container images build it once); unset = bundle at start. */
  WORKFLOW_BUNDLE: z.string().optional(),

  /** How long a request waits for its blocking outbound targets before answering without them. */
  BLOCKING_TIMEOUT_MS: positiveInt.default(30_000),
  /**
   * How long a SCIM write waits for its workflow's result before answering 202 Accepted (the change goes on);
   * unset: BLOCKING_TIMEOUT_MS + 10 s, so a request with blocking targets is answered by its workflow.
   */
  REQUEST_TIMEOUT_MS: positiveInt.optional(),
  /**
   * Backpressure on writes (src/http/admission.ts): how many writes one api process runs at once: SCIM 2.0 and 1.1
   * writes, a /Bulk request counting as many as it has operations (up to half the bound), the admin API's writes that
   * start workflows. A write keeps its place until its workflow finished or its REQUEST_TIMEOUT_MS passed, also when
   * it was answered 202 before, so the bound is also what this api may have queued in the engine. Beyond it, a write
   * waits up to WRITE_QUEUE_TIMEOUT_MS, then gets 429 Too Many Requests with Retry-After and nothing applied.
   *
   * Default: 4 per connection of the api's pool (DATABASE_POOL_SIZE), at most 16 per core. A write uses the pool
   * only for the checks before its workflow starts and the answer after it (a few ms of its ~100 ms), so 4 writes
   * share a connection with little waiting; the engine's ceiling is reached well below it (ceiling x latency: 70/s
   * x 0.3 s is about 21 writes in flight on a 2-core machine), and past it more writes only queue inside the engine,
   * where no client can be told to come back later. Reads are never counted or refused.
   */
  WRITE_CONCURRENCY: positiveInt.max(100_000).optional(),
  /**
   * The longest a write waits for a place before its 429: long enough to smooth a burst (a write lasts ~100 ms),
   * short enough that a client is told at once to come back later instead of hanging. 0: refuse at once.
   */
  WRITE_QUEUE_TIMEOUT_MS: z.coerce.number({ message: 'expected a number' }).int().min(0).max(60_000).default(1000),
  /**
   * How long a write waits for the engine when it is saturated: a start it has not confirmed by then is 503 with
   * Retry-After and the Idempotency-Key to repeat it with (it may have been recorded); while the admission bound is
   * full or refusing, a workflow not finished by then is answered 202 Accepted (it goes on, and keeps its place)
   * instead of holding its client up to REQUEST_TIMEOUT_MS (a stopped worker, a target holding every request). A start takes milliseconds when the engine is healthy. Default 5 s (at most half of
   * REQUEST_TIMEOUT_MS); always below REQUEST_TIMEOUT_MS.
   */
  ENGINE_TIMEOUT_MS: positiveInt.max(600_000).optional(),
  /** An idle OutboundFanOut workflow (queues empty) completes after this long; the next event restarts it. */
  OUTBOUND_IDLE_MS: positiveInt.default(5 * 60_000),

  /** Lifetime of access tokens issued at /oauth2/token (client_credentials and password grants). */
  OAUTH_ACCESS_TOKEN_TTL_SECONDS: positiveInt.default(3600),

  /**
   * Password policy for user passwords set through SCIM. The minimum of 5 is WSO2 IS's default
   * (`^[\S]{5,30}$`), which the seed walk-through relies on ("abc123"); raise it for real deployments.
   */
  PASSWORD_MIN_LENGTH: positiveInt.default(5),
  /**
   * log2 of scrypt's N for new password hashes (src/crypto/password.ts). 17 is OWASP's minimum; lower values are
   * for test suites (a start-up warning says so).
   */
  PASSWORD_HASH_COST: z.coerce.number({ message: 'expected a number' }).int().min(10).max(20).default(17),
  PASSWORD_MAX_LENGTH: positiveInt.default(256),
  /** A regular expression every password must match, e.g. (?=.*[0-9])(?=.*[a-z])(?=.*[A-Z]) */
  PASSWORD_PATTERN: z
    .string()
    .refine(
      (v) => {
        try {
          new RegExp(v, 'u');
          return true;
        } catch {
          return false;
        }
      },
      { message: 'must be a valid regular expression' },
    )
    .optional(),
  /** What PASSWORD_PATTERN requires, in words, for error messages. */
  PASSWORD_PATTERN_DESCRIPTION: z.string().optional(),

  /** Custom outbound connectors: comma-separated module paths or package names (src/connectors/registry.ts). */
  CONNECTOR_PLUGINS: z.string().optional(),

  /**
   * Account locking after failed sign-ins (src/security/login-guard.ts), named after WSO2 IS's "Login Attempts
   * Security" connector (account.lock.handler.*) with its defaults: 5 attempts, 5 minutes, factor 2. WSO2 ships
   * it disabled; here it is on, since the password grant and the admin credential face the network.
   */
  ACCOUNT_LOCK_ENABLE: bool.default(true),
  /** account.lock.handler.On.Failure.Max.Attempts: consecutive failures that lock the account. */
  ACCOUNT_LOCK_ON_FAILURE_MAX_ATTEMPTS: z.coerce
    .number()
    .refine((v) => Number.isInteger(v) && v >= 1 && v <= 1000, { message: 'expected a whole number from 1 to 1000' })
    .default(5),
  /** account.lock.handler.Time (minutes in WSO2; seconds here, like every duration of this server): the first lock. */
  ACCOUNT_LOCK_TIME_SECONDS: positiveInt.max(365 * 86_400).default(300),
  /** account.lock.handler.login.fail.timeout.ratio: each further lock lasts this many times the previous one. */
  ACCOUNT_LOCK_LOGIN_FAIL_TIMEOUT_RATIO: z.coerce
    .number()
    .refine((v) => Number.isFinite(v) && v >= 1 && v <= 100, { message: 'expected a number from 1 to 100' })
    .default(2),
  /** Not in WSO2 (its growth has no bound): the longest lock; also how long a quiet failure record is remembered. */
  ACCOUNT_LOCK_MAX_TIME_SECONDS: positiveInt.max(365 * 86_400).default(86_400),
  /** Failed sign-ins one client address may make (per kind: users, operator, clients) within the window. */
  LOGIN_ADDRESS_MAX_FAILURES: z.coerce
    .number()
    .refine((v) => Number.isInteger(v) && v >= 1 && v <= 1_000_000, { message: 'expected a whole number from 1 to 1000000' })
    .default(100),
  LOGIN_ADDRESS_WINDOW_SECONDS: positiveInt.max(86_400).default(300),
  /**
   * How many reverse proxies in front of the api append to X-Forwarded-For; 0 (false): the header is ignored and
   * the client address is the socket's. true = 1.
   */
  TRUST_PROXY: z
    .union([z.enum(['true', 'false']), z.coerce.number().int().min(0).max(10)], { message: 'expected true, false or a number of proxies (0-10)' })
    .transform((v) => (v === 'true' ? 1 : v === 'false' ? 0 : v))
    .default(0),
  /**
   * SCIM filters accept unquoted values (`userName eq alice`), which clients in the field send although RFC 7644
   * §3.4.2.2 quotes strings; false: strictly RFC 7644 (400 invalidFilter). Read by /scim2 and /wso2/scim.
   */
  SCIM_FILTER_LENIENT: bool.default(true),
});

export type Env = z.infer<typeof envSchema>;

export interface TemporalConfig {
  /** Unset: the launcher starts a dev server and fills this in for its children. */
  address: string | undefined;
  namespace: string;
  taskQueue: string;
  tls:
    | false
    | { serverName?: string; ca?: string; clientCert?: string; clientKey?: string };
  apiKey: string | undefined;
  uiUrl: string | undefined;
  /** The UI the api proxies at /temporal-ui/ (embedded mode). */
  uiUpstream: string | undefined;
  cliPath: string | undefined;
  devPort: number;
  uiPort: number;
}

export interface Config {
  mode: 'embedded' | 'production';
  dataDir: string;
  logLevel: Env['LOG_LEVEL'];
  api: { host: string; port: number; publicBaseUrl: string };
  database: { url: string | undefined; poolSize: number; embeddedPort: number; poolTimeoutMs: number };
  temporal: TemporalConfig;
  admin: { username: string; password: string | undefined };
  operatorSessionTtlMinutes: number;
  encryptionKeys: { id: string; key: Buffer }[] | undefined;
  /** Where the launcher's secrets arrive (its children only). */
  secretsFd: number | undefined;
  blockingTimeoutMs: number;
  /** How long the api waits for a write's workflow before answering 202 Accepted. */
  requestTimeoutMs: number;
  /** Backpressure on writes (src/http/admission.ts). */
  writes: WritesConfig;
  outboundIdleMs: number;
  workflowBundle: string | undefined;
  oauth: { accessTokenTtlSeconds: number };
  passwordPolicy: PasswordPolicy;
  /** log2(N) of scrypt for new password hashes. */
  passwordHashCost: number;
  connectorPlugins: string[];
  loginSecurity: LoginSecurityConfig;
  scim: { filterLenient: boolean };
}

/** Backpressure on writes: WRITE_CONCURRENCY, WRITE_QUEUE_TIMEOUT_MS, ENGINE_TIMEOUT_MS. */
export interface WritesConfig {
  /** Writes (weighted) one api process runs at once. */
  concurrency: number;
  /** The longest wait for a place before 429. */
  queueTimeoutMs: number;
  /** The longest wait for the engine to confirm a start, and for a workflow while the api is saturated. */
  engineTimeoutMs: number;
}

/** WRITE_CONCURRENCY's default: 4 writes per connection of the api's pool, at most 16 per core (see envSchema). */
export function defaultWriteConcurrency(poolSize: number, cores: number = os.availableParallelism()): number {
  return Math.max(1, Math.min(poolSize * 4, cores * 16));
}

/** Brute-force protection of every sign-in (src/security/login-guard.ts). */
export interface LoginSecurityConfig {
  /** WSO2's account locking; undefined when ACCOUNT_LOCK_ENABLE=false (the address limit still applies). */
  accountLock: { maxFailedAttempts: number; lockSeconds: number; incrementFactor: number; maxLockSeconds: number } | undefined;
  addressLimit: { maxFailures: number; windowSeconds: number };
  /** Reverse proxies whose X-Forwarded-For entries are believed (src/security/client-address.ts). */
  trustProxyHops: number;
}

/** Admin passwords seen in examples and defaults, refused as if unset. */
const PLACEHOLDER_PASSWORDS = new Set(['change-me-please', 'changeme', 'change-me', 'password', 'admin', 'administrator', 'secret', '12345678', 'password1']);

/** Parses and validates settings; throws ConfigError listing every bad value at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings count as unset, as in most twelve-factor tooling.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  const issues: string[] = [];
  if ((e.TEMPORAL_TLS_CERT === undefined) !== (e.TEMPORAL_TLS_KEY === undefined)) {
    issues.push('TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY: set both for mTLS, or neither');
  }
  const production = e.DEPLOYMENT_MODE ? e.DEPLOYMENT_MODE === 'production' : e.DATABASE_URL !== undefined && e.TEMPORAL_ADDRESS !== undefined;
  // A child of the launcher gets them from the launcher (SECRETS_FD), which had to have them itself.
  if (production && e.ADMIN_PASSWORD === undefined && e.SECRETS_FD === undefined) {
    issues.push('ADMIN_PASSWORD: required when DATABASE_URL and TEMPORAL_ADDRESS are set (production mode)');
  }
  if (production && e.ENCRYPTION_KEYS === undefined && e.SECRETS_FD === undefined) {
    issues.push('ENCRYPTION_KEYS: required in production mode (e.g. k1:$(openssl rand -base64 32))');
  }
  // Secrets that are set but are no secret: examples from documentation, and keys a placeholder would give (the same
  // byte 32 times, like the all-zero key an example file carries). In any mode: embedded mode generates real ones.
  if (e.ADMIN_PASSWORD !== undefined && PLACEHOLDER_PASSWORDS.has(e.ADMIN_PASSWORD.toLowerCase())) {
    issues.push('ADMIN_PASSWORD: is a well-known placeholder; set a real secret (e.g. openssl rand -base64 24)');
  }
  if (e.ENCRYPTION_KEYS?.some((k) => k.key.every((b) => b === k.key[0]))) {
    issues.push('ENCRYPTION_KEYS: a key is the same byte repeated (a placeholder); generate one with openssl rand -base64 32');
  }
  if (e.PASSWORD_MIN_LENGTH > e.PASSWORD_MAX_LENGTH) issues.push('PASSWORD_MIN_LENGTH: must not exceed PASSWORD_MAX_LENGTH');
  if (e.ACCOUNT_LOCK_TIME_SECONDS > e.ACCOUNT_LOCK_MAX_TIME_SECONDS) {
    issues.push('ACCOUNT_LOCK_TIME_SECONDS: must not exceed ACCOUNT_LOCK_MAX_TIME_SECONDS');
  }
  if (e.REQUEST_TIMEOUT_MS !== undefined && e.REQUEST_TIMEOUT_MS <= e.BLOCKING_TIMEOUT_MS) {
    // Otherwise every request with a blocking target would answer 202 before its workflow could answer it.
    issues.push(`REQUEST_TIMEOUT_MS: must be greater than BLOCKING_TIMEOUT_MS (${e.BLOCKING_TIMEOUT_MS})`);
  }
  const requestTimeoutMs = e.REQUEST_TIMEOUT_MS ?? e.BLOCKING_TIMEOUT_MS + 10_000;
  if (e.ENGINE_TIMEOUT_MS !== undefined && e.ENGINE_TIMEOUT_MS >= requestTimeoutMs) {
    // Otherwise the bound would never cut a wait short: the request's own deadline comes first.
    issues.push(`ENGINE_TIMEOUT_MS: must be less than REQUEST_TIMEOUT_MS (${requestTimeoutMs})`);
  }
  if (issues.length > 0) throw new ConfigError(issues);

  const tlsWanted = e.TEMPORAL_TLS || e.TEMPORAL_TLS_CERT !== undefined || e.TEMPORAL_API_KEY !== undefined;
  return {
    mode: production ? 'production' : 'embedded',
    dataDir: path.resolve(e.DATA_DIR),
    logLevel: e.LOG_LEVEL,
    api: {
      host: e.API_HOST,
      port: e.API_PORT,
      publicBaseUrl: (e.PUBLIC_BASE_URL ?? `http://localhost:${e.API_PORT}`).replace(/\/+$/, ''),
    },
    database: { url: e.DATABASE_URL, poolSize: e.DATABASE_POOL_SIZE, embeddedPort: e.EMBEDDED_PG_PORT, poolTimeoutMs: e.DATABASE_POOL_TIMEOUT_MS },
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      tls: tlsWanted
        ? {
            ...(e.TEMPORAL_TLS_SERVER_NAME !== undefined && { serverName: e.TEMPORAL_TLS_SERVER_NAME }),
            ...(e.TEMPORAL_TLS_CA !== undefined && { ca: e.TEMPORAL_TLS_CA }),
            ...(e.TEMPORAL_TLS_CERT !== undefined && { clientCert: e.TEMPORAL_TLS_CERT }),
            ...(e.TEMPORAL_TLS_KEY !== undefined && { clientKey: e.TEMPORAL_TLS_KEY }),
          }
        : false,
      apiKey: e.TEMPORAL_API_KEY,
      uiUrl: e.TEMPORAL_UI_URL,
      uiUpstream: e.TEMPORAL_UI_UPSTREAM,
      cliPath: e.TEMPORAL_CLI_PATH,
      devPort: e.TEMPORAL_DEV_PORT,
      uiPort: e.TEMPORAL_UI_PORT,
    },
    admin: { username: e.ADMIN_USERNAME, password: e.ADMIN_PASSWORD },
    operatorSessionTtlMinutes: e.OPERATOR_SESSION_TTL_MINUTES,
    encryptionKeys: e.ENCRYPTION_KEYS,
    secretsFd: e.SECRETS_FD,
    blockingTimeoutMs: e.BLOCKING_TIMEOUT_MS,
    requestTimeoutMs,
    writes: {
      concurrency: e.WRITE_CONCURRENCY ?? defaultWriteConcurrency(e.DATABASE_POOL_SIZE),
      queueTimeoutMs: e.WRITE_QUEUE_TIMEOUT_MS,
      engineTimeoutMs: e.ENGINE_TIMEOUT_MS ?? Math.min(5000, Math.floor(requestTimeoutMs / 2)),
    },
    outboundIdleMs: e.OUTBOUND_IDLE_MS,
    workflowBundle: e.WORKFLOW_BUNDLE,
    oauth: { accessTokenTtlSeconds: e.OAUTH_ACCESS_TOKEN_TTL_SECONDS },
    passwordHashCost: e.PASSWORD_HASH_COST,
    connectorPlugins: (e.CONNECTOR_PLUGINS ?? '').split(',').map((s) => s.trim()).filter((s) => s !== ''),
    scim: { filterLenient: e.SCIM_FILTER_LENIENT },
    passwordPolicy: {
      minLength: e.PASSWORD_MIN_LENGTH,
      maxLength: e.PASSWORD_MAX_LENGTH,
      pattern: e.PASSWORD_PATTERN,
      patternDescription: e.PASSWORD_PATTERN_DESCRIPTION,
    },
    loginSecurity: {
      accountLock: e.ACCOUNT_LOCK_ENABLE
        ? {
            maxFailedAttempts: e.ACCOUNT_LOCK_ON_FAILURE_MAX_ATTEMPTS,
            lockSeconds: e.ACCOUNT_LOCK_TIME_SECONDS,
            incrementFactor: e.ACCOUNT_LOCK_LOGIN_FAIL_TIMEOUT_RATIO,
            maxLockSeconds: e.ACCOUNT_LOCK_MAX_TIME_SECONDS,
          }
        : undefined,
      addressLimit: { maxFailures: e.LOGIN_ADDRESS_MAX_FAILURES, windowSeconds: e.LOGIN_ADDRESS_WINDOW_SECONDS },
      trustProxyHops: e.TRUST_PROXY,
    },
  };
}
