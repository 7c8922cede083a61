/**
 * What every request must be before any handler sees it: the door. Bad input is refused here with a
 * protocol-correct 4xx, before it can reach a workflow or the database (where, for instance, PostgreSQL refuses a
 * NUL in text with SQLSTATE 22021 and a retried activity would never end).
 *
 * - URLs: every path segment and query component percent-decodes to well-formed UTF-8 (RFC 3986 §2.1, RFC 3629),
 *   with no NUL (checkUrl, applied to every request by src/http/app.ts).
 * - JSON bodies: UTF-8 only (RFC 8259 §8.1), and well-formed UTF-8 (never silently replaced by U+FFFD); once
 *   parsed, no string (member names included) holds a NUL or a lone surrogate (a `\ud800` escape), none is longer
 *   than INPUT_LIMITS.stringLength, and nothing is nested deeper than INPUT_LIMITS.jsonDepth (jsonBody).
 *   Compressed bodies (gzip, deflate, br) are decoded by the body parser and the limits apply to what they decode
 *   to; any other Content-Encoding is refused with 415.
 *
 * Limits that belong to one protocol (SCIM filter terms, Bulk operations, multi-valued attribute counts) live with
 * that protocol (src/scim/service-provider.ts SCIM_LIMITS); these are the ones every body shares.
 */
import { isUtf8 } from 'node:buffer';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';

export const INPUT_LIMITS = {
  /** Nesting of arrays and objects in a JSON body. A SCIM Bulk request with a PATCH of an extension is about 8 deep. */
  jsonDepth: 32,
  /** Characters (UTF-16 code units) in one JSON string, member names included: a photo data URL or a certificate fits. */
  stringLength: 65_536,
} as const;

/**
 * What is wrong with a request: a detail the client may see, and where: the top-level body member or query parameter
 * it was found in (a SCIM `filter` makes it an `invalidFilter`, RFC 7644 §3.4.2.2).
 */
export interface InputProblem {
  detail: string;
  field?: string | undefined;
}

/** A request the door refuses: its status, and a detail the client may see. */
export class InputRejected extends Error {
  override name = 'InputRejected';
  readonly code = 'ERR_INPUT_REJECTED';
  constructor(
    readonly status: 400 | 415,
    readonly detail: string,
    /** What kind of problem, for SCIM's scimType (RFC 7644 §3.12). */
    readonly kind: 'syntax' | 'value' = 'value',
    /** The top-level body member the problem is in, if one. */
    readonly field?: string | undefined,
  ) {
    super(detail);
  }
}

/** In a `u` regular expression a lone surrogate is a code point of category Cs; a well-formed pair is not. */
const LONE_SURROGATE = /\p{Cs}/u;

const describe = (s: string) => (s.length > 40 ? `${JSON.stringify(s.slice(0, 40))}…` : JSON.stringify(s));

/** The problem with one decoded string (`where` names it in the detail), if any; shared by every door of the api. */
export function stringProblem(s: string, where: string, maxLength: number = INPUT_LIMITS.stringLength): string | undefined {
  if (s.includes('\u0000')) return `${where} contains a NUL character (U+0000), which is not allowed`;
  if (LONE_SURROGATE.test(s)) return `${where} contains a lone UTF-16 surrogate, which is not a character`;
  if (s.length > maxLength) return `${where} is longer than ${maxLength} characters`;
  return undefined;
}

/**
 * The first problem of a parsed JSON value, or undefined. Iterative (an explicit stack), so no input is too deep
 * to be checked; stops at the first problem.
 */
export function jsonValueProblem(value: unknown, maxStringLength: number = INPUT_LIMITS.stringLength): InputProblem | undefined {
  const stack: { v: unknown; depth: number; path: string; field?: string }[] = [{ v: value, depth: 0, path: 'the body' }];
  while (stack.length > 0) {
    const { v, depth, path, field } = stack.pop()!;
    if (typeof v === 'string') {
      const detail = stringProblem(v, `The value at ${path}`, maxStringLength);
      if (detail) return { detail, field };
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= INPUT_LIMITS.jsonDepth) return { detail: `The body is nested deeper than ${INPUT_LIMITS.jsonDepth} levels (at ${path.slice(0, 80)}…)`, field };
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], depth: depth + 1, path: `${path}[${i}]`, ...(field !== undefined && { field }) });
      continue;
    }
    for (const [k, x] of Object.entries(v)) {
      const detail = stringProblem(k, `The member name ${describe(k)} at ${path}`, maxStringLength);
      if (detail) return { detail, field };
      stack.push({ v: x, depth: depth + 1, path: depth === 0 ? k : `${path}.${k}`, field: field ?? k });
    }
  }
  return undefined;
}

/** Percent-decodes one URL component strictly: malformed escapes and escapes that are not UTF-8 throw. */
function decodeComponent(raw: string, plusIsSpace: boolean): string {
  return decodeURIComponent(plusIsSpace ? raw.replace(/\+/g, ' ') : raw);
}

/** A query parameter's name, if it decodes. */
function safeDecode(raw: string): string | undefined {
  try {
    return decodeComponent(raw, true);
  } catch {
    return undefined;
  }
}

/** The problem with a request's URL, if any (see the header). */
export function urlProblem(url: string): InputProblem | undefined {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? '' : url.slice(q + 1);
  for (const segment of path.split('/')) {
    let decoded: string;
    try {
      decoded = decodeComponent(segment, false);
    } catch {
      return { detail: `The URL path segment ${describe(segment)} is not valid percent-encoded UTF-8 (RFC 3986 §2.1)` };
    }
    if (decoded.includes('\u0000')) return { detail: 'The URL path contains a NUL character (U+0000)' };
  }
  for (const part of query.split('&')) {
    if (part === '') continue;
    let decoded: string;
    const eq = part.indexOf('=');
    const field = safeDecode(eq < 0 ? part : part.slice(0, eq));
    try {
      decoded = decodeComponent(part, true);
    } catch {
      return { detail: `The query component ${describe(part)} is not valid percent-encoded UTF-8 (RFC 3986 §2.1)`, field };
    }
    const detail = stringProblem(decoded, field !== undefined ? `The query parameter ${describe(field)}` : 'A query parameter');
    if (detail) return { detail, field };
  }
  return undefined;
}

/**
 * Express middleware refusing a request whose URL is malformed, through the protocol's own error (`refuse`), before
 * routing (express would otherwise fail to decode a route parameter and answer 500).
 */
export function checkUrl(refuse: (req: Request, res: Response, status: number, detail: string, field?: string) => void): RequestHandler {
  return (req, res, next) => {
    const problem = urlProblem(req.url);
    if (problem) {
      refuse(req, res, 400, problem.detail, problem.field);
      return;
    }
    next();
  };
}

/**
 * The JSON body parser of the APIs: express.json with the checks above. Its errors reach the router's error
 * handler as InputRejected, or as the body parser's own errors (`type`: entity.parse.failed, entity.too.large,
 * encoding.unsupported, charset.unsupported; each with a 4xx `status`).
 */
export function jsonBody(opts: { limit: number | string; type: string[]; maxStringLength?: number }): RequestHandler[] {
  const parse = express.json({
    type: opts.type,
    limit: opts.limit,
    verify(_req, _res, buf, encoding) {
      if (encoding !== 'utf-8' && encoding !== 'utf8') {
        throw Object.assign(new InputRejected(415, `JSON bodies must be UTF-8 (RFC 8259 §8.1), not ${encoding}`), { status: 415 });
      }
      if (!isUtf8(buf)) throw Object.assign(new InputRejected(400, 'The body is not well-formed UTF-8', 'syntax'), { status: 400 });
    },
  });
  const check = (req: Request, _res: Response, next: NextFunction) => {
    const problem = req.body === undefined ? undefined : jsonValueProblem(req.body, opts.maxStringLength);
    next(problem ? new InputRejected(400, problem.detail, 'value', problem.field) : undefined);
  };
  return [parse, check];
}

/**
 * The status and client-visible message of an error thrown by the body parser or the door, or undefined when the
 * error is something else (then it is the router's own business). One mapping for every API.
 */
export function inputErrorOf(
  err: unknown,
  limit: string,
): { status: number; message: string; kind: 'syntax' | 'value' | 'tooLarge'; field?: string | undefined } | undefined {
  if (err instanceof InputRejected) return { status: err.status, message: err.detail, kind: err.kind, field: err.field };
  const e = err as { type?: unknown; status?: unknown; message?: unknown; encoding?: unknown; charset?: unknown; expose?: unknown };
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  const status = typeof e.status === 'number' ? e.status : undefined;
  switch (e.type) {
    case 'entity.parse.failed':
      return { status: 400, message: 'The request body is not valid JSON', kind: 'syntax' };
    case 'entity.too.large':
      return { status: 413, message: `The request body exceeds ${limit}`, kind: 'tooLarge' };
    case 'encoding.unsupported':
      return { status: 415, message: `The content encoding ${text(e.encoding)} is not supported: send identity, gzip, deflate or br`, kind: 'syntax' };
    case 'charset.unsupported':
      return { status: 415, message: `The charset ${text(e.charset)} is not supported: JSON bodies are UTF-8`, kind: 'syntax' };
    default:
      // Other errors of the body parser (a body that is not what its Content-Encoding says, an aborted upload, a
      // wrong Content-Length): client errors with the status the parser chose, and its message, which is meant to
      // be shown (http-errors `expose`).
      if (status !== undefined && status >= 400 && status < 500 && (typeof e.type === 'string' || e.expose === true)) {
        return { status, message: `The request body could not be read: ${text(e.message)}`, kind: 'syntax' };
      }
      return undefined;
  }
}
