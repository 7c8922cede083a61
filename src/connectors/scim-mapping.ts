/**
 * Attribute mapping for the SCIM connectors (SCIM 2.0 and 1.1): the values the connector's rules computed
 * (OutboundUser.mapped, src/provisioning/attribute-mapping.ts) have SCIM 2.0 attribute paths as targets
 * (`displayName`, `emails[type eq "work"].value`, `urn:...:enterprise:2.0:User:department`), so they are applied to
 * the outgoing SCIM 2.0 User as PATCH `replace` operations, by this server's own PATCH engine: one path grammar for
 * both, and a null value unassigns the attribute. The SCIM 1.1 connector maps before translating to 1.1.
 */
import { AttributeMappingError } from '../provisioning/attribute-mapping.js';
import { ScimError } from '../scim/errors.js';
import { applyPatch } from '../scim/patch.js';
import { userResourceType } from '../scim/schema-defs.js';
import { SCHEMA_PATCH_OP } from '../scim/schemas.js';
import type { OutboundUser } from './types.js';

export function withMappedAttributes(body: Record<string, unknown>, mapped: OutboundUser['mapped']): Record<string, unknown> {
  if (!mapped || mapped.length === 0) return body;
  const Operations = mapped.map((m) => ({ op: 'replace', path: m.target, value: m.value ?? null }));
  try {
    return applyPatch(body, { schemas: [SCHEMA_PATCH_OP], Operations }, userResourceType()).resource;
  } catch (err) {
    // The detail names the operation (Operations[i] (replace <target>)), that is the rule's target.
    if (err instanceof ScimError) throw new AttributeMappingError(`attribute mapping: ${err.detail}`);
    throw err;
  }
}
