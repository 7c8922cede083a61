/**
 * `immutable` attributes on PUT (RFC 7644 §3.5.1): "If one or more values are already set for the attribute,
 * the input value(s) MUST match, or HTTP status code 400 SHOULD be returned with a scimType of mutability."
 * A PUT that leaves such an attribute out would unassign it, so that is a mismatch too. (PATCH enforces the
 * same rule in src/scim/patch.ts.) Core User and Group have no immutable attributes of their own beyond
 * readOnly ones; operator extensions may declare them.
 */
import { isDeepStrictEqual } from 'node:util';
import { ScimError } from './errors.js';
import type { ResourceTypeDef } from './schema-defs.js';
import { get, isObject } from './user-resource.js';

type Json = Record<string, unknown>;

export function assertImmutableUnchanged(rt: ResourceTypeDef, current: Json, next: unknown): void {
  if (!isObject(next)) return;
  const schemas = [{ schema: rt.schema, cur: current, nxt: next }, ...rt.extensions.map((e) => ({ schema: e.schema, cur: get(current, e.schema.id), nxt: get(next, e.schema.id) }))];
  for (const { schema, cur, nxt } of schemas) {
    for (const attr of schema.attributes) {
      if (attr.mutability !== 'immutable') continue;
      const before = isObject(cur) ? get(cur, attr.name) : undefined;
      if (before === undefined || before === null) continue;
      const after = isObject(nxt) ? get(nxt, attr.name) : undefined;
      if (!isDeepStrictEqual(before, after)) {
        const name = schema === rt.schema ? attr.name : `${schema.id}:${attr.name}`;
        throw ScimError.badRequest(`'${name}' is immutable: it has a value, and a replacement must carry the same value`, 'mutability');
      }
    }
  }
}
