/**
 * The checks of an identity provider's JIT settings (src/federation/config.ts) that need the database: the user store
 * domain exists, and every local group the group mappings name exists (a bare name is a group of the JIT user store
 * domain, `DOMAIN/name` one of that domain). Used by the admin API when the settings are saved, so a login never
 * meets a setting that names nothing.
 */
import type { PrismaClient } from '../db/client.js';
import { splitDomain } from '../scim/user-resource.js';
import type { JitSettings } from './config.js';

/** What is wrong with the settings' references, one sentence each; empty when nothing is. */
export async function jitReferenceProblems(db: PrismaClient, settings: JitSettings): Promise<string[]> {
  const problems: string[] = [];
  const domain = await db.userStoreDomain.findUnique({ where: { name: settings.userStoreDomain }, select: { id: true } });
  if (!domain) problems.push(`userStoreDomain: no user store domain '${settings.userStoreDomain}' (POST /api/server/v1/userstores)`);
  const unknown: string[] = [];
  for (const { group } of settings.groups?.mappings ?? []) {
    const { domain: prefix, name } = splitDomain(group);
    const row = await db.group.findFirst({ where: { domain: { name: prefix ?? settings.userStoreDomain }, displayNameNormalized: name.toLowerCase() }, select: { id: true } });
    if (!row && !unknown.includes(group)) unknown.push(group);
  }
  if (unknown.length > 0) problems.push(`groups.mappings: unknown local groups: ${unknown.map((g) => `'${g}'`).join(', ')}`);
  return problems;
}
