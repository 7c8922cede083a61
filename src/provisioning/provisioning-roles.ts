/**
 * Role-based outbound provisioning (WSO2's "Outbound Provisioning Roles" of an identity provider): when an
 * identity provider names roles, only users holding one of them (directly or through a group) are provisioned to
 * its connectors. A user who gains such a role is provisioned there; a user who loses it (and holds no other of
 * them) is deprovisioned there; changes of users outside them are not sent. Groups are provisioned regardless, as
 * WSO2 does, with only their provisioned members. An identity provider naming no role provisions every user.
 *
 * The decision is taken at delivery (activities/outbound.ts), from the store as it is then, like group members.
 */
import type { PrismaClient } from '../db/client.js';
import { RESIDENT_APPLICATION_ID } from './defaults.js';
import { resolveOutboundTargets } from './targets.js';
import type { OutboundTarget } from './types.js';

export interface ProvisioningRoleGate {
  /** The connector's identity provider names outbound provisioning roles. */
  restricted: boolean;
  /** The user holds one of them. */
  holds: boolean;
  /** Its name, for audit records. */
  idpName: string | undefined;
}

/** Whether a user may be provisioned to a connector, by its identity provider's outbound provisioning roles. */
export async function provisioningRoleGate(db: PrismaClient, connectorId: string, userId: string): Promise<ProvisioningRoleGate> {
  const rows = await db.$queryRaw<{ restricted: boolean; holds: boolean; idp_name: string | null }[]>`
    SELECT EXISTS (SELECT 1 FROM identity_provider_provisioning_role p WHERE p.idp_id = c.idp_id) AS restricted,
           EXISTS (
             SELECT 1 FROM identity_provider_provisioning_role p
             WHERE p.idp_id = c.idp_id AND p.role_id IN (
               SELECT ru.role_id FROM role_user ru WHERE ru.user_id = ${userId}::uuid
               UNION
               SELECT rg.role_id FROM role_group rg
               JOIN scim_group_member m ON m.group_id = rg.group_id AND m.member_id = ${userId}::uuid AND m.member_type = 'User')
           ) AS holds,
           i.name AS idp_name
    FROM outbound_connector c JOIN identity_provider i ON i.id = c.idp_id
    WHERE c.id = ${connectorId}::uuid`;
  const row = rows[0];
  return { restricted: row?.restricted ?? false, holds: row?.holds ?? false, idpName: row?.idp_name ?? undefined };
}

/**
 * The targets a change of a role's holders goes to: the resident service provider's outbound targets (role-based
 * provisioning is configured there, as in WSO2) whose identity provider names the role.
 */
export async function roleProvisioningTargets(db: PrismaClient, roleId: string): Promise<OutboundTarget[]> {
  const idps = await db.identityProviderProvisioningRole.findMany({ where: { roleId }, include: { idp: true } });
  if (idps.length === 0) return [];
  const names = new Set(idps.map((p) => p.idp.name));
  return (await resolveOutboundTargets(db, RESIDENT_APPLICATION_ID)).filter((t) => names.has(t.idpName));
}
