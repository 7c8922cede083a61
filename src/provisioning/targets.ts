/**
 * Which outbound targets a change goes to: the resident service provider's links (every
 * user-management operation) plus the initiating application's own links. A connector linked from both
 * is one target; it is blocking (or rule-gated, or JIT-enabled) if either link says so.
 */
import { retrySettings } from '../connectors/retry.js';
import type { PrismaClient } from '../db/client.js';
import type { OutboundTarget } from './types.js';
import { RESIDENT_APPLICATION_ID } from './defaults.js';

/** One connector as a target of its own (on-demand re-send), with its link flags if the resident SP links it. */
export async function targetForConnector(db: PrismaClient, connectorId: string): Promise<OutboundTarget | undefined> {
  const linked = (await resolveOutboundTargets(db, RESIDENT_APPLICATION_ID)).find((t) => t.connectorId === connectorId);
  if (linked) return linked;
  const c = await db.outboundConnector.findUnique({ where: { id: connectorId }, include: { idp: true } });
  if (!c) return undefined;
  return {
    connectorId: c.id,
    connectorType: c.type,
    label: `${c.idp.name}/${c.type}`,
    idpName: c.idp.name,
    blocking: false,
    rulesEnabled: false,
    jitEnabled: false,
    retry: retrySettings(c.retry),
  };
}

export async function resolveOutboundTargets(db: PrismaClient, applicationId: string): Promise<OutboundTarget[]> {
  const links = await db.outboundLink.findMany({
    where: {
      applicationId: { in: [...new Set([RESIDENT_APPLICATION_ID, applicationId])] },
      connector: { enabled: true, idp: { enabled: true } },
    },
    include: { connector: { include: { idp: true } } },
    orderBy: { createdAt: 'asc' },
  });
  const byConnector = new Map<string, OutboundTarget>();
  for (const link of links) {
    const c = link.connector;
    const existing = byConnector.get(c.id);
    if (existing) {
      existing.blocking ||= link.blocking;
      existing.rulesEnabled ||= link.rulesEnabled;
      existing.jitEnabled ||= link.jitEnabled;
      continue;
    }
    byConnector.set(c.id, {
      connectorId: c.id,
      connectorType: c.type,
      label: `${c.idp.name}/${c.type}`,
      idpName: c.idp.name,
      blocking: link.blocking,
      rulesEnabled: link.rulesEnabled,
      jitEnabled: link.jitEnabled,
      retry: retrySettings(c.retry),
    });
  }
  return [...byConnector.values()];
}
