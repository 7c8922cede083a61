/**
 * SCIM PATCH (RFC 7644 §3.5.2) as pure functions over SCIM JSON resources.
 *
 * `applyPatch` turns the current resource, as the server renders it, and a PatchOp body into the new resource;
 * the caller validates the result with the same code as PUT and stores it. `applyGroupPatch` does the same for a
 * Group rendered without its members and returns the membership changes as a delta for the store, so a PATCH on
 * a group with a hundred thousand members never loads them.
 *
 * Every rule reads the attribute definitions (src/scim/schema-defs.ts): names resolve ignoring case and are
 * written in their canonical case (RFC 7643 §2.1); types, mutability and `required` come from the definitions
 * (RFC 7643 §2.2, §2.3, §7). What real clients send beyond RFC 7644 is accepted by the named behaviours of
 * PATCH_COMPATIBILITY, and nowhere else.
 */
import { ScimError, type ScimType } from './errors.js';
import type { Filter, PatchPath } from './filter-ast.js';
import { attributesOf, isPathProblem, lookupAttrPath, schemaOf } from './attribute-path.js';
import { evaluateElementFilter } from './filter-eval.js';
import { parsePatchPath } from './filter.js';
import { findAttribute, type AttributeDef, type ResourceTypeDef, type SchemaDef } from './schema-defs.js';
import { SCHEMA_PATCH_OP } from './schemas.js';

type Json = Record<string, unknown>;

export type PatchOpName = 'add' | 'remove' | 'replace';

/** One validated entry of `Operations` (RFC 7644 §3.5.2). `value` is undefined when the client sent none. */
export interface PatchOperation {
  op: PatchOpName;
  path?: string | undefined;
  value?: unknown;
}

export interface PatchResult {
  /** The whole new resource; the input is never modified. */
  resource: Record<string, unknown>;
  /**
   * Top-level attributes whose value differs from the input, in schema order: core attributes by name
   * (`emails`), extension attributes by full path (`urn:...:enterprise:2.0:User:manager`).
   */
  changedAttributes: string[];
}

/** A member of a group as the store keeps it. */
export interface MemberRef {
  value: string;
  type?: 'User' | 'Group';
}

/**
 * Membership changes of a group PATCH, for the store to apply in this order: `removeAll` or `replaceAll`
 * (every current member goes; `replaceAll`'s members are set), then `remove`, then `removeWhere`, then `add`
 * (members already there are kept once). Operations are folded in request order, so applying the delta in
 * this order gives the result of applying the operations one by one.
 */
export interface MemberDelta {
  replaceAll?: MemberRef[];
  add: MemberRef[];
  /** Member ids. */
  remove: string[];
  removeAll?: boolean;
  /** Value filters on `members` that are not plain `value eq "..."` terms; the store evaluates them. */
  removeWhere?: Filter[];
}

export interface GroupPatchResult {
  /** The new group, still without members. */
  resource: Record<string, unknown>;
  members: MemberDelta;
  /** As for applyPatch, with `members` when the delta changes anything. */
  changedAttributes: string[];
}

// ---------------------------------------------------------------------------------------------------------
// Compatibility behaviours
// ---------------------------------------------------------------------------------------------------------

/**
 * What real clients send beyond RFC 7644 §3.5.2, accepted so they work unchanged. Each behaviour names the
 * client known to need it; the protocol code below calls these and never tests for a vendor.
 */
export const PATCH_COMPATIBILITY = {
  /** Microsoft Entra writes ops capitalised ("Add", "Replace", "Remove"); RFC 7644 §3.5.2 writes them in lower case. */
  opName(raw: string): PatchOpName | undefined {
    const op = raw.toLowerCase();
    return op === 'add' || op === 'remove' || op === 'replace' ? op : undefined;
  },

  /** Microsoft Entra (without the aadOptscim062020 flag) sends booleans as strings: `"active": "False"`. */
  booleanFromString(value: unknown): boolean | undefined {
    if (typeof value !== 'string' || !/^(true|false)$/i.test(value)) return undefined;
    return value.toLowerCase() === 'true';
  },

  /** Microsoft Entra sends the values of custom (extension) attributes as strings, numbers included. */
  numberFromString(value: unknown): number | undefined {
    if (typeof value !== 'string' || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value.trim())) return undefined;
    return Number(value);
  },

  /**
   * Microsoft Entra (without the aadOptscim062020 flag) sends a single-valued attribute as a one-element
   * array: `"path": "nickName", "value": [{"value": "Babs"}]`, and the manager as `[{"value": "<id>"}]`.
   */
  unwrapSingleValueArray(value: unknown, def: AttributeDef): unknown {
    if (def.multiValued || !Array.isArray(value) || value.length !== 1) return value;
    const [only] = value as unknown[];
    if (def.type === 'complex') return isObject(only) ? only : value;
    if (isObject(only)) {
      const keys = Object.keys(only);
      if (keys.length === 1 && keys[0]?.toLowerCase() === 'value') return only[keys[0]];
    }
    return value;
  },

  /**
   * Microsoft Entra sends the enterprise `manager` as its bare id (`"value": "<id>"`); any complex attribute
   * with a `value` sub-attribute accepts a bare value as `{"value": ...}`.
   */
  bareValueAsComplex(value: unknown, def: AttributeDef): unknown {
    if (def.type !== 'complex' || isObject(value) || Array.isArray(value) || value === null) return value;
    return findAttribute(def.subAttributes ?? [], 'value') ? { value } : value;
  },

  /**
   * Okta sends readOnly attributes in path-less values (the group's `id` when renaming it, `display` of a
   * member); RFC 7644 §3.5.2 would reject them. Inside a value they are ignored, as a PUT ignores them
   * (RFC 7644 §3.5.1); an explicit path to one is still refused.
   */
  ignoreReadOnlyInValue: true,

  /**
   * Microsoft Entra sends path-less values whose keys are whole paths: `"name.givenName"`,
   * `"urn:...:enterprise:2.0:User:employeeNumber"`, `"emails[type eq \"work\"].value"`. Such a key is applied
   * as an operation with that path.
   */
  pathKeysInValue: true,

  /**
   * Microsoft Entra updates attributes that do not exist yet through filtered paths
   * (`addresses[type eq "work"].formatted` on a user without addresses). When no element matches a filter made
   * only of `eq` terms joined by `and`, a new element is made of those terms (RFC 7644 §3.5.2.3 would answer
   * noTarget). Returns undefined for any other filter.
   */
  elementFromEqFilter(filter: Filter, attr: AttributeDef): Json | undefined {
    const element: Json = {};
    const collect = (f: Filter): boolean => {
      if (f.kind === 'and') return f.filters.every(collect);
      if (f.kind !== 'compare' || f.op !== 'eq' || f.path.subAttribute !== undefined || f.value === null) return false;
      const sub = findAttribute(attr.subAttributes ?? [], f.path.attribute);
      if (!sub || sub.mutability === 'readOnly') return false;
      element[sub.name] = coerceScalar(sub, f.value, `${attr.name}.${sub.name}`);
      return true;
    };
    return collect(filter) ? element : undefined;
  },

  /**
   * Microsoft Entra removes group members with `"op": "Remove", "path": "members", "value": [{"value": "<id>"}]`:
   * a remove with a value on a multi-valued attribute removes the listed values only (RFC 7644 §3.5.2.2 removes
   * the whole attribute and has no value). Returns undefined when the operation has no value.
   */
  listedValuesToRemove(value: unknown): unknown[] | undefined {
    if (value === undefined || value === null) return undefined;
    return Array.isArray(value) ? (value as unknown[]) : [value];
  },

  /**
   * Some clients target a whole extension: `"path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`
   * with the extension's attributes as value. That is applied as a path-less operation on that extension.
   */
  schemaUrnAsPath: true,
} as const;

// ---------------------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------------------

/**
 * Validates a PATCH request body (RFC 7644 §3.5.2): `schemas` naming the PatchOp message, a non-empty
 * `Operations` array (the key in any case), each with an op, an optional path and the value its op needs.
 * Throws ScimError 400 otherwise.
 */
export function parsePatchOperations(body: unknown): PatchOperation[] {
  if (!isObject(body)) throw bad('invalidSyntax', 'The PATCH request body must be a JSON object');
  const schemas = getCi(body, 'schemas');
  if (!Array.isArray(schemas) || !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === SCHEMA_PATCH_OP.toLowerCase())) {
    throw bad('invalidSyntax', `A PATCH request must list '${SCHEMA_PATCH_OP}' in 'schemas' (RFC 7644 §3.5.2)`);
  }
  // Attribute names, message attributes included, are case-insensitive (RFC 7643 §2.1).
  const operations = getCi(body, 'Operations');
  if (!Array.isArray(operations) || operations.length === 0) {
    throw bad('invalidSyntax', "A PATCH request needs 'Operations', a non-empty array (RFC 7644 §3.5.2)");
  }
  return operations.map((raw: unknown, i): PatchOperation => {
    const where = `Operations[${i}]`;
    if (!isObject(raw)) throw bad('invalidSyntax', `${where} must be an object`);
    const rawOp = getCi(raw, 'op');
    const op = typeof rawOp === 'string' ? PATCH_COMPATIBILITY.opName(rawOp) : undefined;
    if (!op) throw bad('invalidSyntax', `${where}.op must be "add", "remove" or "replace", not ${JSON.stringify(rawOp ?? null)}`);
    const rawPath = getCi(raw, 'path');
    if (rawPath !== undefined && rawPath !== null && typeof rawPath !== 'string') {
      throw bad('invalidSyntax', `${where}.path must be a string`);
    }
    const path = typeof rawPath === 'string' ? rawPath.trim() : undefined;
    if (path === '') throw bad('invalidPath', `${where}.path is empty`);
    const valueKey = findKey(raw, 'value');
    const value = valueKey === undefined ? undefined : raw[valueKey];
    // RFC 7644 §3.5.2.1, §3.5.2.3: add and replace "MUST contain a 'value' member".
    if (op !== 'remove' && value === undefined) throw bad('invalidValue', `${where} (${op}) needs a 'value'`);
    return { op, ...(path !== undefined && { path }), ...(value !== undefined && { value }) };
  });
}

/**
 * Applies a SCIM PATCH request (RFC 7644 §3.5.2) to a resource. All operations apply or none does: the
 * first failing one throws ScimError (400 invalidSyntax, invalidPath, invalidValue, noTarget or mutability)
 * and nothing is returned.
 *
 * @example
 * const { resource, changedAttributes } = applyPatch(current, {
 *   schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
 *   Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
 * }, userResourceType());
 * // resource.active === false, changedAttributes = ['active']
 */
export function applyPatch(resource: Record<string, unknown>, body: unknown, rt: ResourceTypeDef): PatchResult {
  const operations = parsePatchOperations(body);
  const engine = new PatchEngine(resource, rt, undefined);
  engine.run(operations);
  return engine.finish();
}

/**
 * Applies a SCIM PATCH request to a Group rendered WITHOUT its members: every other attribute is patched as
 * by applyPatch, and operations on `members` are folded, in order, into a MemberDelta. Value filters made only
 * of `value eq "..."` terms joined by `or` become ids in `remove`; other filters go to `removeWhere`.
 *
 * @example
 * const { members } = applyGroupPatch(group, {
 *   schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
 *   Operations: [{ op: 'remove', path: 'members[value eq "2819c223"]' }, { op: 'add', path: 'members', value: [{ value: '902c246b' }] }],
 * }, groupResourceType());
 * // members = { add: [{ value: '902c246b' }], remove: ['2819c223'] }
 */
export function applyGroupPatch(resource: Record<string, unknown>, body: unknown, rt: ResourceTypeDef): GroupPatchResult {
  const membersAttr = findAttribute(rt.schema.attributes, 'members');
  if (rt.name !== 'Group' || !membersAttr) throw new TypeError('applyGroupPatch needs the Group resource type');
  const operations = parsePatchOperations(body);
  const delta = new MemberDeltaBuilder(membersAttr);
  const engine = new PatchEngine(resource, rt, delta);
  engine.run(operations);
  const { resource: result, changedAttributes } = engine.finish();
  return { resource: result, members: delta.build(), changedAttributes };
}

// ---------------------------------------------------------------------------------------------------------
// The engine
// ---------------------------------------------------------------------------------------------------------

/** Where an operation applies: `attr`, `attr.sub`, `attr[filter]`, `attr[filter].sub`. */
interface Target {
  schema: SchemaDef;
  attr: AttributeDef;
  /** `name.givenName`; `emails[type eq "work"].value`; `emails.value` (every element). */
  sub?: AttributeDef | undefined;
  filter?: Filter | undefined;
  /** The path as the client wrote it, for messages. */
  text: string;
}

class PatchEngine {
  private readonly res: Json;
  private readonly core: SchemaDef;
  private readonly schemas: SchemaDef[];
  /** Elements the current operation set `primary: true` on (RFC 7644 §3.5.2). */
  private readonly madePrimary = new Set<Json>();

  constructor(
    private readonly original: Json,
    private readonly rt: ResourceTypeDef,
    private readonly members: MemberDeltaBuilder | undefined,
  ) {
    this.res = structuredClone(original);
    this.core = rt.schema;
    this.schemas = [rt.schema, ...rt.extensions.map((e) => e.schema)];
  }

  run(operations: PatchOperation[]): void {
    operations.forEach((operation, i) => {
      try {
        this.apply(operation);
        this.settlePrimaries();
      } catch (err) {
        if (err instanceof ScimError) {
          const label = operation.path === undefined ? operation.op : `${operation.op} ${operation.path}`;
          throw new ScimError(err.status, `Operations[${i}] (${label}): ${err.detail}`, err.scimType);
        }
        throw err;
      } finally {
        this.madePrimary.clear();
      }
    });
  }

  finish(): PatchResult {
    this.normalizeExtensions();
    const changedAttributes: string[] = [];
    for (const schema of this.schemas) {
      const before = this.containerOf(this.original, schema);
      const after = this.containerOf(this.res, schema);
      for (const attr of this.attributesOf(schema)) {
        const label = schema === this.core ? attr.name : `${schema.id}:${attr.name}`;
        const changed =
          this.members && this.isMembers({ schema, attr, text: attr.name })
            ? this.members.changed()
            : !deepEqual(normalizeUnassigned(getCi(before, attr.name)), normalizeUnassigned(getCi(after, attr.name)));
        if (!changed) continue;
        changedAttributes.push(label);
        // RFC 7643 §2.4: the primary attribute value 'true' MUST appear no more than once.
        const values = getCi(after, attr.name);
        if (attr.multiValued && Array.isArray(values) && values.filter((v) => isObject(v) && getCi(v, 'primary') === true).length > 1) {
          throw bad('invalidValue', `'${attr.name}' would have more than one primary value (RFC 7643 §2.4)`);
        }
      }
    }
    return { resource: this.res, changedAttributes };
  }

  // --- dispatch ----------------------------------------------------------------------------------------

  private apply(operation: PatchOperation): void {
    const { op, path, value } = operation;
    if (path === undefined) {
      // RFC 7644 §3.5.2.2: "If 'path' is unspecified, the operation fails with HTTP status code 400 and a
      // 'scimType' error code of 'noTarget'."
      if (op === 'remove') throw bad('noTarget', "remove needs a 'path' (RFC 7644 §3.5.2.2)");
      // RFC 7644 §3.5.2.1, §3.5.2.3: without a path the target is the resource itself.
      this.applyValueObject(op, value, this.core);
      return;
    }
    const whole = this.schemaById(path);
    if (whole && PATCH_COMPATIBILITY.schemaUrnAsPath) {
      if (whole === this.core) throw bad('invalidPath', `'${path}' names the core schema, not an attribute`);
      if (op === 'remove') this.unassignExtension(whole);
      else this.applyValueObject(op, { [whole.id]: value }, this.core);
      return;
    }
    this.applyTarget(op, this.resolve(parsePatchPath(path), path, 'invalidPath'), value, false);
  }

  /** A path-less add or replace: `value` is an object of attributes (RFC 7644 §3.5.2.1, §3.5.2.3). */
  private applyValueObject(op: 'add' | 'replace', value: unknown, schema: SchemaDef): void {
    if (!isObject(value)) throw bad('invalidValue', `${op} without a path needs an object of attributes as its value`);
    for (const [key, v] of Object.entries(value)) {
      // `schemas` follows from the extension attributes present (normalizeExtensions); clients (scim2-tester)
      // also repeat it inside an extension's value object.
      if (key.toLowerCase() === 'schemas') continue;
      const urnSchema = schema === this.core ? this.schemaById(key) : undefined;
      if (urnSchema === this.core) {
        this.applyValueObject(op, v, this.core);
      } else if (urnSchema) {
        // RFC 7644 §3.5.2.3: replace with an unassigned value removes it (RFC 7643 §2.5).
        if (v === null) {
          if (op === 'replace') this.unassignExtension(urnSchema);
        } else {
          this.applyValueObject(op, v, urnSchema);
        }
      } else {
        const attr = findAttribute(this.attributesOf(schema), key);
        const target = attr ? { schema, attr, text: key } : this.resolveValueKey(key, schema);
        this.applyTarget(op, target, v, true);
      }
    }
  }

  /** A key of a path-less value that names no attribute: a whole path (PATCH_COMPATIBILITY.pathKeysInValue). */
  private resolveValueKey(key: string, schema: SchemaDef): Target {
    const where = schema === this.core ? '' : ` of '${schema.id}'`;
    if (!PATCH_COMPATIBILITY.pathKeysInValue || schema !== this.core) throw bad('invalidValue', `Unknown attribute '${key}'${where}`);
    let parsed: PatchPath;
    try {
      parsed = parsePatchPath(key);
    } catch (err) {
      if (err instanceof ScimError) throw bad('invalidValue', `Unknown attribute '${key}'`);
      throw err;
    }
    return this.resolve(parsed, key, 'invalidValue');
  }

  private applyTarget(op: PatchOpName, target: Target, value: unknown, inValue: boolean): void {
    // RFC 7644 §3.5.2: "a client MUST NOT modify an attribute that has mutability 'readOnly'".
    if (target.attr.mutability === 'readOnly' || target.sub?.mutability === 'readOnly') {
      if (inValue && PATCH_COMPATIBILITY.ignoreReadOnlyInValue) return;
      throw bad('mutability', `'${target.text}' is readOnly (RFC 7643 §2.2)`);
    }
    if (this.members && this.isMembers(target)) {
      this.members.apply(op, target, value);
      return;
    }
    if (op === 'add') this.add(target, value);
    else if (op === 'replace') this.replace(target, value);
    else this.remove(target, value);
  }

  // --- add (RFC 7644 §3.5.2.1) -----------------------------------------------------------------------------

  private add(t: Target, value: unknown): void {
    // RFC 7643 §2.5: null is "unassigned"; adding nothing changes nothing.
    if (value === null) return;
    const c = this.container(t.schema);
    const before = structuredClone(getCi(c, t.attr.name));
    if (!t.attr.multiValued) {
      this.commit(c, t, before, this.setSingle('add', t, getCi(c, t.attr.name), value));
      return;
    }
    const elements = liveElements(c, t.attr);
    if (t.filter === undefined && t.sub === undefined) {
      // "If the target location specifies a multi-valued attribute, a new value is added to the attribute";
      // "If the target location already contains the value specified, no changes SHOULD be made".
      for (const element of this.coerceElements(t.attr, value, t.text)) {
        if ((isObject(element) && Object.keys(element).length === 0) || elements.some((e) => contains(e, element))) continue;
        elements.push(element);
        this.trackPrimary(element);
      }
    } else {
      this.setOnElements('add', t, elements, value);
    }
    this.commit(c, t, before, elements);
  }

  // --- replace (RFC 7644 §3.5.2.3) -------------------------------------------------------------------------

  private replace(t: Target, value: unknown): void {
    const c = this.container(t.schema);
    const before = structuredClone(getCi(c, t.attr.name));
    if (!t.attr.multiValued) {
      this.commit(c, t, before, value === null && !t.sub ? undefined : this.setSingle('replace', t, getCi(c, t.attr.name), value));
      return;
    }
    if (t.filter === undefined && t.sub === undefined) {
      // "If the target location is a multi-valued attribute and no filter is specified, the attribute and all
      // values are replaced."
      const elements = value === null ? [] : this.coerceElements(t.attr, value, t.text);
      elements.forEach((e) => this.trackPrimary(e));
      this.commit(c, t, before, elements);
      return;
    }
    const elements = liveElements(c, t.attr);
    if (t.filter !== undefined && t.sub === undefined && value === null) {
      // Replacing the matching values with "unassigned" (RFC 7643 §2.5) removes them.
      this.commit(c, t, before, elements.filter((e) => !this.matches(t, e)));
      return;
    }
    this.setOnElements('replace', t, elements, value);
    this.commit(c, t, before, elements);
  }

  // --- remove (RFC 7644 §3.5.2.2) --------------------------------------------------------------------------

  private remove(t: Target, value: unknown): void {
    const c = this.container(t.schema);
    const before = structuredClone(getCi(c, t.attr.name));
    const current = getCi(c, t.attr.name);
    if (!t.attr.multiValued) {
      if (t.sub === undefined) {
        // "If the target location is a single-value attribute, the attribute and its associated value is removed".
        this.commit(c, t, before, undefined);
      } else if (isObject(current)) {
        this.deleteSub(current, t.sub, t.text);
        this.commit(c, t, before, Object.keys(current).length > 0 ? current : undefined);
      } else if (t.attr.required) {
        this.commit(c, t, before, undefined);
      }
      return;
    }
    const elements = liveElements(c, t.attr);
    if (t.filter === undefined && t.sub === undefined) {
      const listed = PATCH_COMPATIBILITY.listedValuesToRemove(value);
      if (listed === undefined) {
        // "If the target location is a multi-valued attribute and no filter is specified, the attribute and all
        // values are removed."
        this.commit(c, t, before, undefined);
      } else {
        const drop = this.coerceElements(t.attr, listed, t.text);
        this.commit(c, t, before, elements.filter((e) => !drop.some((d) => contains(e, d))));
      }
      return;
    }
    const matched = elements.filter((e) => this.matches(t, e));
    if (t.sub === undefined) {
      // "the values matched by the filter are removed"; matching nothing is not an error.
      this.commit(c, t, before, elements.filter((e) => !matched.includes(e)));
      return;
    }
    // "If the target location is a complex multi-valued attribute and a complex filter is specified based on the
    // attribute's sub-attributes, the matching records are removed" - here, their sub-attribute.
    for (const element of matched) if (isObject(element)) this.deleteSub(element, t.sub, t.text);
    this.commit(c, t, before, elements.filter((e) => !isObject(e) || Object.keys(e).length > 0));
  }

  // --- shared steps --------------------------------------------------------------------------------------

  /**
   * The new value of a single-valued attribute after add or replace (merging complex values). A null
   * sub-attribute unassigns it in a replace and changes nothing in an add (RFC 7643 §2.5).
   */
  private setSingle(op: 'add' | 'replace', t: Target, current: unknown, value: unknown): unknown {
    if (t.sub) {
      const obj = isObject(current) ? current : {};
      if (value === null) this.deleteSub(obj, t.sub, t.text);
      else this.writeSub(obj, t.sub, this.coerceAttr(t.sub, value, t.text), t.text);
      return obj;
    }
    if (t.attr.type !== 'complex') return this.coerceAttr(t.attr, value, t.text);
    // RFC 7644 §3.5.2.1, §3.5.2.3: for a complex attribute the given sub-attributes are set; "Sub-attributes
    // that are not specified in the 'value' parameter are left unchanged."
    const coerced = this.coerceAttr(t.attr, value, t.text) as Json;
    const obj = isObject(current) ? current : {};
    this.merge(obj, t.attr, op === 'add' ? stripNulls(coerced) : coerced, t.text);
    return obj;
  }

  /** Sets a sub-attribute on the elements a filter (or, without one, every element) selects. */
  private setOnElements(op: 'add' | 'replace', t: Target, elements: unknown[], value: unknown): void {
    if (t.attr.type !== 'complex') {
      throw bad('invalidPath', `'${t.text}': the values of '${t.attr.name}' are simple; a value filter on them can only remove`);
    }
    const matched = elements.filter((e): e is Json => isObject(e) && this.matches(t, e));
    if (t.sub) {
      // RFC 7644 §3.5.2.3: "the matching sub-attribute of all matching records SHALL be replaced".
      const v = value === null ? null : this.coerceAttr(t.sub, value, t.text);
      for (const element of matched) {
        if (v === null) this.deleteSub(element, t.sub, t.text);
        else this.writeSub(element, t.sub, v, t.text);
      }
      if (matched.length > 0 || v === null) return;
      const created = this.newElement(t);
      this.writeSub(created, t.sub, v, t.text);
      elements.push(created);
      return;
    }
    // A filter and no sub-attribute: the value's sub-attributes are merged into each matching element.
    const coerced = this.coerceComplex(t.attr, PATCH_COMPATIBILITY.unwrapSingleValueArray(value, { ...t.attr, multiValued: false }), t.text);
    const incoming = op === 'add' ? stripNulls(coerced) : coerced;
    for (const element of matched) this.merge(element, t.attr, incoming, t.text);
    if (matched.length > 0) return;
    const created = this.newElement(t);
    this.merge(created, t.attr, incoming, t.text);
    elements.push(created);
  }

  /**
   * The element an add or replace creates when its filter matches nothing: RFC 7644 §3.5.2.3 answers
   * noTarget; PATCH_COMPATIBILITY.elementFromEqFilter builds it from `eq` terms. Without a filter (`emails.value`
   * on a user without emails) the operation is an add of a new element (RFC 7644 §3.5.2.3).
   */
  private newElement(t: Target): Json {
    if (t.filter === undefined) return {};
    const element = PATCH_COMPATIBILITY.elementFromEqFilter(t.filter, t.attr);
    if (!element) throw bad('noTarget', `No value of '${t.attr.name}' matches the filter of '${t.text}' (RFC 7644 §3.5.2.3)`);
    this.trackPrimary(element);
    return element;
  }

  private merge(target: Json, def: AttributeDef, incoming: Json, where: string): void {
    for (const [name, v] of Object.entries(incoming)) {
      const sub = findAttribute(def.subAttributes ?? [], name)!;
      if (v === null) this.deleteSub(target, sub, `${where}.${sub.name}`);
      else this.writeSub(target, sub, v, `${where}.${sub.name}`);
    }
  }

  private writeSub(obj: Json, sub: AttributeDef, value: unknown, where: string): void {
    const current = getCi(obj, sub.name);
    // RFC 7643 §2.2 immutable: "may be defined at resource creation ... or at record creation"; never changed.
    if (sub.mutability === 'immutable' && !isUnassigned(current) && !deepEqual(current, value)) {
      throw bad('mutability', `'${where}' is immutable (RFC 7643 §2.2)`);
    }
    setCanonical(obj, sub.name, value);
    if (sub.name === 'primary' && value === true) this.madePrimary.add(obj);
  }

  private deleteSub(obj: Json, sub: AttributeDef, where: string): void {
    const current = getCi(obj, sub.name);
    if (isUnassigned(current)) return;
    if (sub.required) throw bad('invalidValue', `'${where}' is required and cannot be removed (RFC 7643 §2.2)`);
    if (sub.mutability === 'immutable') throw bad('mutability', `'${where}' is immutable (RFC 7643 §2.2)`);
    deleteCi(obj, sub.name);
  }

  /** Stores an attribute's new value after the checks that apply to the attribute as a whole. */
  private commit(c: Json, t: Target, before: unknown, after: unknown): void {
    // RFC 7644 §3.5.2: "a client MAY 'add' a value to an 'immutable' attribute if the attribute had no previous value".
    if (t.attr.mutability === 'immutable' && !isUnassigned(before) && !deepEqual(normalizeUnassigned(before), normalizeUnassigned(after))) {
      throw bad('mutability', `'${t.text}' is immutable (RFC 7643 §2.2)`);
    }
    if (isUnassigned(after) || (isObject(after) && Object.keys(after).length === 0)) {
      // RFC 7643 §2.2 required: the attribute must keep a value.
      if (t.attr.required) throw bad('invalidValue', `'${t.attr.name}' is required and cannot be removed (RFC 7643 §2.2)`);
      deleteCi(c, t.attr.name);
    } else {
      setCanonical(c, t.attr.name, after);
    }
  }

  private unassignExtension(schema: SchemaDef): void {
    if (this.rt.extensions.some((e) => e.schema === schema && e.required)) {
      throw bad('invalidValue', `The extension '${schema.id}' is required and cannot be removed`);
    }
    const c = this.container(schema);
    for (const attr of schema.attributes) {
      if (attr.mutability !== 'readOnly' && getCi(c, attr.name) !== undefined) this.remove({ schema, attr, text: `${schema.id}:${attr.name}` }, undefined);
    }
  }

  /**
   * RFC 7644 §3.5.2: "a PATCH operation that sets a value's 'primary' sub-attribute to 'true' SHALL cause the
   * server to automatically set 'primary' to 'false' for any other values in the array".
   */
  private settlePrimaries(): void {
    if (this.madePrimary.size === 0) return;
    for (const schema of this.schemas) {
      const c = this.containerOf(this.res, schema);
      for (const attr of schema.attributes) {
        const values = getCi(c, attr.name);
        if (!attr.multiValued || !Array.isArray(values)) continue;
        const made = values.filter((v): v is Json => isObject(v) && this.madePrimary.has(v) && getCi(v, 'primary') === true);
        if (made.length > 1) throw bad('invalidValue', `More than one value of '${attr.name}' is made primary (RFC 7643 §2.4)`);
        if (made.length === 0) continue;
        for (const v of values) if (isObject(v) && v !== made[0] && getCi(v, 'primary') === true) setCanonical(v, 'primary', false);
      }
    }
  }

  private trackPrimary(element: unknown): void {
    if (isObject(element) && element.primary === true) this.madePrimary.add(element);
  }

  /** `schemas` lists exactly the extensions that have attributes; an emptied extension object goes (RFC 7643 §3). */
  private normalizeExtensions(): void {
    const rawSchemas = getCi(this.res, 'schemas');
    let schemas = Array.isArray(rawSchemas) ? rawSchemas.filter((s): s is string => typeof s === 'string') : [this.core.id];
    for (const { schema } of this.rt.extensions) {
      const key = findKey(this.res, schema.id);
      const value = key === undefined ? undefined : this.res[key];
      const present = isObject(value) && Object.keys(value).length > 0;
      if (key !== undefined && !present) delete this.res[key];
      const listed = schemas.some((s) => s.toLowerCase() === schema.id.toLowerCase());
      if (present && !listed) schemas = [...schemas, schema.id];
      if (!present && listed) schemas = schemas.filter((s) => s.toLowerCase() !== schema.id.toLowerCase());
    }
    if (!deepEqual(rawSchemas, schemas)) setCanonical(this.res, 'schemas', schemas);
  }

  // --- values ----------------------------------------------------------------------------------------------

  /** The whole value of an attribute (an array when multi-valued), converted to the definition's types. */
  private coerceAttr(def: AttributeDef, value: unknown, where: string): unknown {
    if (def.multiValued) return this.coerceElements(def, value, where);
    const single = PATCH_COMPATIBILITY.unwrapSingleValueArray(value, def);
    if (def.type === 'complex') return this.coerceComplex(def, single, where);
    return coerceScalar(def, single, where);
  }

  /** The values of a multi-valued attribute; a single value where an array is expected is wrapped. */
  private coerceElements(def: AttributeDef, value: unknown, where: string): unknown[] {
    const items = Array.isArray(value) ? (value as unknown[]) : [value];
    return items
      .filter((item) => item !== null)
      .map((item) => (def.type === 'complex' ? stripNulls(this.coerceComplex(def, item, where)) : coerceScalar(def, item, where)));
  }

  /**
   * A complex value with canonical sub-attribute names and converted values. Unknown sub-attributes are
   * refused; readOnly ones are dropped (PATCH_COMPATIBILITY.ignoreReadOnlyInValue); nulls are kept, as
   * "unassign this sub-attribute".
   */
  private coerceComplex(def: AttributeDef, value: unknown, where: string): Json {
    const v = PATCH_COMPATIBILITY.bareValueAsComplex(value, def);
    if (!isObject(v)) throw bad('invalidValue', `'${where}' must be an object (a complex value)`);
    const out: Json = {};
    for (const [key, subValue] of Object.entries(v)) {
      const sub = findAttribute(def.subAttributes ?? [], key);
      if (!sub) throw bad('invalidValue', `Unknown sub-attribute '${key}' of '${def.name}'`);
      if (sub.mutability === 'readOnly') continue;
      out[sub.name] = subValue === null ? null : this.coerceAttr(sub, subValue, `${where}.${sub.name}`);
    }
    return out;
  }

  // --- paths -----------------------------------------------------------------------------------------------

  /**
   * Resolves a parsed path against the schemas (src/scim/attribute-path.ts, shared with filters, projection and
   * sortBy); `scimType` says how an unknown name is reported.
   */
  private resolve(pp: PatchPath, text: string, scimType: 'invalidPath' | 'invalidValue'): Target {
    const resolved = lookupAttrPath(this.rt, pp.path);
    if (isPathProblem(resolved)) throw bad(scimType, resolved.detail);
    const { schema, attribute: attr } = resolved;
    if (resolved.subAttribute !== undefined && (pp.valueFilter !== undefined || pp.subAttribute !== undefined)) {
      throw bad(scimType, `'${text}' has a sub-attribute before a value filter`);
    }
    if (pp.valueFilter !== undefined) {
      if (!attr.multiValued) throw bad(scimType, `'${attr.name}' is single-valued; a value filter cannot select from it (RFC 7644 §3.5.2)`);
      checkValueFilter(pp.valueFilter, attr, text, scimType);
    }
    let sub = resolved.subAttribute;
    if (pp.subAttribute !== undefined) {
      sub = findAttribute(attr.subAttributes ?? [], pp.subAttribute);
      if (!sub) throw bad(scimType, `Unknown sub-attribute '${pp.subAttribute}' of '${attr.name}' in '${text}'`);
    }
    return { schema, attr, sub, filter: pp.valueFilter, text };
  }

  private matches(t: Target, element: unknown): boolean {
    return t.filter === undefined || evaluateElementFilter(t.filter, element, t.attr);
  }

  private isMembers(t: Target): boolean {
    return this.rt.name === 'Group' && t.schema === this.core && t.attr.name === 'members';
  }

  private schemaById(id: string): SchemaDef | undefined {
    return schemaOf(this.rt, id);
  }

  private attributesOf(schema: SchemaDef): AttributeDef[] {
    return attributesOf(this.rt, schema);
  }

  /** The object holding a schema's attributes in the working resource, created for an extension if absent. */
  private container(schema: SchemaDef): Json {
    if (schema === this.core) return this.res;
    const existing = getCi(this.res, schema.id);
    const c = isObject(existing) ? existing : {};
    setCanonical(this.res, schema.id, c);
    return c;
  }

  private containerOf(resource: Json, schema: SchemaDef): Json {
    if (schema === this.core) return resource;
    const c = getCi(resource, schema.id);
    return isObject(c) ? c : {};
  }
}

// ---------------------------------------------------------------------------------------------------------
// Group membership as a delta
// ---------------------------------------------------------------------------------------------------------

class MemberDeltaBuilder {
  private replaceAll: MemberRef[] | undefined;
  private removeAll = false;
  private add: MemberRef[] = [];
  private remove: string[] = [];
  private removeWhere: Filter[] = [];

  constructor(private readonly attr: AttributeDef) {}

  apply(op: PatchOpName, t: Target, value: unknown): void {
    // members' value, type and $ref are immutable and display is readOnly (RFC 7643 §4.2): a member is added or
    // removed, never changed in place.
    if (t.sub !== undefined || (t.filter !== undefined && op !== 'remove')) {
      throw bad('mutability', `Members cannot be changed in place ('${t.text}'); add or remove them (RFC 7643 §4.2)`);
    }
    if (op === 'add') {
      if (value !== null) for (const ref of this.refs(value)) this.addRef(ref);
    } else if (op === 'replace') {
      this.reset();
      this.replaceAll = [];
      if (value !== null) for (const ref of this.refs(value)) this.addRef(ref);
    } else if (t.filter !== undefined) {
      const ids = valueEqIds(t.filter);
      if (ids) ids.forEach((id) => this.removeId(id));
      else this.removeMatching(t.filter);
    } else {
      const listed = PATCH_COMPATIBILITY.listedValuesToRemove(value);
      if (listed === undefined) {
        this.reset();
        this.removeAll = true;
      } else {
        for (const ref of this.refs(listed)) this.removeId(ref.value);
      }
    }
  }

  changed(): boolean {
    return this.replaceAll !== undefined || this.removeAll || this.add.length > 0 || this.remove.length > 0 || this.removeWhere.length > 0;
  }

  build(): MemberDelta {
    return {
      ...(this.replaceAll && { replaceAll: this.replaceAll }),
      add: this.add,
      remove: this.remove,
      ...(this.removeAll && { removeAll: true }),
      ...(this.removeWhere.length > 0 && { removeWhere: this.removeWhere }),
    };
  }

  private reset(): void {
    this.replaceAll = undefined;
    this.removeAll = false;
    this.add = [];
    this.remove = [];
    this.removeWhere = [];
  }

  private addRef(ref: MemberRef): void {
    // RFC 7644 §3.5.2.1: a value already there is not added again.
    const list = this.replaceAll ?? this.add;
    if (!list.some((m) => m.value === ref.value)) list.push(ref);
    this.remove = this.remove.filter((id) => id !== ref.value);
  }

  private removeId(id: string): void {
    this.add = this.add.filter((m) => m.value !== id);
    if (this.replaceAll) this.replaceAll = this.replaceAll.filter((m) => m.value !== id);
    else if (!this.removeAll && !this.remove.includes(id)) this.remove.push(id);
  }

  private removeMatching(filter: Filter): void {
    // Members added earlier in this request are known here; the store evaluates the filter on the others.
    const keep = (m: MemberRef) => !evaluateElementFilter(filter, m, this.attr);
    this.add = this.add.filter(keep);
    if (this.replaceAll) this.replaceAll = this.replaceAll.filter(keep);
    else if (!this.removeAll) this.removeWhere.push(filter);
  }

  /** Member references from an add, replace or listed remove value; values must be member ids (strings). */
  private refs(value: unknown): MemberRef[] {
    const items = Array.isArray(value) ? (value as unknown[]) : [value];
    return items
      .filter((item) => item !== null)
      .map((item, i) => {
        const obj = PATCH_COMPATIBILITY.bareValueAsComplex(item, this.attr);
        if (!isObject(obj)) throw bad('invalidValue', `members[${i}] must be an object with a 'value'`);
        for (const key of Object.keys(obj)) {
          if (!findAttribute(this.attr.subAttributes ?? [], key)) throw bad('invalidValue', `Unknown sub-attribute '${key}' of 'members'`);
        }
        const id = getCi(obj, 'value');
        if (typeof id !== 'string' || id === '') throw bad('invalidValue', `members[${i}].value must be a member id (a non-empty string)`);
        const type = getCi(obj, 'type');
        if (type === undefined || type === null) return { value: id };
        const canonical = typeof type === 'string' ? (['User', 'Group'] as const).find((t) => t.toLowerCase() === type.toLowerCase()) : undefined;
        if (!canonical) throw bad('invalidValue', `members[${i}].type must be "User" or "Group"`);
        return { value: id, type: canonical };
      });
  }
}

/** The ids of a filter made only of `value eq "<id>"` terms joined by `or`; undefined for any other filter. */
function valueEqIds(filter: Filter): string[] | undefined {
  if (filter.kind === 'or') {
    const ids = filter.filters.map(valueEqIds);
    return ids.every((i) => i !== undefined) ? ids.flat() : undefined;
  }
  if (
    filter.kind === 'compare' &&
    filter.op === 'eq' &&
    filter.path.attribute.toLowerCase() === 'value' &&
    filter.path.subAttribute === undefined &&
    typeof filter.value === 'string'
  ) {
    return [filter.value];
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------

function bad(scimType: ScimType, detail: string): ScimError {
  return new ScimError(400, detail, scimType);
}

/**
 * A value filter's names and operands must fit the filtered attribute's sub-attributes (RFC 7644 §3.5.2). The
 * evaluator checks them before evaluating; running it once on an empty element checks them even when the
 * attribute has no values. Its invalidFilter errors are reported as errors of the path.
 */
function checkValueFilter(filter: Filter, attr: AttributeDef, text: string, scimType: ScimType): void {
  try {
    evaluateElementFilter(filter, attr.type === 'complex' ? {} : null, attr);
  } catch (err) {
    if (err instanceof ScimError) throw bad(scimType, `In the value filter of '${text}': ${err.detail}`);
    throw err;
  }
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** A simple value converted to its definition's type (RFC 7643 §2.3); a mismatch is 400 invalidValue. */
function coerceScalar(def: AttributeDef, value: unknown, where: string): unknown {
  switch (def.type) {
    case 'string':
    case 'reference':
    case 'binary':
      if (typeof value === 'string') return value;
      break;
    case 'dateTime':
      if (typeof value === 'string' && DATE_TIME.test(value) && !Number.isNaN(Date.parse(value))) return value;
      throw bad('invalidValue', `'${where}' must be an xsd:dateTime such as 2026-01-31T12:00:00Z (RFC 7643 §2.3.5)`);
    case 'boolean': {
      if (typeof value === 'boolean') return value;
      const b = PATCH_COMPATIBILITY.booleanFromString(value);
      if (b !== undefined) return b;
      break;
    }
    case 'integer':
    case 'decimal': {
      const n = typeof value === 'number' ? value : PATCH_COMPATIBILITY.numberFromString(value);
      if (n !== undefined && Number.isFinite(n) && (def.type === 'decimal' || Number.isInteger(n))) return n;
      break;
    }
    case 'complex':
      break;
  }
  throw bad('invalidValue', `'${where}' must be ${def.type === 'integer' ? 'an' : 'a'} ${def.type} (RFC 7643 §2.3)`);
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** RFC 7643 §2.5: null and an empty array are "unassigned", like a missing attribute. */
function isUnassigned(v: unknown): boolean {
  return v === undefined || v === null || (Array.isArray(v) && v.length === 0);
}

function normalizeUnassigned(v: unknown): unknown {
  return isUnassigned(v) ? undefined : v;
}

/** The key of `obj` that is `name` ignoring case (RFC 7643 §2.1). */
function findKey(obj: Json, name: string): string | undefined {
  if (Object.hasOwn(obj, name)) return name;
  const lower = name.toLowerCase();
  return Object.keys(obj).find((k) => k.toLowerCase() === lower);
}

function getCi(obj: Json, name: string): unknown {
  const key = findKey(obj, name);
  return key === undefined ? undefined : obj[key];
}

function deleteCi(obj: Json, name: string): void {
  const lower = name.toLowerCase();
  for (const key of Object.keys(obj)) if (key.toLowerCase() === lower) delete obj[key];
}

/** Sets `name` in its canonical case, dropping any other spelling of it. */
function setCanonical(obj: Json, name: string, value: unknown): void {
  const lower = name.toLowerCase();
  for (const key of Object.keys(obj)) if (key !== name && key.toLowerCase() === lower) delete obj[key];
  obj[name] = value;
}

/** The elements of a multi-valued attribute, as a fresh array of the same element objects. */
function liveElements(c: Json, attr: AttributeDef): unknown[] {
  const current = getCi(c, attr.name);
  return Array.isArray(current) ? [...(current as unknown[])] : [];
}

function stripNulls(obj: Json): Json {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== null));
}

/** Whether `element` already holds every sub-attribute `candidate` gives, with the same value. */
function contains(element: unknown, candidate: unknown): boolean {
  if (!isObject(element) || !isObject(candidate)) return deepEqual(element, candidate);
  return Object.entries(candidate).every(([k, v]) => deepEqual(getCi(element, k), v));
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}
