/**
 * What a database error means for the caller, decided in one place.
 *
 * With Prisma 7 and `@prisma/adapter-pg` (seen on PGlite and PostgreSQL), an error PostgreSQL raises reaches us as a
 * `PrismaClientKnownRequestError` whose `meta.driverAdapterError.cause.originalCode` is the SQLSTATE; its Prisma
 * `code` depends on the call, not on the cause: `P2010` for `$queryRaw`/`$executeRaw`, `P2039` ("database error")
 * for most model queries, or a specific code where Prisma knows the kind (`P2002` unique, `P2003` foreign key,
 * `P2011` not null, `P2020` out of range...). A NUL in a text column is SQLSTATE 22021 (`P2039` from a model
 * query, `P2010` from raw SQL), in a JSON column 22P05.
 *
 * Errors that no retry can cure (the data itself is refused) must not be retried: a store activity that threw one
 * would be retried without end and its request never answered. They become a 400 result instead (see
 * {@link refusedValueRejection}). Everything else (connection loss, serialization failures, timeouts) is thrown on
 * and retried.
 */
import { Prisma } from '../generated/prisma/client.js';
import type { ScimRejection } from '../provisioning/types.js';

/** The SQLSTATE of a PostgreSQL error as the driver adapter reports it, if it is one. */
export function sqlStateOf(err: unknown): string | undefined {
  const adapterError =
    err instanceof Prisma.PrismaClientKnownRequestError
      ? (err.meta as { driverAdapterError?: unknown } | undefined)?.driverAdapterError
      : (err as { name?: unknown } | null)?.name === 'DriverAdapterError'
        ? err
        : undefined;
  const cause = (adapterError as { cause?: { originalCode?: unknown; code?: unknown } } | undefined)?.cause;
  const code = cause?.originalCode ?? cause?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** A unique constraint refused the write (Prisma P2002, or SQLSTATE 23505 from raw SQL), e.g. a concurrent insert of the same key. */
export function isUniqueViolation(err: unknown): boolean {
  return (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') || sqlStateOf(err) === '23505';
}

/** Why PostgreSQL refuses a value, by SQLSTATE (PostgreSQL Appendix A), in words that never quote the value. */
const SQLSTATE_REASONS: Record<string, string> = {
  '22001': 'it is longer than the database column allows',
  '22003': 'the number is out of range',
  '22007': 'it is not a valid date or time',
  '22008': 'the date or time is out of range',
  '22021': 'it contains a character the database cannot store (such as NUL, U+0000)',
  '22P02': 'it does not have the form its type requires',
  '22P05': 'it contains a character the database cannot store in JSON (such as NUL, U+0000)',
  '23502': 'a required value is missing',
  '23503': 'it refers to something that does not exist (or no longer exists)',
  '23514': 'it breaks a rule of the database (check constraint)',
};

/** Prisma's own validation codes, raised before or without a SQLSTATE (Prisma's error reference). */
const PRISMA_REASONS: Record<string, string> = {
  P2000: 'it is longer than the database column allows',
  P2005: 'it is not valid for its field',
  P2006: 'it is not valid for its field',
  P2007: 'it does not pass data validation',
  P2011: 'a required value is missing',
  P2012: 'a required value is missing',
  P2019: 'it is not valid input',
  P2020: 'the number is out of range',
  P2023: 'it does not have the form its column requires',
  P2033: 'the number does not fit in 64 bits',
};

/** Conflicts, not refusals: the write may succeed once the other row is gone, and 23505 is SCIM's 409 uniqueness. */
const CONFLICTS = new Set(['23505', '23P01']);

/** SQLSTATEs whose cause is a character PostgreSQL cannot store: the attribute holding one can be named. */
const UNSTORABLE_CHARACTER = new Set(['22021', '22P05']);

/**
 * The path of the first string in `values` that PostgreSQL cannot store (NUL), as a SCIM-like attribute path
 * (`emails[0].value`, `urn:...:User.department`); never the value itself.
 */
function pathOfUnstorable(values: unknown, path = ''): string | undefined {
  if (typeof values === 'string') return values.includes('\u0000') ? path || 'a value' : undefined;
  if (Array.isArray(values)) {
    for (const [i, v] of values.entries()) {
      const found = pathOfUnstorable(v, `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (typeof values === 'object' && values !== null) {
    for (const [k, v] of Object.entries(values)) {
      // Extensions are stored under their schema URN: the URN is the path, `extensions` is storage detail.
      const next = path === '' && k === 'extensions' ? '' : path === '' ? k : `${path}.${k}`;
      const found = pathOfUnstorable(v, next);
      if (found) return found;
    }
  }
  return undefined;
}

/**
 * Why the database refused a value that no retry can make acceptable (SQLSTATE class 22, constraint errors other
 * than conflicts, Prisma's validation codes), or undefined for any other error. `values` (the input that was being
 * written) lets the answer name the attribute that carries an unstorable character; the answer never contains a
 * value, so nothing secret is echoed.
 *
 * @example
 *   refusedValue(err, { userName: 'a', displayName: 'x\u0000' })
 *   // "The database refused the value of displayName: it contains a character the database cannot store (such as NUL, U+0000) (SQLSTATE 22021)"
 */
export function refusedValue(err: unknown, values?: unknown): string | undefined {
  const state = sqlStateOf(err);
  let reason: string | undefined;
  let code: string | undefined;
  if (state !== undefined) {
    if (CONFLICTS.has(state) || !(state.startsWith('22') || state.startsWith('23'))) return undefined;
    reason = SQLSTATE_REASONS[state] ?? (state.startsWith('22') ? 'the database refused it as invalid data' : 'it breaks a rule of the database');
    code = `SQLSTATE ${state}`;
  } else if (err instanceof Prisma.PrismaClientKnownRequestError && PRISMA_REASONS[err.code] !== undefined) {
    reason = PRISMA_REASONS[err.code];
    code = err.code;
  } else {
    return undefined;
  }
  const column = (err as { meta?: { column_name?: unknown } }).meta?.column_name;
  const path = state !== undefined && UNSTORABLE_CHARACTER.has(state) ? pathOfUnstorable(values) : undefined;
  const which = path !== undefined ? `the value of ${path}` : typeof column === 'string' ? `the value of column ${column}` : 'a value';
  return `The database refused ${which}: ${reason} (${code})`;
}

/**
 * {@link refusedValue} as a user store result's rejection: `400 invalidValue` (RFC 7644 §3.12), which ends the
 * request instead of retrying it.
 */
export function refusedValueRejection(err: unknown, values?: unknown): ScimRejection | undefined {
  const detail = refusedValue(err, values);
  return detail === undefined ? undefined : { status: 400, scimType: 'invalidValue', detail };
}
