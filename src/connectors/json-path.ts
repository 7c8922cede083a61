/**
 * Dotted / indexed paths into a JSON object, for connectors that write attribute-mapping targets
 * (src/provisioning/attribute-mapping.ts) into their request body: Google's `name.givenName`,
 * `organizations[0].department`, `customSchemas.Employment.costCenter`; Salesforce's `Department`.
 *
 * Grammar: `segment ('.' segment)*`, a segment being a name followed by any number of `[index]`. Names are made
 * of anything but `.`, `[`, `]` and white space; `__proto__`, `prototype` and `constructor` are refused, so a path
 * can never reach an object's prototype.
 *
 * @example
 *   const body = { name: { givenName: 'A' } };
 *   setJsonPath(body, 'organizations[0].department', 'IAM'); // body.organizations = [{ department: 'IAM' }]
 */

export type JsonPathSegment = string | number;

/** An array index above this is refused: a typo must not allocate a huge array. */
export const MAX_JSON_PATH_INDEX = 99;
const MAX_PATH_LENGTH = 512;
const NAME = /^[^.[\]\s]+/;
const FORBIDDEN = new Set(['__proto__', 'prototype', 'constructor']);

export class JsonPathError extends Error {
  override name = 'JsonPathError';
}

/** Parses a path; throws JsonPathError saying what is wrong and where. */
export function parseJsonPath(text: string): JsonPathSegment[] {
  if (text.length === 0) throw new JsonPathError('the path is empty');
  if (text.length > MAX_PATH_LENGTH) throw new JsonPathError(`the path is longer than ${MAX_PATH_LENGTH} characters`);
  const segments: JsonPathSegment[] = [];
  let pos = 0;
  for (;;) {
    const name = NAME.exec(text.slice(pos))?.[0];
    if (name === undefined) throw new JsonPathError(`expected a name at position ${pos + 1} of '${text}'`);
    if (FORBIDDEN.has(name)) throw new JsonPathError(`'${name}' is not allowed in a path`);
    segments.push(name);
    pos += name.length;
    while (text[pos] === '[') {
      const m = /^\[(\d+)\]/.exec(text.slice(pos));
      if (!m) throw new JsonPathError(`expected an index such as [0] at position ${pos + 1} of '${text}'`);
      const index = Number(m[1]);
      if (index > MAX_JSON_PATH_INDEX) throw new JsonPathError(`index ${index} is above ${MAX_JSON_PATH_INDEX}`);
      segments.push(index);
      pos += m[0].length;
    }
    if (pos === text.length) return segments;
    if (text[pos] !== '.') throw new JsonPathError(`unexpected '${text[pos]}' at position ${pos + 1} of '${text}'`);
    pos++;
  }
}

/** What is wrong with a path, or undefined when it is well formed. */
export function jsonPathProblem(text: string): string | undefined {
  try {
    parseJsonPath(text);
    return undefined;
  } catch (err) {
    if (err instanceof JsonPathError) return err.message;
    throw err;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Sets the value at a path, creating the objects and arrays on the way (`{}` for a name, `[]` for an index; array
 * elements skipped by an index are filled with `{}` when the path goes on with a name, else null). Throws
 * JsonPathError when the path runs into a value of another kind (a string where an object is needed).
 */
export function setJsonPath(root: Record<string, unknown>, path: string | readonly JsonPathSegment[], value: unknown): void {
  const segments = typeof path === 'string' ? parseJsonPath(path) : path;
  if (segments.length === 0 || typeof segments[0] !== 'string') throw new JsonPathError('a path starts with a name');
  let current: Record<string, unknown> | unknown[] = root;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    const last = i === segments.length - 1;
    const next = segments[i + 1];
    if (typeof segment === 'string') {
      if (!isObject(current)) throw new JsonPathError(`cannot set '${segment}': ${describePrefix(segments, i)} is not an object`);
      if (last) {
        current[segment] = value;
        return;
      }
      current = childContainer(current, segment, next!, segments, i);
    } else {
      if (!Array.isArray(current)) throw new JsonPathError(`cannot set [${segment}]: ${describePrefix(segments, i)} is not an array`);
      while (current.length < segment) current.push(typeof next === 'string' ? {} : null);
      if (last) {
        current[segment] = value;
        return;
      }
      current = childContainer(current, segment, next!, segments, i);
    }
  }
}

function childContainer(
  parent: Record<string, unknown> | unknown[],
  key: JsonPathSegment,
  next: JsonPathSegment,
  segments: readonly JsonPathSegment[],
  i: number,
): Record<string, unknown> | unknown[] {
  const existing = (parent as Record<string | number, unknown>)[key];
  const wantArray = typeof next === 'number';
  if (existing === undefined || existing === null) {
    const created = wantArray ? [] : {};
    (parent as Record<string | number, unknown>)[key] = created;
    return created;
  }
  if (wantArray ? Array.isArray(existing) : isObject(existing)) return existing as Record<string, unknown> | unknown[];
  throw new JsonPathError(`cannot go into ${describePrefix(segments, i + 1)}: it holds a ${Array.isArray(existing) ? 'list' : typeof existing}`);
}

/** The path up to (not including) segment `end`, as text. */
function describePrefix(segments: readonly JsonPathSegment[], end: number): string {
  if (end === 0) return 'the body';
  return `'${formatJsonPath(segments.slice(0, end))}'`;
}

export function formatJsonPath(segments: readonly JsonPathSegment[]): string {
  return segments.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}
