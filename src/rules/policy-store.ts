/**
 * The saved rule policies as one decision point: the only file under src/rules/ with I/O. It reads the policies
 * (rule_policy, the current rule_policy_version of each) and the root combining algorithm (rule_setting) and compiles
 * them into one Pdp, cached per process.
 *
 * Every change to a policy or a setting bumps rule_setting.revision in the same transaction (src/http/admin/
 * policies.ts, through `savePolicies` below). Each decision reads that revision first (one indexed single-row read)
 * and recompiles when it moved, so a change takes effect for the next decision on every worker and api process,
 * without a restart and without a cache time.
 *
 * Which policies take part:
 * - every policy's current version is *known* to the decision point, so a Policy(Set)IdReference finds it (XACML 3.0
 *   §5.10, §5.11), enabled or not: a disabled policy can still serve as a building block of a policy set;
 * - the *enabled* ones are the top-level policies, combined by the root combining algorithm (default: WSO2's, see
 *   DEFAULT_ROOT_COMBINING_ALGORITHM), in the order they were created (which first-applicable and the ordered
 *   algorithms read). Each is tagged with its request profile (`clean` or `wso2`), so a WSO2 policy gets WSO2's
 *   string attributes and a new one typed values, in the same decision.
 *
 * A saved policy that no longer compiles (an engine change, a referenced policy gone) makes the whole configuration
 * unusable: decisions are then Indeterminate with the reason (`broken`), and the fan-out holds the deliveries. Dropping
 * the one policy instead could turn a Deny into a Permit. Saves are checked the same way before they commit
 * (`checkConfiguration`), so this happens only when something outside the admin API changed the rows.
 */
import type { PrismaClient } from '../db/client.js';
import { loadPolicy, Pdp, PolicySyntaxError, type LoadedPolicy } from './pdp.js';
import { WSO2_ROOT_COMBINING_ALGORITHM } from './provisioning-request.js';

/**
 * WSO2 Identity Server's entitlement engine combines its top-level policies with deny-overrides
 * (entitlement.properties `PDP.Global.Policy.Combining.Algorithm`), until an operator picks another one (PUT
 * /rules/settings). docs/rules.md has the finding.
 */
export const DEFAULT_ROOT_COMBINING_ALGORITHM = WSO2_ROOT_COMBINING_ALGORITHM;

export const REQUEST_PROFILES = ['clean', 'wso2'] as const;
export type PolicyProfile = (typeof REQUEST_PROFILES)[number];

/** One saved policy's current version, as the decision point needs it. */
export interface StoredPolicy {
  policyId: string;
  kind: 'Policy' | 'PolicySet';
  version: string;
  profile: PolicyProfile;
  enabled: boolean;
  xml: string;
}

/** The decision point of one revision of the saved policies, or why there is none. */
export type CompiledRules =
  | {
      ok: true;
      revision: bigint;
      pdp: Pdp;
      rootCombiningAlgorithm: string;
      /** Everything known (also the disabled ones, for references), compiled. */
      loaded: LoadedPolicy[];
      /** The enabled top-level policies, in combining order. */
      topLevel: { id: string; version: string; profile: PolicyProfile }[];
    }
  | { ok: false; revision: bigint; rootCombiningAlgorithm: string; broken: string };

/** The revision of the saved policies and the root combining algorithm, from the settings row (absent: defaults). */
export async function readRuleSetting(db: Pick<PrismaClient, 'ruleSetting'>): Promise<{ revision: bigint; rootCombiningAlgorithm: string }> {
  const row = await db.ruleSetting.findUnique({ where: { id: 1 }, select: { revision: true, rootCombiningAlgorithm: true } });
  return { revision: row?.revision ?? 0n, rootCombiningAlgorithm: row?.rootCombiningAlgorithm ?? DEFAULT_ROOT_COMBINING_ALGORITHM };
}

/** Reads every policy's current version (only that one: old versions stay on disk), in creation order. */
export async function readStoredPolicies(db: Pick<PrismaClient, '$queryRaw'>): Promise<StoredPolicy[]> {
  const rows = await db.$queryRaw<{ policy_id: string; kind: string; profile: string; enabled: boolean; version: string; xml: string }[]>`
    SELECT p.policy_id, p.kind, p.profile, p.enabled, v.version, v.xml
    FROM rule_policy p
    JOIN rule_policy_version v ON v.policy_row_id = p.id AND v.number = p.current_version
    ORDER BY p.created_at, p.policy_id`;
  return rows.map((r) => ({
    policyId: r.policy_id,
    kind: r.kind === 'PolicySet' ? 'PolicySet' : 'Policy',
    version: r.version,
    profile: r.profile === 'wso2' ? 'wso2' : 'clean',
    enabled: r.enabled,
    xml: r.xml,
  }));
}

/**
 * Compiles a configuration (saved, or as a save would leave it). Throws PolicySyntaxError (with the policy's id) when
 * a policy does not load or the whole does not form a decision point (a reference that resolves nowhere, a cycle, an
 * unknown algorithm).
 */
export function compileConfiguration(
  policies: readonly StoredPolicy[],
  rootCombiningAlgorithm: string,
): { pdp: Pdp; loaded: LoadedPolicy[]; topLevel: { id: string; version: string; profile: PolicyProfile }[] } {
  const loaded = policies.map((p) => {
    try {
      return loadPolicy(p.xml);
    } catch (err) {
      if (err instanceof PolicySyntaxError) {
        err.policyId ??= p.policyId;
        throw err;
      }
      throw err;
    }
  });
  const topLevel = policies.filter((p) => p.enabled).map((p) => ({ id: p.policyId, version: p.version, profile: p.profile }));
  const pdp = new Pdp({ policies: loaded, topLevel, rootCombiningAlgorithm });
  return { pdp, loaded, topLevel };
}

/** One line naming what is wrong with a configuration, for operators (audit rows, quarantine reasons, 400 answers). */
export function describeConfigurationError(err: unknown): string {
  if (err instanceof PolicySyntaxError) {
    const where = err.policyId ? `policy ${err.policyId}` : 'the policies';
    return `${where}: ${err.message}`.slice(0, 1000);
  }
  return `the policies could not be compiled: ${err instanceof Error ? err.message : String(err)}`.slice(0, 1000);
}

/**
 * The per-process cache of the compiled policies. `current()` costs one single-row read when nothing changed.
 *
 * @example
 *   const store = new PolicyStore(db);
 *   const rules = await store.current();
 *   if (rules.ok) rules.pdp.evaluate((profile) => buildProvisioningRequest(input, profile ?? 'clean'), { now });
 */
export class PolicyStore {
  private cached: CompiledRules | undefined;
  /** A compilation under way, shared by the decisions that asked for the same revision meanwhile. */
  private pending: { revision: bigint; promise: Promise<CompiledRules> } | undefined;

  constructor(private readonly db: PrismaClient) {}

  async current(): Promise<CompiledRules> {
    const setting = await readRuleSetting(this.db);
    const cached = this.cached;
    if (cached && cached.revision === setting.revision && cached.rootCombiningAlgorithm === setting.rootCombiningAlgorithm) return cached;
    if (this.pending?.revision === setting.revision) return this.pending.promise;
    const promise = this.compile(setting);
    this.pending = { revision: setting.revision, promise };
    try {
      const compiled = await promise;
      // A newer revision may have been compiled meanwhile by a later call: keep the newest.
      if (!this.cached || this.cached.revision <= compiled.revision) this.cached = compiled;
      return compiled;
    } finally {
      if (this.pending?.promise === promise) this.pending = undefined;
    }
  }

  private async compile(setting: { revision: bigint; rootCombiningAlgorithm: string }): Promise<CompiledRules> {
    // Read after the revision: the policies are at least as new as it, so a change committed in between is seen at
    // the latest by the next decision (its revision is newer than this one).
    const policies = await readStoredPolicies(this.db);
    try {
      const { pdp, loaded, topLevel } = compileConfiguration(policies, setting.rootCombiningAlgorithm);
      return { ok: true, revision: setting.revision, pdp, loaded, topLevel, rootCombiningAlgorithm: setting.rootCombiningAlgorithm };
    } catch (err) {
      return { ok: false, revision: setting.revision, rootCombiningAlgorithm: setting.rootCombiningAlgorithm, broken: describeConfigurationError(err) };
    }
  }
}

/**
 * Runs a change to the saved policies or settings in one transaction that also bumps the revision, after checking
 * that the configuration it leaves compiles (`check`: it gets the transaction client and throws to refuse).
 */
export async function savePolicies<T>(
  db: PrismaClient,
  change: (tx: Parameters<Parameters<PrismaClient['$transaction']>[0]>[0]) => Promise<T>,
): Promise<T> {
  return db.$transaction(async (tx) => {
    // Saves take turns on the settings row, so two saves never each check a configuration the other is changing (a
    // delete of a policy while a set referencing it is created): the second checks what the first committed.
    await tx.$executeRaw`
      INSERT INTO rule_setting (id, root_combining_algorithm, revision, updated_at)
      VALUES (1, ${DEFAULT_ROOT_COMBINING_ALGORITHM}, 0, now())
      ON CONFLICT (id) DO NOTHING`;
    await tx.$queryRaw`SELECT id FROM rule_setting WHERE id = 1 FOR UPDATE`;
    const result = await change(tx);
    const setting = await readRuleSetting(tx);
    // Checked inside the transaction, on the rows as this change leaves them: a save never leaves the decision
    // point without a configuration (the error is the caller's to turn into a 400 or 409).
    compileConfiguration(await readStoredPolicies(tx), setting.rootCombiningAlgorithm);
    await tx.ruleSetting.upsert({
      where: { id: 1 },
      create: { id: 1, rootCombiningAlgorithm: setting.rootCombiningAlgorithm, revision: setting.revision + 1n },
      update: { revision: { increment: 1 } },
    });
    return result;
    // Compiling a large configuration inside the transaction takes longer than Prisma's 5 s default on a busy machine.
  }, { timeout: 30_000, maxWait: 10_000 });
}
