/**
 * Identity providers, their outbound connectors, and applications' outbound links: validated writes,
 * secrets encrypted at rest, views that never show a secret.
 */
import { z } from 'zod';
import type { ConnectorRegistry } from '../connectors/registry.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { PrismaClient } from '../db/client.js';
import { isUniqueViolation } from '../db/errors.js';
import { type Prisma } from '../generated/prisma/client.js';
import { federatedAuthenticatorInput, jitInput } from '../federation/config.js';
import { jitReferenceProblems } from '../federation/settings-check.js';
import { federatedAuthenticatorView, jitSettingsOf, sealFederatedAuthenticator, storedFederatedAuthenticator } from '../federation/store.js';
import { WSO2_NOT_APPLICABLE } from '../rules/provisioning-request.js';
import { validateAttributeMapping } from './attribute-mapping.js';

export class AdminError extends Error {
  override name = 'AdminError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: string[] = [],
  ) {
    super(message);
  }
}

const retryInput = z
  .object({
    initialIntervalMs: z.number().int().positive(),
    maximumIntervalMs: z.number().int().positive(),
    backoffCoefficient: z.number().min(1),
    maximumAttempts: z.number().int().min(0),
  })
  .partial()
  .strict();

export const connectorInput = z
  .object({
    type: z.string().min(1),
    enabled: z.boolean().default(true),
    settings: z.record(z.string(), z.unknown()).default({}),
    secrets: z.record(z.string(), z.string()).default({}),
    passwordProvisioning: z.boolean().default(false),
    // Never used for delivery: mapping rules live in settings.attributeMapping (src/provisioning/attribute-mapping.ts),
    // where every connector's settings are validated. Accepted only empty, so nobody configures what does nothing.
    attributeMapping: z
      .unknown()
      .optional()
      .refine((v) => v === undefined || v === null || (typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0), {
        message: 'per-connector attribute mapping rules go in settings.attributeMapping, a list of { target, source or expression, default, when }',
      })
      .transform((): Record<string, string> => ({})),
    retry: retryInput.default({}),
  })
  .strict();
export type ConnectorInput = z.infer<typeof connectorInput>;

/**
 * settings.reconcile of a connector: when its target is reconciled on its own. Checked when the connector is saved
 * (validateConnector, below); with intervalMinutes or cron, saving the connector creates or updates its schedule
 * (src/http/admin/reconcile.ts).
 */
export const settingsReconcile = z
  .object({
    intervalMinutes: z.number().int().min(1).max(7 * 24 * 60).optional(),
    cron: z.string().trim().min(1).max(200).optional(),
    repair: z.boolean().optional(),
    recreateMissing: z.boolean().optional(),
  })
  .strict()
  .refine((v) => !(v.intervalMinutes !== undefined && v.cron !== undefined), { message: 'give intervalMinutes or cron, not both' });

/**
 * A change to a connector: any of its fields. `settings` replaces the settings as a whole (read them, change, send
 * back); `secrets` are merged by name (a secret sent as null is removed), so rotating one credential needs no other.
 * The type cannot change: add a connector of the new type instead.
 */
export const connectorUpdateInput = z
  .object({
    enabled: z.boolean().optional(),
    settings: z.record(z.string(), z.unknown()).optional(),
    secrets: z.record(z.string(), z.string().nullable()).optional(),
    passwordProvisioning: z.boolean().optional(),
    retry: retryInput.optional(),
  })
  .strict();

/**
 * An identity provider's role configuration, in WSO2's shape (`PUT /identity-providers/{id}/roles`):
 * `outboundProvisioningRoles` names local roles whose holders alone are provisioned to its connectors
 * (src/provisioning/provisioning-roles.ts). Role mappings belong to federation, which is not built yet: only an
 * empty list is accepted, so nobody configures what does nothing.
 */
export const identityProviderRolesInput = z
  .object({
    mappings: z.array(z.unknown()).max(0, { message: 'role mappings come with federated login, which is not available yet' }).optional(),
    outboundProvisioningRoles: z.array(z.string().trim().min(1).max(255)).max(100).default([]),
  })
  .strict();

export const identityProviderInput = z
  .object({
    name: z.string().min(1).max(255),
    description: z.string().max(1024).optional(),
    homeRealmIdentifier: z.string().max(255).optional(),
    alias: z.string().max(255).optional(),
    enabled: z.boolean().default(true),
    outboundConnectors: z.array(connectorInput).default([]),
    roles: identityProviderRolesInput.optional(),
    /** Federated login (issue #9): the OIDC authenticator and the JIT settings, as their own endpoints take them. */
    federatedAuthenticator: federatedAuthenticatorInput.optional(),
    jit: jitInput.optional(),
  })
  .strict();

/** `PATCH /identity-providers/{id}`: the IdP's own fields (connectors, roles and federation have their endpoints). */
export const identityProviderUpdateInput = z
  .object({
    description: z.string().max(1024).nullable().optional(),
    homeRealmIdentifier: z.string().max(255).nullable().optional(),
    enabled: z.boolean().optional(),
  })
  .strict();

export const outboundLinkInput = z
  .object({
    connectorId: z.string().uuid().optional(),
    identityProvider: z.string().min(1).optional(),
    connectorType: z.string().min(1).optional(),
    blocking: z.boolean().default(false),
    rulesEnabled: z.boolean().default(false),
    jitEnabled: z.boolean().default(false),
    /** With Enable Rules, what NotApplicable (no policy applies) means: skip (what WSO2 does, docs/rules.md) or provision. */
    rulesNotApplicable: z.enum(['provision', 'skip']).default(WSO2_NOT_APPLICABLE),
  })
  .strict()
  .refine((v) => v.connectorId !== undefined || (v.identityProvider !== undefined && v.connectorType !== undefined), {
    message: 'give connectorId, or identityProvider and connectorType',
  });

/** `PATCH .../outbound-connectors/{linkId}`: the link's flags; absent ones are kept. */
export const outboundLinkPatch = z
  .object({
    blocking: z.boolean(),
    rulesEnabled: z.boolean(),
    jitEnabled: z.boolean(),
    rulesNotApplicable: z.enum(['provision', 'skip']),
  })
  .partial()
  .strict();

type LinkRow = Prisma.OutboundLinkGetPayload<object>;
function linkView(l: LinkRow, connector: { idp: { name: string }; type: string }) {
  return {
    id: l.id,
    connectorId: l.connectorId,
    identityProvider: connector.idp.name,
    connectorType: connector.type,
    blocking: l.blocking,
    rulesEnabled: l.rulesEnabled,
    jitEnabled: l.jitEnabled,
    rulesNotApplicable: l.rulesNotApplicable,
  };
}

export function parseInput<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const r = schema.safeParse(body);
  if (!r.success) {
    throw new AdminError(
      400,
      'invalid_request',
      'The request body is invalid',
      r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`),
    );
  }
  return r.data;
}

const MASK = '********';

type ConnectorRow = Prisma.OutboundConnectorGetPayload<object>;

/** A connector's secret settings, decrypted. */
function openSecrets(box: SecretBox, sealed: string | null): Record<string, string> {
  return sealed ? (JSON.parse(box.openString(sealed)) as Record<string, string>) : {};
}

export function connectorView(row: ConnectorRow, box: SecretBox) {
  const secrets = openSecrets(box, row.secretsEncrypted);
  return {
    id: row.id,
    type: row.type,
    enabled: row.enabled,
    settings: row.settings,
    // Which secrets are set, never their values.
    secrets: Object.fromEntries(Object.keys(secrets).map((k) => [k, MASK])),
    passwordProvisioning: row.passwordProvisioning,
    attributeMapping: row.attributeMapping,
    retry: row.retry,
    quarantined: row.quarantinedAt ? { since: row.quarantinedAt.toISOString(), reason: row.quarantineReason } : null,
  };
}

/**
 * The connector's own checks, plus the attribute mapping every connector may have (settings.attributeMapping), checked
 * here once for all connector types, plug-ins included: rule shape, source paths, JSONata expressions.
 */
async function validateConnector(registry: ConnectorRegistry, input: ConnectorInput): Promise<void> {
  const factory = registry.factory(input.type);
  if (!factory) {
    throw new AdminError(400, 'invalid_request', `Unknown connector type '${input.type}'`, [`known types: ${registry.types().join(', ')}`]);
  }
  const reconcile = input.settings.reconcile === undefined ? undefined : settingsReconcile.safeParse(input.settings.reconcile);
  const issues = [
    ...factory.validate({ type: input.type, settings: input.settings, secrets: input.secrets }),
    ...(await validateAttributeMapping(input.settings.attributeMapping)),
    ...(reconcile && !reconcile.success ? reconcile.error.issues.map((i) => `reconcile${i.path.length > 0 ? `.${i.path.join('.')}` : ''}: ${i.message}`) : []),
  ];
  if (issues.length > 0) throw new AdminError(400, 'invalid_request', `Invalid ${input.type} connector settings`, issues);
}

function connectorData(box: SecretBox, input: ConnectorInput) {
  return {
    type: input.type,
    enabled: input.enabled,
    settings: input.settings as Prisma.InputJsonValue,
    secretsEncrypted: Object.keys(input.secrets).length > 0 ? box.sealString(JSON.stringify(input.secrets)) : null,
    passwordProvisioning: input.passwordProvisioning,
    attributeMapping: input.attributeMapping,
    retry: input.retry,
  };
}

const idpInclude = {
  connectors: { orderBy: { createdAt: 'asc' } },
  provisioningRoles: { include: { role: true }, orderBy: { role: { name: 'asc' } } },
} as const;
type IdpRow = Prisma.IdentityProviderGetPayload<{ include: typeof idpInclude }>;

export function identityProviderView(row: IdpRow, box: SecretBox) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    homeRealmIdentifier: row.homeRealmId,
    alias: row.alias,
    enabled: row.enabled,
    outboundConnectors: row.connectors.map((c) => connectorView(c, box)),
    roles: { mappings: [], outboundProvisioningRoles: row.provisioningRoles.map((p) => p.role.name) },
    // The client secret masked (src/federation/store.ts); JIT null when off and never configured.
    federatedAuthenticator: federatedAuthenticatorView(storedFederatedAuthenticator(row.federatedAuth)),
    jit: row.jit === null ? null : jitSettingsOf(row.jit),
    created: row.createdAt.toISOString(),
    lastModified: row.updatedAt.toISOString(),
  };
}

export class ProvisioningConfigService {
  constructor(
    private readonly db: PrismaClient,
    private readonly box: SecretBox,
    private readonly registry: ConnectorRegistry,
  ) {}

  /** Role names to ids, ignoring case; an unknown name is a 400 naming it. */
  private async provisioningRoleIds(names: readonly string[]): Promise<string[]> {
    const wanted = [...new Set(names.map((n) => n.toLowerCase()))];
    if (wanted.length === 0) return [];
    const rows = await this.db.role.findMany({ where: { nameNormalized: { in: wanted } }, select: { id: true, nameNormalized: true } });
    const unknown = wanted.filter((n) => !rows.some((r) => r.nameNormalized === n));
    if (unknown.length > 0) {
      throw new AdminError(400, 'invalid_request', 'Unknown roles in roles.outboundProvisioningRoles', unknown.map((n) => `'${n}': create it first (POST /api/server/v1/roles)`));
    }
    return rows.map((r) => r.id);
  }

  /**
   * `PUT /identity-providers/{id}/roles`: replaces the outbound provisioning roles. Applies to the next change of
   * each user (and at once to role assignments); users provisioned before stay at the target until they lose a
   * role, are deleted or are re-sent.
   */
  async setIdentityProviderRoles(idpId: string, body: unknown) {
    const input = parseInput(identityProviderRolesInput, body);
    const roleIds = await this.provisioningRoleIds(input.outboundProvisioningRoles);
    const exists = await this.db.identityProvider.findUnique({ where: { id: idpId }, select: { id: true } });
    if (!exists) throw new AdminError(404, 'not_found', `Identity provider ${idpId} not found`);
    await this.db.$transaction([
      this.db.identityProviderProvisioningRole.deleteMany({ where: { idpId } }),
      this.db.identityProviderProvisioningRole.createMany({ data: roleIds.map((roleId) => ({ idpId, roleId })) }),
    ]);
    return (await this.getIdentityProvider(idpId)).roles;
  }

  async createIdentityProvider(body: unknown) {
    const input = parseInput(identityProviderInput, body);
    for (const c of input.outboundConnectors) await validateConnector(this.registry, c);
    const provisioningRoleIds = await this.provisioningRoleIds(input.roles?.outboundProvisioningRoles ?? []);
    if (input.jit) {
      const problems = await jitReferenceProblems(this.db, input.jit);
      if (problems.length > 0) throw new AdminError(400, 'invalid_request', 'Invalid JIT settings', problems);
    }
    const types = input.outboundConnectors.map((c) => c.type);
    if (new Set(types).size !== types.length) throw new AdminError(400, 'invalid_request', 'At most one connector of each type per identity provider');
    try {
      const row = await this.db.identityProvider.create({
        data: {
          name: input.name,
          description: input.description ?? null,
          homeRealmId: input.homeRealmIdentifier ?? null,
          alias: input.alias ?? null,
          enabled: input.enabled,
          ...(input.federatedAuthenticator && { federatedAuth: sealFederatedAuthenticator(this.box, input.federatedAuthenticator) }),
          ...(input.jit && { jit: input.jit }),
          connectors: { create: input.outboundConnectors.map((c) => connectorData(this.box, c)) },
          provisioningRoles: { create: provisioningRoleIds.map((roleId) => ({ roleId })) },
        },
        include: idpInclude,
      });
      return identityProviderView(row, this.box);
    } catch (err) {
      if (isUniqueViolation(err)) throw new AdminError(409, 'conflict', `An identity provider named '${input.name}' already exists`);
      throw err;
    }
  }

  async listIdentityProviders() {
    const rows = await this.db.identityProvider.findMany({ include: idpInclude, orderBy: { name: 'asc' } });
    return rows.map((r) => identityProviderView(r, this.box));
  }

  async getIdentityProvider(id: string) {
    const row = await this.db.identityProvider.findUnique({ where: { id }, include: idpInclude });
    if (!row) throw new AdminError(404, 'not_found', `Identity provider ${id} not found`);
    return identityProviderView(row, this.box);
  }

  async deleteIdentityProvider(id: string): Promise<void> {
    const { count } = await this.db.identityProvider.deleteMany({ where: { id } });
    if (count === 0) throw new AdminError(404, 'not_found', `Identity provider ${id} not found`);
  }

  async addConnector(idpId: string, body: unknown) {
    const input = parseInput(connectorInput, body);
    await validateConnector(this.registry, input);
    if (!(await this.db.identityProvider.findUnique({ where: { id: idpId } }))) {
      throw new AdminError(404, 'not_found', `Identity provider ${idpId} not found`);
    }
    try {
      const row = await this.db.outboundConnector.create({ data: { idpId, ...connectorData(this.box, input) } });
      return connectorView(row, this.box);
    } catch (err) {
      if (isUniqueViolation(err)) throw new AdminError(409, 'conflict', `This identity provider already has a ${input.type} connector`);
      throw err;
    }
  }

  /** Changes a connector (see connectorUpdateInput); the merged configuration is validated like a new one. */
  async updateConnector(idpId: string, connectorId: string, body: unknown) {
    const input = parseInput(connectorUpdateInput, body);
    const row = await this.db.outboundConnector.findFirst({ where: { id: connectorId, idpId } });
    if (!row) throw new AdminError(404, 'not_found', `Identity provider ${idpId} has no outbound connector ${connectorId}`);
    const secrets: Record<string, string> = { ...openSecrets(this.box, row.secretsEncrypted) };
    for (const [k, v] of Object.entries(input.secrets ?? {})) {
      if (v === null) delete secrets[k];
      else secrets[k] = v;
    }
    const merged: ConnectorInput = {
      type: row.type,
      enabled: input.enabled ?? row.enabled,
      settings: input.settings ?? (row.settings as Record<string, unknown>),
      secrets,
      passwordProvisioning: input.passwordProvisioning ?? row.passwordProvisioning,
      attributeMapping: {},
      retry: { ...(row.retry as Record<string, number>), ...input.retry },
    };
    await validateConnector(this.registry, merged);
    const { type: _type, ...data } = connectorData(this.box, merged);
    const updated = await this.db.outboundConnector.update({ where: { id: row.id }, data });
    return connectorView(updated, this.box);
  }

  /** Removes a connector: its links go with it; deliveries still queued for it are audited 'skipped: connector deleted'. */
  async deleteConnector(idpId: string, connectorId: string): Promise<void> {
    const { count } = await this.db.outboundConnector.deleteMany({ where: { id: connectorId, idpId } });
    if (count === 0) throw new AdminError(404, 'not_found', `Identity provider ${idpId} has no outbound connector ${connectorId}`);
  }

  async listOutboundLinks(applicationId: string) {
    const links = await this.db.outboundLink.findMany({
      where: { applicationId },
      include: { connector: { include: { idp: true } } },
      orderBy: { createdAt: 'asc' },
    });
    return links.map((l) => linkView(l, l.connector));
  }

  /** Changes a link's flags (Enable Rules, Blocking, Enable JIT, rulesNotApplicable); deliveries already queued see them. */
  async updateOutboundLink(applicationId: string, linkId: string, body: unknown) {
    const input = parseInput(outboundLinkPatch, body);
    const { count } = await this.db.outboundLink.updateMany({ where: { id: linkId, applicationId }, data: input });
    if (count === 0) throw new AdminError(404, 'not_found', `Outbound link ${linkId} not found`);
    const link = await this.db.outboundLink.findUniqueOrThrow({ where: { id: linkId }, include: { connector: { include: { idp: true } } } });
    return linkView(link, link.connector);
  }

  async addOutboundLink(applicationId: string, body: unknown) {
    const input = parseInput(outboundLinkInput, body);
    const connector = input.connectorId
      ? await this.db.outboundConnector.findUnique({ where: { id: input.connectorId }, include: { idp: true } })
      : await this.db.outboundConnector.findFirst({
          where: { type: input.connectorType!, idp: { name: input.identityProvider! } },
          include: { idp: true },
        });
    if (!connector) throw new AdminError(404, 'not_found', 'No such outbound connector');
    try {
      const link = await this.db.outboundLink.create({
        data: {
          applicationId,
          connectorId: connector.id,
          blocking: input.blocking,
          rulesEnabled: input.rulesEnabled,
          jitEnabled: input.jitEnabled,
          rulesNotApplicable: input.rulesNotApplicable,
        },
      });
      return linkView(link, connector);
    } catch (err) {
      if (isUniqueViolation(err)) throw new AdminError(409, 'conflict', 'This connector is already linked');
      throw err;
    }
  }

  async removeOutboundLink(applicationId: string, linkId: string): Promise<void> {
    const { count } = await this.db.outboundLink.deleteMany({ where: { id: linkId, applicationId } });
    if (count === 0) throw new AdminError(404, 'not_found', `Outbound link ${linkId} not found`);
  }
}

/** A connector's full configuration, secrets decrypted, for the delivery activity. */
export async function loadConnectorConfig(db: PrismaClient, box: SecretBox, id: string) {
  const row = await db.outboundConnector.findUnique({ where: { id } });
  if (!row) return undefined;
  return {
    id: row.id,
    type: row.type,
    enabled: row.enabled,
    settings: row.settings as Record<string, unknown>,
    secrets: openSecrets(box, row.secretsEncrypted),
    passwordProvisioning: row.passwordProvisioning,
    quarantinedAt: row.quarantinedAt,
    quarantineReason: row.quarantineReason,
  };
}
