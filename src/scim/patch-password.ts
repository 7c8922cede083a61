/**
 * The password a SCIM PATCH sets, if any (RFC 7644 §3.5.2: `{"op":"replace","path":"password","value":"..."}`
 * or a path-less value object with a `password` key). Pure and deterministic, so InboundProvision can take
 * the new password from the PATCH body it holds (inside encrypted payloads) instead of from a store result,
 * which must never contain one. The last operation setting it wins, as when the operations are applied.
 */
export function patchPassword(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const ops: unknown = (Object.entries(body) as [string, unknown][]).find(([k]) => k.toLowerCase() === 'operations')?.[1];
  if (!Array.isArray(ops)) return undefined;
  let password: string | undefined;
  for (const op of ops as unknown[]) {
    if (typeof op !== 'object' || op === null) continue;
    const entries = Object.entries(op) as [string, unknown][];
    const field = (name: string) => entries.find(([k]) => k.toLowerCase() === name)?.[1];
    const kind = field('op');
    if (typeof kind !== 'string' || !/^(add|replace)$/i.test(kind)) continue;
    const path = field('path');
    const value = field('value');
    if (typeof path === 'string') {
      if (/^(urn:ietf:params:scim:schemas:core:2\.0:user:)?password$/i.test(path.trim()) && typeof value === 'string') password = value;
    } else if (typeof value === 'object' && value !== null) {
      const found: unknown = (Object.entries(value) as [string, unknown][]).find(([k]) => /^(urn:ietf:params:scim:schemas:core:2\.0:user:)?password$/i.test(k))?.[1];
      if (typeof found === 'string') password = found;
    }
  }
  return password;
}
