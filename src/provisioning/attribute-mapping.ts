/**
 * Per-connector attribute mapping: rules that say what each target attribute gets, from a local SCIM attribute or
 * from a JSONata expression, the issue's "local attribute or expression -> target attribute" (WSO2 does this with
 * claim mapping: local claim -> IdP claim, plus per-connector default values).
 *
 * A connector's settings carry the rules as `attributeMapping`:
 *
 *   { "target": "Department", "source": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department" }
 *   { "target": "primaryEmail", "expression": "$lowercase(name.givenName) & '.' & $lowercase(name.familyName) & '@example.com'" }
 *   { "target": "orgUnitPath", "source": "urn:...:enterprise:2.0:User:division", "default": "/Staff", "when": "create" }
 *
 * - `target`: the target's attribute, in the connector's own naming (Google: a Directory API field path; Salesforce: a
 *   User field; SPML: a DSML attribute; SCIM: a SCIM attribute path).
 * - `source`: a SCIM attribute path of the local user, as in a PATCH path (RFC 7644 §3.5.2): `userName`,
 *   `name.givenName`, `emails[type eq "work"].value`, `urn:...:enterprise:2.0:User:department`. It names ONE value:
 *   from a multi-valued attribute, the first selected element, the primary one first. Attributes of
 *   operator-defined extension schemas are named with their schema URN.
 * - `expression`: a JSONata expression (https://jsonata.org) evaluated against the user's SCIM representation
 *   (`toScimUser`: core attributes at the top, extensions under their URN, no password), with `$enterprise` bound to
 *   the enterprise extension and `$operation` to 'create' or 'update'. Its result may be any JSON value.
 * - Exactly one of `source` and `expression`.
 * - `default`: used when the value is missing or empty (undefined, null, blank string, empty list or object).
 *   Without a default a missing value is `null`: the connector clears the target attribute (or, for attributes the
 *   target requires, keeps its own derived value).
 * - `when`: 'always' (default) or 'create' (only when the user is created at the target, e.g. an initial OU).
 *
 * Rules are validated when a connector is saved (validateAttributeMapping: each problem names the rule's index and
 * target) and compiled once per process (compileAttributeMapping). The delivery activity computes the values with
 * mapOutboundUser and hands them to the connector as OutboundUser.mapped; each connector writes them into its own
 * payload, overriding what it derives itself.
 */
import jsonata from 'jsonata';
import { z } from 'zod';
import { ConnectorMisconfigured, ConnectorRejected } from '../connectors/errors.js';
import type { OutboundUser } from '../connectors/types.js';
import { ScimError } from '../scim/errors.js';
import type { Filter } from '../scim/filter-ast.js';
import { evaluateElementFilter, formatAttrPath, parsePatchPath, resolveFilterPath } from '../scim/filter.js';
import { userResourceType, type AttributeDef } from '../scim/schema-defs.js';
import { SCHEMA_ENTERPRISE_USER, SCHEMA_USER } from '../scim/schemas.js';
import { get, isObject, toScimUser } from '../scim/user-resource.js';

/** One mapping rule, as stored in a connector's `settings.attributeMapping`. */
export interface AttributeMappingRule {
  target: string;
  source?: string | undefined;
  expression?: string | undefined;
  default?: string | number | boolean | undefined;
  when?: 'always' | 'create' | undefined;
}

/** A computed target value: `null` means "no value" (clear it, or keep the connector's own if required). */
export interface MappedAttribute {
  target: string;
  value: unknown;
}

export type MappingOperation = 'create' | 'update' | 'delete';

/** The bounds of a mapping, so a stored mapping can never stall or swamp a delivery. */
export const MAPPING_LIMITS = {
  rules: 100,
  targetLength: 256,
  sourceLength: 1024,
  expressionLength: 4096,
  /** Per expression and user. JSONata checks it between evaluation steps (a cooperative timeout). */
  evaluationMs: 500,
  /** JSONata's evaluation depth (deep recursion in a user-defined function). */
  stackDepth: 200,
  /** The longest sequence (list) an expression may build. */
  sequenceLength: 10_000,
  /** The largest value (as JSON) a rule may produce. */
  valueBytes: 64 * 1024,
} as const;

/**
 * A rule the mapping refused to compute for this user (an expression failing on its data, a value too large or of
 * no JSON kind): the delivery is rejected, naming the rule, and the other users still flow.
 */
export class AttributeMappingError extends ConnectorRejected {
  override name = 'AttributeMappingError';
}

// ---------------------------------------------------------------------------------------------------------------
// Validation and compilation

const ruleSchema = z
  .object({
    target: z.string().trim().min(1, 'is empty').max(MAPPING_LIMITS.targetLength),
    source: z.string().trim().min(1, 'is empty').max(MAPPING_LIMITS.sourceLength).optional(),
    expression: z.string().trim().min(1, 'is empty').max(MAPPING_LIMITS.expressionLength).optional(),
    default: z.union([z.string().max(MAPPING_LIMITS.valueBytes), z.number().finite(), z.boolean()], { error: 'must be a string, number or boolean' }).optional(),
    when: z.enum(['always', 'create']).default('always'),
  })
  .strict();

type Reader = (resource: Record<string, unknown>) => unknown;

interface CompiledRule {
  index: number;
  target: string;
  when: 'always' | 'create';
  default: string | number | boolean | undefined;
  /** Text for messages: the source path or the expression. */
  what: string;
  read?: Reader;
  expression?: jsonata.Expression;
}

export interface CompiledAttributeMapping {
  readonly rules: readonly CompiledRule[];
}

const USER_RT = userResourceType();
/** Schemas whose attributes a source can be checked against when saved; operator extensions are known only by URN. */
const KNOWN_SCHEMAS = new Set([SCHEMA_USER.toLowerCase(), SCHEMA_ENTERPRISE_USER.toLowerCase()]);

function label(index: number, target: unknown): string {
  return typeof target === 'string' && target.trim() !== '' ? `attributeMapping[${index}] (target '${target.trim()}')` : `attributeMapping[${index}]`;
}

/** A source path compiled to a reader, or the problem with it. */
function compileSource(text: string): Reader | string {
  let pp;
  try {
    pp = parsePatchPath(text);
  } catch (err) {
    if (err instanceof ScimError) return `source: ${err.detail}`;
    throw err;
  }
  const urn = pp.path.urn;
  let container: string | undefined;
  let attribute = pp.path.attribute;
  let sub = pp.path.subAttribute ?? pp.subAttribute;
  let def: AttributeDef | undefined;
  if (urn === undefined || KNOWN_SCHEMAS.has(urn.toLowerCase())) {
    // Core and enterprise attributes are checked now, with the filter code's own words (password: never returned).
    let resolved;
    try {
      resolved = resolveFilterPath(USER_RT, { ...pp.path, subAttribute: pp.path.subAttribute ?? pp.subAttribute }, 'invalidPath');
    } catch (err) {
      if (!(err instanceof ScimError)) throw err;
      const hint = urn === undefined && /^Unknown attribute '[^']*' \(resource type/.test(err.detail) ? '; name attributes of operator-defined extension schemas with their schema URN' : '';
      return `source: ${err.detail}${hint}`;
    }
    container = resolved.schema === USER_RT.schema ? undefined : resolved.schema.id;
    attribute = resolved.attribute.name;
    sub = resolved.subAttribute?.name;
    def = resolved.attribute;
    if (pp.valueFilter !== undefined) {
      if (!def.multiValued) return `source: '${def.name}' is single-valued; a value filter selects from a multi-valued attribute`;
      try {
        // Validates the filter against the attribute (unknown sub-attributes, type mismatches).
        evaluateElementFilter(pp.valueFilter, {}, def);
      } catch (err) {
        if (err instanceof ScimError) return `source: ${err.detail}`;
        throw err;
      }
    }
  } else {
    container = urn;
    if (pp.valueFilter !== undefined) {
      return `source: value filters work on core and enterprise attributes; for '${formatAttrPath(pp.path)}' use an expression`;
    }
  }
  const filter: Filter | undefined = pp.valueFilter;
  return (resource) => {
    const holder = container === undefined ? resource : get(resource, container);
    if (!isObject(holder)) return undefined;
    let value = get(holder, attribute);
    if (Array.isArray(value)) {
      let elements = value.filter((e) => e !== undefined && e !== null);
      if (filter && def) elements = elements.filter((e) => evaluateElementFilter(filter, e, def));
      // One value: the primary one first (RFC 7643 §2.4), else the first.
      value = elements.find((e) => isObject(e) && get(e, 'primary') === true) ?? elements[0];
    }
    if (sub !== undefined) value = isObject(value) ? get(value, sub) : undefined;
    return value;
  };
}

/** JSONata built-in function names seen so far (checked by evaluating `$type($name)`). */
const builtinCache = new Map<string, boolean>();

async function isBuiltinFunction(name: string): Promise<boolean> {
  const cached = builtinCache.get(name);
  if (cached !== undefined) return cached;
  // Names come from the parsed expression; only plain identifiers are looked up.
  const found = /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && (await jsonata(`$type($${name})`).evaluate({})) === 'function';
  if (builtinCache.size < 1000) builtinCache.set(name, found);
  return found;
}

/** Variables the mapping binds for every expression. */
const BINDINGS = new Set(['enterprise', 'operation']);

/**
 * Functions an expression calls that neither JSONata nor the expression itself defines (`$lowercas(...)`): JSONata
 * reports them only when evaluated (T1006), so every delivery would fail; the check finds them when saved.
 */
async function unknownFunctions(ast: jsonata.ExprNode): Promise<{ name: string; position: number | undefined }[]> {
  const bound = new Set<string>();
  const called: { name: string; position: number | undefined }[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    if (!isObject(node)) return;
    const n = node as { type?: unknown; lhs?: unknown; rhs?: unknown; arguments?: unknown; procedure?: unknown; focus?: unknown; index?: unknown };
    if (n.type === 'bind' && isObject(n.lhs) && n.lhs.type === 'variable' && typeof n.lhs.value === 'string') bound.add(n.lhs.value);
    if (n.type === 'lambda' && Array.isArray(n.arguments)) {
      for (const a of n.arguments) if (isObject(a) && typeof a.value === 'string') bound.add(a.value);
    }
    if (typeof n.focus === 'string') bound.add(n.focus);
    if (typeof n.index === 'string') bound.add(n.index);
    const proc = n.type === 'function' || n.type === 'partial' ? n.procedure : n.type === 'apply' ? n.rhs : undefined;
    if (isObject(proc) && proc.type === 'variable' && typeof proc.value === 'string' && proc.value !== '' && proc.value !== '$') {
      called.push({ name: proc.value, position: typeof proc.position === 'number' ? proc.position : undefined });
    }
    for (const v of Object.values(node)) if (typeof v === 'object') visit(v);
  };
  visit(ast);
  const unknown: { name: string; position: number | undefined }[] = [];
  for (const c of called) {
    if (bound.has(c.name) || BINDINGS.has(c.name) || (await isBuiltinFunction(c.name))) continue;
    unknown.push(c);
  }
  return unknown;
}

interface JsonataFailure {
  code?: string;
  message?: string;
  position?: number;
  token?: string;
}

function describeJsonataError(err: unknown): string {
  const e = (isObject(err) ? err : { message: String(err) }) as JsonataFailure;
  const where = typeof e.position === 'number' && e.position > 0 ? ` at position ${e.position}` : '';
  return `${e.code ? `${e.code} ` : ''}${e.message ?? 'failed'}${where}`;
}

async function compileExpression(text: string): Promise<jsonata.Expression | string> {
  let expression: jsonata.Expression;
  try {
    expression = jsonata(text, { timeout: MAPPING_LIMITS.evaluationMs, stack: MAPPING_LIMITS.stackDepth, sequence: MAPPING_LIMITS.sequenceLength });
  } catch (err) {
    return `expression: syntax error: ${describeJsonataError(err)}`;
  }
  const unknown = await unknownFunctions(expression.ast());
  if (unknown.length > 0) {
    return `expression: unknown function ${unknown.map((u) => `$${u.name}${u.position !== undefined ? ` (at position ${u.position})` : ''}`).join(', ')}`;
  }
  return expression;
}

async function analyse(value: unknown): Promise<{ issues: string[]; rules: CompiledRule[] }> {
  if (value === undefined || value === null) return { issues: [], rules: [] };
  if (!Array.isArray(value)) {
    return { issues: ['attributeMapping: must be a list of rules ({ "target", "source" or "expression", "default", "when" })'], rules: [] };
  }
  if (value.length > MAPPING_LIMITS.rules) return { issues: [`attributeMapping: at most ${MAPPING_LIMITS.rules} rules (got ${value.length})`], rules: [] };
  const issues: string[] = [];
  const rules: CompiledRule[] = [];
  const seen = new Map<string, number>();
  for (const [index, raw] of value.entries()) {
    const where = label(index, isObject(raw) ? raw.target : undefined);
    const parsed = ruleSchema.safeParse(raw);
    if (!parsed.success) {
      for (const i of parsed.error.issues) {
        const field = i.path.length > 0 ? `${i.path.join('.')}: ` : '';
        issues.push(`${where}: ${field}${i.code === 'unrecognized_keys' ? `${i.message} (a rule has target, source or expression, default, when)` : i.message}`);
      }
      continue;
    }
    const rule = parsed.data;
    if ((rule.source === undefined) === (rule.expression === undefined)) {
      issues.push(`${where}: give exactly one of 'source' (a SCIM attribute path) and 'expression' (JSONata)`);
      continue;
    }
    const key = `${rule.when}\u0000${rule.target}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      issues.push(`${where}: the target is already mapped by attributeMapping[${earlier}]${rule.when === 'create' ? " (both 'when: create')" : ''}`);
      continue;
    }
    seen.set(key, index);
    const base = { index, target: rule.target, when: rule.when, default: rule.default };
    if (rule.source !== undefined) {
      const read = compileSource(rule.source);
      if (typeof read === 'string') issues.push(`${where}: ${read}`);
      else rules.push({ ...base, what: `source '${rule.source}'`, read });
    } else {
      const expression = await compileExpression(rule.expression!);
      if (typeof expression === 'string') issues.push(`${where}: ${expression}`);
      else rules.push({ ...base, what: 'expression', expression });
    }
  }
  return { issues, rules };
}

/**
 * Checks a connector's `settings.attributeMapping` (undefined: no mapping). Returns one message per problem, each
 * naming the rule: `attributeMapping[1] (target 'Alias'): expression: syntax error: S0203 Expected ")" ...`.
 */
export async function validateAttributeMapping(value: unknown): Promise<string[]> {
  return (await analyse(value)).issues;
}

/** The well-formed rules' targets, with their index, for a connector's own check of its target naming. */
export function attributeMappingTargets(settings: Record<string, unknown>): { index: number; target: string }[] {
  const value = settings.attributeMapping;
  if (!Array.isArray(value)) return [];
  return value.flatMap((raw, index) => (isObject(raw) && typeof raw.target === 'string' && raw.target.trim() !== '' ? [{ index, target: raw.target.trim() }] : []));
}

/** Compiled mappings by their JSON, shared by the deliveries of a process (a connector is built per delivery). */
const compiled = new Map<string, Promise<CompiledAttributeMapping>>();
const MAX_COMPILED = 128;

/**
 * Compiles stored rules (once per distinct mapping per process). A mapping that no longer validates is the
 * connector's configuration problem: ConnectorMisconfigured, so the connector is quarantined, not each user failed.
 */
export function compileAttributeMapping(value: unknown): Promise<CompiledAttributeMapping> {
  const key = JSON.stringify(value ?? null);
  const hit = compiled.get(key);
  if (hit) return hit;
  const made = analyse(value).then(({ issues, rules }) => {
    if (issues.length > 0) throw new ConnectorMisconfigured(`Invalid attribute mapping: ${issues.join('; ')}`);
    return { rules };
  });
  made.catch(() => compiled.delete(key));
  if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
  compiled.set(key, made);
  return made;
}

// ---------------------------------------------------------------------------------------------------------------
// Evaluation

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (typeof v === 'string') return v.trim() === '';
  if (Array.isArray(v)) return v.length === 0;
  if (isObject(v)) return Object.keys(v).length === 0;
  return false;
}

/**
 * A JSONata result as plain JSON: sequences become arrays, functions and non-finite numbers are refused, and the
 * size is bounded. Returns the problem as a string.
 */
function toJson(value: unknown): { value: unknown } | string {
  let size = 0;
  const walk = (v: unknown, depth: number): unknown => {
    if (depth > 32) throw new Error('is nested more than 32 levels deep');
    if (v === undefined || v === null) return v;
    switch (typeof v) {
      case 'string':
        size += v.length;
        break;
      case 'boolean':
        size += 5;
        break;
      case 'number':
        if (!Number.isFinite(v)) throw new Error(`is not a finite number (${v})`);
        size += 8;
        break;
      case 'function':
        throw new Error('is a function, not a value');
      case 'object': {
        if (Array.isArray(v)) {
          const out = v.map((e) => walk(e, depth + 1)).filter((e) => e !== undefined);
          size += 2 + out.length;
          if (size > MAPPING_LIMITS.valueBytes) throw new Error(`is larger than ${MAPPING_LIMITS.valueBytes} bytes`);
          return out;
        }
        const o = v as Record<string, unknown>;
        if (o._jsonata_lambda === true || o._jsonata_function === true) throw new Error('is a function, not a value');
        const out: Record<string, unknown> = {};
        for (const [k, e] of Object.entries(o)) {
          const w = walk(e, depth + 1);
          size += k.length + 2;
          if (w !== undefined) out[k] = w;
        }
        if (size > MAPPING_LIMITS.valueBytes) throw new Error(`is larger than ${MAPPING_LIMITS.valueBytes} bytes`);
        return out;
      }
      default:
        throw new Error(`is of no JSON kind (${typeof v})`);
    }
    if (size > MAPPING_LIMITS.valueBytes) throw new Error(`is larger than ${MAPPING_LIMITS.valueBytes} bytes`);
    return v;
  };
  try {
    return { value: walk(value, 0) };
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Computes the target values for one user's SCIM representation, in rule order. `when: 'create'` rules apply only
 * to creates. Throws AttributeMappingError naming the rule when an expression fails or yields no usable value.
 */
export async function evaluateAttributeMapping(
  mapping: CompiledAttributeMapping,
  resource: Record<string, unknown>,
  opts: { operation: 'create' | 'update' },
): Promise<MappedAttribute[]> {
  const out: MappedAttribute[] = [];
  const bindings = { enterprise: get(resource, SCHEMA_ENTERPRISE_USER), operation: opts.operation };
  for (const rule of mapping.rules) {
    if (rule.when === 'create' && opts.operation !== 'create') continue;
    const where = label(rule.index, rule.target);
    let raw: unknown;
    if (rule.read) {
      try {
        raw = rule.read(resource);
      } catch (err) {
        if (err instanceof ScimError) throw new AttributeMappingError(`${where}: ${rule.what}: ${err.detail}`);
        throw err;
      }
    } else {
      try {
        raw = (await rule.expression!.evaluate(resource, bindings)) as unknown;
      } catch (err) {
        throw new AttributeMappingError(`${where}: the expression failed: ${describeJsonataError(err)}`);
      }
    }
    const json = toJson(raw);
    if (typeof json === 'string') throw new AttributeMappingError(`${where}: the value of the ${rule.what} ${json}`);
    const value = isEmpty(json.value) ? (rule.default ?? null) : json.value;
    out.push({ target: rule.target, value });
  }
  return out;
}

/**
 * The user with `mapped` set from the connector's `settings.attributeMapping`, for the delivery activity. Deletes,
 * and connectors without a mapping, get the user unchanged.
 *
 * @example
 *   const user = await mapOutboundUser({ ...event.user, password }, config.settings.attributeMapping, { operation: 'update' });
 *   // user.mapped = [{ target: 'Department', value: 'IAM' }, ...]
 */
export async function mapOutboundUser(user: OutboundUser, rules: unknown, opts: { operation: MappingOperation }): Promise<OutboundUser> {
  if (opts.operation === 'delete' || rules === undefined || rules === null || (Array.isArray(rules) && rules.length === 0)) return user;
  const mapping = await compileAttributeMapping(rules);
  // $ref values are relative (the delivery has no public base URL); the password is never rendered.
  const resource = toScimUser(user, '');
  return { ...user, mapped: await evaluateAttributeMapping(mapping, resource, { operation: opts.operation }) };
}

/**
 * A mapped value as one scalar, for targets whose attributes hold one string, number or boolean (Salesforce fields):
 * a list gives its first element; an object cannot be one. Throws AttributeMappingError naming the target.
 */
export function scalarValue(m: MappedAttribute): string | number | boolean | null {
  const v: unknown = Array.isArray(m.value) ? ((m.value as unknown[])[0] ?? null) : m.value;
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  throw new AttributeMappingError(`The value mapped to '${m.target}' is an object; this target takes a string, number or boolean`);
}

/**
 * A mapped value as a list of strings, for targets whose attributes are string lists (SPML/DSML): null is no value,
 * a list gives one string per element, booleans and numbers their JSON text. Objects are refused.
 */
export function stringValues(m: MappedAttribute): string[] {
  const list = m.value === null || m.value === undefined ? [] : Array.isArray(m.value) ? m.value : [m.value];
  return list.flatMap((v) => {
    if (v === null || v === undefined) return [];
    if (typeof v === 'string') return [v];
    if (typeof v === 'number' || typeof v === 'boolean') return [String(v)];
    throw new AttributeMappingError(`The value mapped to '${m.target}' holds an object; this target takes strings`);
  });
}
