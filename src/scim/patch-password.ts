/**
 * The passwords a SCIM PATCH carries (RFC 7644 §3.5.2): `{"op":"replace","path":"password","value":"..."}`, the
 * same with the core schema URN in the path, or a path-less value object with a `password` key (also inside a
 * core-schema-URN object). Pure and deterministic (InboundProvision imports it), so:
 * - the api seals every password a PATCH carries before the workflow starts (mapPatchPasswords), the store
 *   activity opens them before applying the PATCH, and the codec endpoint masks them in histories recorded before
 *   sealing existed;
 * - InboundProvision takes the new password for the outbound targets from the PATCH body it holds (patchPassword)
 *   instead of from a store result, which must never contain one. The last operation setting it wins, as when the
 *   operations are applied.
 */
const PASSWORD_PATH = /^(urn:ietf:params:scim:schemas:core:2\.0:user:)?password$/i;
const CORE_USER = /^urn:ietf:params:scim:schemas:core:2\.0:user$/i;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A value object's password members (`password`, `urn:…:User:password`, and `password` inside `urn:…:User`). */
function mapValueObject(value: Json, f: (password: string) => string): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) {
    if (PASSWORD_PATH.test(k) && typeof v === 'string') out[k] = f(v);
    else if (CORE_USER.test(k) && isObject(v)) out[k] = mapValueObject(v, f);
    else out[k] = v;
  }
  return out;
}

function isSettingOp(op: Json): boolean {
  const kind = Object.entries(op).find(([k]) => k.toLowerCase() === 'op')?.[1];
  return typeof kind === 'string' && /^(add|replace)$/i.test(kind);
}

/**
 * The PATCH body with `f` applied to every password it sets; everything else is returned as it is (the same
 * objects), so a malformed body stays malformed for the PATCH engine to refuse.
 */
export function mapPatchPasswords(body: unknown, f: (password: string) => string): unknown {
  if (!isObject(body)) return body;
  const opsKey = Object.keys(body).find((k) => k.toLowerCase() === 'operations');
  const ops = opsKey === undefined ? undefined : body[opsKey];
  if (opsKey === undefined || !Array.isArray(ops)) return body;
  const mapped = ops.map((op: unknown) => {
    if (!isObject(op) || !isSettingOp(op)) return op;
    const pathKey = Object.keys(op).find((k) => k.toLowerCase() === 'path');
    const valueKey = Object.keys(op).find((k) => k.toLowerCase() === 'value');
    if (valueKey === undefined) return op;
    const path = pathKey === undefined ? undefined : op[pathKey];
    const value = op[valueKey];
    if (typeof path === 'string') {
      return PASSWORD_PATH.test(path.trim()) && typeof value === 'string' ? { ...op, [valueKey]: f(value) } : op;
    }
    return path === undefined && isObject(value) ? { ...op, [valueKey]: mapValueObject(value, f) } : op;
  });
  return { ...body, [opsKey]: mapped };
}

/** The password a PATCH sets, if any (the last one wins). */
export function patchPassword(body: unknown): string | undefined {
  let password: string | undefined;
  mapPatchPasswords(body, (p) => {
    password = p;
    return p;
  });
  return password;
}
