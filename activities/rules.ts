/**
 * The rule check of an outbound delivery on a link with Enable Rules (issue #10; WSO2's seed: "outbound provisioning
 * request will be executed along with the XACML rules enabled"). OutboundFanOut calls `decideRules` before it
 * delivers a change to such a target (such a link as it is at delivery: see rulesOfLinks) and acts on the verdict:
 *
 * - Permit: deliver, applying the obligations this server understands (OBLIGATION_OMIT_ATTRIBUTE). A Permit with an
 *   obligation it does not understand, or cannot discharge, is a Deny: a PEP must not act on a Permit whose
 *   obligations it cannot fulfil (XACML 3.0 §7.18; the deny-biased PEP of §7.2.2).
 * - Deny: this operation is not sent to this target; audited `denied` with the reason. Nothing else is held back.
 * - NotApplicable: the link's `rulesNotApplicable`: `skip` (audited `denied`; the default, because it is what WSO2
 *   does: its rule handler's NotApplicable test compares with "Not Applicable", which Balana never writes, so only a
 *   Permit provisions there, docs/rules.md) or `provision`.
 * - Indeterminate (a missing attribute, a policy error, no usable policies): the fan-out holds the target's queue and
 *   quarantines the connector with a reason naming the policy and the status, exactly like a target that keeps
 *   failing; the operator fixes the policy and resumes the connector, and the held deliveries are decided again.
 *
 * The verdict is the activity's result, so it is in the workflow's history: it carries the decision, the deciding
 * top-level policy and a short reason (status message, missing attributes, advice), never an attribute value of the
 * request, so never a password or a secret.
 */
import type { PrismaClient } from '../src/db/client.js';
import { RESIDENT_APPLICATION_ID, RESIDENT_APPLICATION_NAME } from '../src/provisioning/defaults.js';
import type { OutboundTarget, ProvisioningEvent, UserRecord } from '../src/provisioning/types.js';
import { formatValue } from '../src/rules/functions/datatypes.js';
import { PolicyStore } from '../src/rules/policy-store.js';
import { buildProvisioningRequest, ProvisioningRequestError, type ProvisioningDecisionInput, type RequestProfile } from '../src/rules/provisioning-request.js';
import type { Decision, XacmlResult } from '../src/rules/response.js';
import { toScimUser } from '../src/scim/user-resource.js';
import { rolesOfUser } from '../src/userstore/roles.js';

/**
 * The obligation this server discharges: leave SCIM attributes out of what is sent to the target. Each assignment
 * with AttributeId OBLIGATION_OMIT_ATTRIBUTE_PATH names one attribute by its SCIM path, as a string: a top-level
 * attribute (`phoneNumbers`), a sub-attribute (`name.givenName`), or an extension attribute by its schema URN
 * (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`). `userName` and `id` cannot be left out
 * (the target could not identify the user): such an obligation cannot be discharged, so the Permit is a Deny.
 *
 * @example
 *   <ObligationExpression ObligationId="urn:provisioning-server:obligation:omit-attribute" FulfillOn="Permit">
 *     <AttributeAssignmentExpression AttributeId="urn:provisioning-server:obligation:omit-attribute:path">
 *       <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">phoneNumbers</AttributeValue>
 *     </AttributeAssignmentExpression>
 *   </ObligationExpression>
 */
export const OBLIGATION_OMIT_ATTRIBUTE = 'urn:provisioning-server:obligation:omit-attribute';
export const OBLIGATION_OMIT_ATTRIBUTE_PATH = 'urn:provisioning-server:obligation:omit-attribute:path';

const STRING = 'http://www.w3.org/2001/XMLSchema#string';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:user';
/** Attributes a delivery cannot do without. */
const REQUIRED = new Set(['username', 'id']);
/** Attributes one omit-attribute obligation may name. */
const MAX_OMIT_PATHS = 100;

/** What OutboundFanOut does with one delivery on an Enable Rules link. In workflow history: small, no secrets. */
export interface RuleVerdict {
  /** deliver (Permit, or NotApplicable on a `provision` link, or the link no longer has Enable Rules), skip, or hold. */
  action: 'deliver' | 'skip' | 'hold';
  /** The XACML decision; absent when no rule was checked (the link's Enable Rules was turned off meanwhile). */
  decision?: Decision | undefined;
  /** The top-level policy (or policy set) whose result decided, `<PolicyId>@<Version>`. */
  decidedBy?: string | undefined;
  /** Why, for operators: status code and message, missing attributes, advice, an obligation refused. */
  reason?: string | undefined;
  /** SCIM attribute paths the delivery leaves out (omit-attribute obligations of the Permit). */
  omit?: string[] | undefined;
}

export type RuleOperation = ProvisioningDecisionInput['operation'];

/** The operation a policy sees: a change JitProvision started is `jit` (its channel), except a deletion. */
export function ruleOperation(event: Pick<ProvisioningEvent, 'operation' | 'initiator'>): RuleOperation {
  return event.initiator.channel === 'jit' && event.operation !== 'delete' ? 'jit' : event.operation;
}

/**
 * Whether a link routing this application's changes (or the resident SP's: every change) to the connector has Enable
 * Rules *now*, and what NotApplicable means for it. The event's target says what the links were when the change was
 * accepted; the decision follows the links at delivery, both ways: an operator who turned Enable Rules off since means
 * the change goes out unchecked (decideRules), one who turned it on since means it is decided (deliverToTarget asks
 * with this, and answers `rulesRequired`), so a backlog queued behind a down target never bypasses a policy. Two links
 * with rules (the resident SP's and the application's) skip on NotApplicable if either says `skip`.
 */
export async function rulesOfLinks(db: PrismaClient, applicationId: string, connectorId: string): Promise<{ enabled: boolean; notApplicable: 'provision' | 'skip' }> {
  const links = await db.outboundLink.findMany({
    where: { connectorId, rulesEnabled: true, applicationId: { in: [...new Set([RESIDENT_APPLICATION_ID, applicationId])] } },
    select: { rulesNotApplicable: true },
  });
  return { enabled: links.length > 0, notApplicable: links.some((l) => l.rulesNotApplicable === 'skip') ? 'skip' : 'provision' };
}

/** WSO2 writes a secondary domain's group as `DOMAIN/name` and a PRIMARY one bare (its role names). */
function groupName(domain: string, displayName: string): string {
  return domain.toUpperCase() === 'PRIMARY' ? displayName : `${domain.toUpperCase()}/${displayName}`;
}

/** The inputs of a decision: the event's snapshot of the resource, its groups and roles as the store has them now. */
export async function decisionInput(db: PrismaClient, event: ProvisioningEvent, target: Pick<OutboundTarget, 'idpName' | 'connectorType' | 'connectorId'>, now: Date, operation: RuleOperation = ruleOperation(event)): Promise<ProvisioningDecisionInput> {
  const app = await db.application.findUnique({ where: { id: event.initiator.applicationId }, select: { id: true, name: true, isResident: true } });
  const resident = app?.isResident ?? event.initiator.applicationId === RESIDENT_APPLICATION_ID;
  // The resident service provider is marked, so the wso2 profile names it as WSO2 does (wso2carbon-local-sp).
  const application = { id: event.initiator.applicationId, name: app?.name ?? (resident ? RESIDENT_APPLICATION_NAME : event.initiator.applicationId), resident };
  const base = { operation, target: { idpName: target.idpName, connectorType: target.connectorType, connectorId: target.connectorId }, application, now };
  if (event.resourceType === 'Group') {
    const g = event.group;
    return { ...base, resourceType: 'Group', resource: { id: g.id, displayName: g.displayName, ...(g.externalId !== undefined && { externalId: g.externalId }) }, domain: g.domain.toUpperCase(), groups: [], roles: [] };
  }
  return { ...base, ...(await userFacts(db, event.user)) };
}

/** A user's resource, groups and roles for a decision (the password never: it is not an attribute a policy reads). */
export async function userFacts(db: PrismaClient, user: UserRecord & { password?: string | undefined }): Promise<Pick<ProvisioningDecisionInput, 'resourceType' | 'resource' | 'domain' | 'groups' | 'roles'>> {
  const { password: _password, ...record } = user;
  const [memberships, held] = await Promise.all([
    db.groupMember.findMany({ where: { memberId: user.id, memberType: 'User' }, select: { group: { select: { id: true, displayName: true, domain: { select: { name: true } } } } }, take: 10_000 }),
    rolesOfUser(db, user.id),
  ]);
  const groups = memberships.map((m) => m.group);
  const resource = toScimUser({ ...record, groups: groups.map((g) => ({ value: g.id, display: g.displayName, type: 'direct' as const })) }, '');
  return {
    resourceType: 'User',
    resource,
    domain: user.domain.toUpperCase(),
    groups: groups.map((g) => groupName(g.domain.name, g.displayName)),
    roles: held.map((h) => h.role.name),
  };
}

function policyName(result: Pick<XacmlResult, 'decidedBy'>): string | undefined {
  return result.decidedBy ? `${result.decidedBy.id}@${result.decidedBy.version}` : undefined;
}

/** Status code (its last URN segment), message and missing attributes, in one line. */
export function statusText(result: Pick<XacmlResult, 'status'>): string | undefined {
  const s = result.status;
  if (!s) return undefined;
  const code = s.code.split(':').pop() ?? s.code;
  const missing = (s.missingAttributes ?? []).map((m) => `${m.attributeId} (${m.category.split(/[:/]/).pop() ?? m.category})`);
  return [code, s.message, missing.length > 0 ? `missing ${missing.join(', ')}` : undefined].filter((x) => x).join(': ');
}

/** The advice's string values, for the reason of a Deny (a policy's own words for operators). */
function adviceText(result: Pick<XacmlResult, 'advice'>): string | undefined {
  const texts = result.advice.flatMap((a) => a.assignments.map((x) => (x.value.dataType === STRING ? formatValue(x.value) : undefined)).filter((t): t is string => t !== undefined));
  return texts.length > 0 ? texts.join('; ') : undefined;
}

/** The obligations of a Permit as what the delivery must do, or why they cannot be discharged. */
export function dischargeObligations(result: Pick<XacmlResult, 'obligations'>): { omit: string[] } | { refused: string } {
  const omit: string[] = [];
  for (const o of result.obligations) {
    if (o.id !== OBLIGATION_OMIT_ATTRIBUTE) return { refused: `obligation ${o.id} is not one this server understands` };
    for (const a of o.assignments) {
      if (a.attributeId !== OBLIGATION_OMIT_ATTRIBUTE_PATH || a.value.dataType !== STRING) {
        return { refused: `obligation ${o.id}: assignment ${a.attributeId} is not a string ${OBLIGATION_OMIT_ATTRIBUTE_PATH}` };
      }
      const path = formatValue(a.value).trim();
      const problem = omitPathProblem(path);
      if (problem) return { refused: `obligation ${o.id} cannot be discharged: ${problem}` };
      omit.push(path);
    }
    if (omit.length > MAX_OMIT_PATHS) return { refused: `obligation ${o.id} names more than ${MAX_OMIT_PATHS} attributes` };
  }
  return { omit: [...new Set(omit)] };
}

/** Why a path cannot be left out, if it cannot. */
function omitPathProblem(path: string): string | undefined {
  if (path === '' || path.length > 300) return 'an attribute path must be 1 to 300 characters';
  const lower = path.toLowerCase();
  if (REQUIRED.has(lower)) return `${path} cannot be left out: the target identifies the user by it`;
  if (!lower.startsWith('urn:') && !/^[a-z][a-z0-9_$-]*(\.[a-z][a-z0-9_$-]*)?$/i.test(path)) return `${path} is not a SCIM attribute path`;
  return undefined;
}

/**
 * The user without the attributes an omit-attribute obligation names (SCIM paths, case-insensitive as SCIM attribute
 * names are, RFC 7643 §2.1). Unknown paths leave it as it is: the user has no such attribute to send.
 */
export function omitAttributes<U extends UserRecord & { password?: string | undefined }>(user: U, paths: readonly string[]): U {
  const out = structuredClone(user) as unknown as Record<string, unknown>;
  const drop = (obj: Record<string, unknown> | undefined, name: string) => {
    if (!obj) return;
    for (const key of Object.keys(obj)) if (key.toLowerCase() === name.toLowerCase()) delete obj[key];
  };
  for (const path of paths) {
    const lower = path.toLowerCase();
    if (lower.startsWith(`${ENTERPRISE}:`)) {
      const rest = path.slice(ENTERPRISE.length + 1);
      const [attr, sub] = rest.split('.');
      const ent = out.enterprise as Record<string, unknown> | undefined;
      if (sub !== undefined) drop(ent?.[attr!] as Record<string, unknown> | undefined, sub);
      else drop(ent, attr!);
      continue;
    }
    if (lower.startsWith('urn:')) {
      // An extension schema's attribute: `<schema URN>:<attribute>`; the URN alone leaves the whole extension out.
      const extensions = out.extensions as Record<string, Record<string, unknown>> | undefined;
      for (const urn of Object.keys(extensions ?? {})) {
        if (lower === urn.toLowerCase()) delete extensions![urn];
        else if (lower.startsWith(`${urn.toLowerCase()}:`)) drop(extensions![urn], path.slice(urn.length + 1));
      }
      continue;
    }
    const [attr, sub] = path.split('.');
    if (sub !== undefined) {
      const parent = Object.keys(out).find((k) => k.toLowerCase() === attr!.toLowerCase());
      const value = parent ? out[parent] : undefined;
      if (Array.isArray(value)) for (const v of value) drop(v as Record<string, unknown>, sub);
      else if (value && typeof value === 'object') drop(value as Record<string, unknown>, sub);
    } else {
      drop(out, attr!);
    }
  }
  // Multi-valued attributes the delivery code iterates stay arrays.
  for (const k of ['emails', 'phoneNumbers', 'addresses'] as const) if (!Array.isArray(out[k])) out[k] = [];
  return out as U;
}

/** Turns the decision point's result into what the fan-out does (see the header). */
export function verdictOf(result: XacmlResult, notApplicable: 'provision' | 'skip'): RuleVerdict {
  const decidedBy = policyName(result);
  switch (result.decision) {
    case 'Permit': {
      const obligations = dischargeObligations(result);
      if ('refused' in obligations) return { action: 'skip', decision: 'Deny', decidedBy, reason: `Permit treated as Deny: ${obligations.refused}` };
      return { action: 'deliver', decision: 'Permit', decidedBy, ...(obligations.omit.length > 0 && { omit: obligations.omit, reason: `left out: ${obligations.omit.join(', ')}` }) };
    }
    case 'Deny':
      return { action: 'skip', decision: 'Deny', decidedBy, reason: clip(adviceText(result) ?? statusText(result) ?? `denied by ${decidedBy ?? 'the policies'}`) };
    case 'NotApplicable':
      return notApplicable === 'provision'
        ? { action: 'deliver', decision: 'NotApplicable', reason: 'no policy applies; the link provisions on NotApplicable' }
        : { action: 'skip', decision: 'NotApplicable', reason: 'no policy applies; the link skips on NotApplicable' };
    default:
      return {
        action: 'hold',
        decision: 'Indeterminate',
        decidedBy,
        reason: clip(`Indeterminate${result.extendedIndeterminate ? `{${result.extendedIndeterminate}}` : ''} from ${decidedBy ?? 'the policies'}: ${statusText(result) ?? 'no status'}`),
      };
  }
}

const clip = (s: string) => (s.length > 1000 ? `${s.slice(0, 999)}…` : s);

export interface RulesDeps {
  db: PrismaClient;
}

export function createRulesActivities(deps: RulesDeps) {
  const { db } = deps;
  // One per worker process: recompiled when the saved policies' revision moves (src/rules/policy-store.ts).
  const store = new PolicyStore(db);

  /** Evaluates the saved policies for one delivery; Indeterminate (never a throw) when they cannot be used. */
  async function decide(event: ProvisioningEvent, target: OutboundTarget, notApplicable: 'provision' | 'skip'): Promise<RuleVerdict> {
    const rules = await store.current();
    if (!rules.ok) return { action: 'hold', decision: 'Indeterminate', reason: clip(`the saved policies cannot be used: ${rules.broken}`) };
    const now = new Date();
    const input = await decisionInput(db, event, target, now);
    let response;
    try {
      response = rules.pdp.evaluate((profile: string | undefined) => buildProvisioningRequest(input, (profile ?? 'clean') as RequestProfile), { now });
    } catch (err) {
      // The request could not be built (a bound exceeded: a user in more groups than a request may carry): the
      // policies cannot decide, so the delivery is held for an operator, never sent unchecked nor dropped.
      if (err instanceof ProvisioningRequestError) return { action: 'hold', decision: 'Indeterminate', reason: clip(`the decision request could not be built: ${err.message}`) };
      throw err;
    }
    const result = response.results[0];
    if (!result) return { action: 'hold', decision: 'Indeterminate', reason: 'the decision point gave no result' };
    return verdictOf(result, notApplicable);
  }

  return {
    /**
     * The rule check of one delivery (see the header), on the newest state of a folded run. Writes nothing: the
     * fan-out hands the verdict to deliverToTarget (deliver, or audit `denied`) or to quarantineConnector (hold).
     */
    async decideRules(args: { event: ProvisioningEvent; target: OutboundTarget }): Promise<RuleVerdict> {
      const { event, target } = args;
      const links = await rulesOfLinks(db, event.initiator.applicationId, target.connectorId);
      if (!links.enabled) return { action: 'deliver' };
      return decide(event, target, links.notApplicable);
    },
  };
}
