/**
 * Rule policies in the admin API (mounted by src/http/admin/router.ts under /api/server/v1): the XACML 3.0 policies
 * that decide, on links with Enable Rules, whether an outbound operation goes to a target (activities/rules.ts).
 *
 *   POST   /rules/policies                      create: an XML body (application/xml, text/xml, application/xacml+xml)
 *                                               with ?profile=clean|wso2&enabled=true|false, or JSON
 *                                               { "policy": "<Policy ...>", "profile": "clean", "enabled": true }
 *   GET    /rules/policies                      list (without the XML)
 *   GET    /rules/policies/{policyId}           one: metadata and the current version's XML
 *   PUT    /rules/policies/{policyId}           update: a new version (kept; the old ones stay listed), same bodies;
 *                                               the document's PolicyId must be {policyId}
 *   PATCH  /rules/policies/{policyId}           { "enabled": false } / { "profile": "wso2" }
 *   DELETE /rules/policies/{policyId}           with its versions (409 while another policy references it)
 *   GET    /rules/policies/{policyId}/versions  every saved version, newest first
 *   GET    /rules/policies/{policyId}/versions/{n}  one, with its XML
 *   POST   /rules/policies/validate             checks a policy without saving: 200 { valid: true, ... }, or
 *                                               400 { code: invalid_policy, message, line, column }
 *   GET|PUT /rules/settings                     { "rootCombiningAlgorithm": "<policy-combining algorithm URI>" }
 *   POST   /rules/decision[?policy={policyId}]  a decision for an XACML request in the JSON Profile
 *                                               (application/xacml+json, application/json, any application/*+json) or XML
 *                                               (application/xacml+xml, application/xml), answered in the same form,
 *                                               against the enabled policies, one saved policy (?policy=), or a draft:
 *                                               JSON { "policy": "<Policy ...>", "request": {"Request": ...} | "<Request ...>" }
 *   GET    /applications/{id}/provisioning/outbound-connectors/{linkId}/rules[?userId=]
 *                                               which policies apply to this link: what each enabled policy, and
 *                                               all of them combined, decide for create, update, delete and jit
 *
 * {policyId} is the document's PolicyId or PolicySetId, percent-encoded. Every change bumps the policies' revision in
 * the same transaction, so the next decision of every worker sees it (src/rules/policy-store.ts). A change that would
 * leave the saved policies unable to form a decision point (an unresolved reference, a cycle) is refused, and
 * nothing is saved.
 *
 * Bounds: a body 1 MiB (the decision point's own policy bound), a request 256 KiB (REQUEST_LIMITS), MAX_POLICIES
 * policies, MAX_VERSIONS versions of one policy.
 * Errors are the admin API's JSON { code, message, details? }, with `line` and `column` for a policy or request that
 * does not parse.
 *
 * @example
 *   curl -u admin:<pw> -H 'Content-Type: application/xml' --data-binary @only-example-org.xml \
 *     'http://localhost:8080/api/server/v1/rules/policies?profile=clean'
 */
import { isUtf8 } from 'node:buffer';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { decisionInput, verdictOf, type RuleOperation } from '../../../activities/rules.js';
import type { Logger } from '../../log.js';
import { AdminError, parseInput } from '../../provisioning/connectors.js';
import { RESIDENT_APPLICATION_ID } from '../../provisioning/defaults.js';
import type { OutboundTarget, ProvisioningEvent } from '../../provisioning/types.js';
import { JsonProfileError, parseJsonRequest, parseJsonRequestValue, responseToJson } from '../../rules/json-profile.js';
import { Pdp, PolicySyntaxError, loadPolicy, type LoadedPolicy } from '../../rules/pdp.js';
import {
  DEFAULT_ROOT_COMBINING_ALGORITHM,
  PolicyStore,
  REQUEST_PROFILES,
  compileConfiguration,
  describeConfigurationError,
  readRuleSetting,
  readStoredPolicies,
  savePolicies,
  type PolicyProfile,
} from '../../rules/policy-store.js';
import { buildProvisioningRequest, ProvisioningRequestError, type RequestProfile } from '../../rules/provisioning-request.js';
import { RequestSyntaxError, parseRequestXml, type XacmlRequest } from '../../rules/request.js';
import { responseToXml, type XacmlResponse } from '../../rules/response.js';
import { getUser } from '../../userstore/users.js';
import { jsonValueProblem } from '../input.js';
import type { AppContext } from '../context.js';
import { uuidParam } from './params.js';

/** A policy document (the decision point's POLICY_LIMITS.maxBytes), plus room for a JSON wrapper. */
const BODY_LIMIT = '1100kb';
const POLICY_MAX_CHARS = 1024 * 1024;
/** Policies one GET /rules/policies lists; the link view evaluates at most this many one by one. */
const LIST_LIMIT = 1000;
const VIEW_LIMIT = 200;
/** Policies that may be saved (each compiled into every process's decision point), and versions kept per policy. */
export const MAX_POLICIES = 5000;
export const MAX_VERSIONS = 1000;
const OPERATIONS: readonly RuleOperation[] = ['create', 'update', 'delete', 'jit'];

const XML_TYPES = ['application/xml', 'text/xml', 'application/xacml+xml'];
/** As the rest of the admin API (src/http/admin/router.ts): application/xacml+json and application/scim+json included. */
const JSON_TYPES = ['application/json', 'application/*+json'];

const profileSchema = z.enum(REQUEST_PROFILES, { message: `expected one of ${REQUEST_PROFILES.join(', ')}` });
const policyJson = z
  .object({
    policy: z.string().min(1).max(POLICY_MAX_CHARS, { message: `at most ${POLICY_MAX_CHARS} characters` }),
    profile: profileSchema.optional(),
    enabled: z.boolean().optional(),
  })
  .strict();
const policyPatch = z.object({ enabled: z.boolean(), profile: profileSchema }).partial().strict();
const settingsInput = z.object({ rootCombiningAlgorithm: z.string().min(1).max(300) }).strict();
const draftDecision = z
  .object({
    policy: z.string().min(1).max(POLICY_MAX_CHARS),
    profile: profileSchema.optional(),
    request: z.union([z.string().min(1), z.record(z.string(), z.unknown())]),
  })
  .strict();

type Body = { kind: 'xml'; text: string } | { kind: 'json'; text: string; value: unknown } | { kind: 'none' };

/** The media type of a request, without parameters, lower case. */
function mediaType(req: Request): string | undefined {
  return req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
}

/** The body as text of one of the accepted types (XML, JSON), bounded, UTF-8 only; JSON also parsed and checked. */
function bodyOf(req: Request): Body {
  const type = mediaType(req);
  if (!Buffer.isBuffer(req.body) || req.body.length === 0) return { kind: 'none' };
  if (!isUtf8(req.body)) throw new AdminError(400, 'invalid_request', 'The body is not well-formed UTF-8');
  const text = req.body.toString('utf8');
  if (type && XML_TYPES.includes(type)) return { kind: 'xml', text };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AdminError(400, 'invalid_request', 'The request body is not valid JSON');
  }
  const problem = jsonValueProblem(value, POLICY_MAX_CHARS);
  if (problem) throw new AdminError(400, 'invalid_request', problem.detail);
  return { kind: 'json', text, value };
}

function policySyntaxError(err: PolicySyntaxError): AdminError & { line?: number; column?: number } {
  return Object.assign(new AdminError(400, 'invalid_policy', err.message), {
    ...(err.line !== undefined && { line: err.line }),
    ...(err.column !== undefined && { column: err.column }),
    ...(err.policyId !== undefined && { policyId: err.policyId }),
  });
}

/** A policy document from a body: its XML, and the profile and enabled flag given with it. */
function policyFromBody(req: Request): { xml: string; profile?: PolicyProfile; enabled?: boolean } {
  const body = bodyOf(req);
  if (body.kind === 'none') throw new AdminError(400, 'invalid_request', 'Send the policy as an XML body (application/xml) or JSON { "policy": "<Policy ...>" }');
  if (body.kind === 'xml') {
    const q = req.query;
    const profile = typeof q.profile === 'string' ? parseInput(profileSchema, q.profile) : undefined;
    const enabled = q.enabled === undefined ? undefined : q.enabled === 'true' ? true : q.enabled === 'false' ? false : undefined;
    if (q.enabled !== undefined && enabled === undefined) throw new AdminError(400, 'invalid_request', 'enabled must be true or false');
    return { xml: body.text, ...(profile && { profile }), ...(enabled !== undefined && { enabled }) };
  }
  const input = parseInput(policyJson, body.value);
  return { xml: input.policy, ...(input.profile && { profile: input.profile }), ...(input.enabled !== undefined && { enabled: input.enabled }) };
}

/** Loads a policy document or answers 400 with the line and column of what is wrong. */
function load(xml: string): LoadedPolicy {
  try {
    return loadPolicy(xml);
  } catch (err) {
    if (err instanceof PolicySyntaxError) throw policySyntaxError(err);
    throw err;
  }
}

type Tx = Parameters<Parameters<AppContext['db']['$transaction']>[0]>[0];

/** Runs a change through savePolicies, turning a configuration that does not compile into a 409. */
async function save<T>(ctx: AppContext, change: (tx: Tx) => Promise<T>): Promise<T> {
  try {
    return await savePolicies(ctx.db, change);
  } catch (err) {
    if (err instanceof PolicySyntaxError) {
      throw Object.assign(new AdminError(409, 'conflict', `The saved policies would not form a decision point: ${describeConfigurationError(err)}`), err.policyId ? { policyId: err.policyId } : {});
    }
    throw err;
  }
}

const policyInclude = { versions: { select: { number: true, version: true, createdAt: true, createdBy: true } } } as const;

function policyView(row: { policyId: string; kind: string; profile: string; enabled: boolean; currentVersion: number; createdAt: Date; updatedAt: Date; versions: { number: number; version: string }[] }) {
  const current = row.versions.find((v) => v.number === row.currentVersion);
  return {
    policyId: row.policyId,
    kind: row.kind,
    version: current?.version ?? null,
    currentVersion: row.currentVersion,
    versions: row.versions.length,
    profile: row.profile,
    enabled: row.enabled,
    created: row.createdAt.toISOString(),
    lastModified: row.updatedAt.toISOString(),
  };
}

/** The response in the form the request came in. */
function sendDecision(res: Response, response: XacmlResponse, form: 'json' | 'xml'): void {
  if (form === 'xml') res.type('application/xacml+xml').send(responseToXml(response));
  else res.type('application/xacml+json').send(responseToJson(response));
}

function requestError(err: unknown): AdminError | undefined {
  if (err instanceof RequestSyntaxError) {
    return Object.assign(new AdminError(400, 'invalid_request', err.message), { ...(err.line !== undefined && { line: err.line }), ...(err.column !== undefined && { column: err.column }) });
  }
  if (err instanceof JsonProfileError) return Object.assign(new AdminError(err.code === 'too_large' ? 413 : 400, err.code === 'too_large' ? 'too_large' : 'invalid_request', err.message), { pointer: err.pointer });
  return undefined;
}

export function policiesAdminRouter(ctx: AppContext, log: Logger): Router {
  const router = Router();
  // This process's view of the saved policies, for the decision endpoint and the link view (the same cache the
  // workers keep: recompiled when the revision moves).
  const store = new PolicyStore(ctx.db);
  // Raw bodies of the types these routes take, so a policy is not cut by the admin API's 256 KiB JSON bound and a JSON
  // Profile request keeps how its numbers were written.
  const raw = express.raw({ type: [...XML_TYPES, ...JSON_TYPES], limit: BODY_LIMIT });
  router.use('/rules', raw);

  const findPolicy = async (policyId: string) => {
    const row = await ctx.db.rulePolicy.findUnique({ where: { policyId }, include: policyInclude });
    if (!row) throw new AdminError(404, 'not_found', `No policy '${policyId}'`);
    return row;
  };
  const createdBy = () => ctx.admin.username;

  router.post('/rules/policies/validate', async (req, res) => {
    const { xml, profile, enabled } = policyFromBody(req);
    const loaded = load(xml);
    // Would it also form a decision point with the saved policies (its references resolve, no cycle)?
    const saved = (await readStoredPolicies(ctx.db)).filter((p) => p.policyId !== loaded.id);
    const { rootCombiningAlgorithm } = await readRuleSetting(ctx.db);
    try {
      compileConfiguration([...saved, { policyId: loaded.id, kind: loaded.kind, version: loaded.version, profile: profile ?? 'clean', enabled: enabled ?? true, xml }], rootCombiningAlgorithm);
    } catch (err) {
      if (err instanceof PolicySyntaxError) throw policySyntaxError(err);
      throw err;
    }
    res.json({ valid: true, kind: loaded.kind, policyId: loaded.id, version: loaded.version, references: loaded.references.map((r) => ({ kind: r.kind, id: r.id })) });
  });

  router.post('/rules/policies', async (req, res) => {
    const { xml, profile, enabled } = policyFromBody(req);
    const loaded = load(xml);
    const row = await save(ctx, async (tx) => {
      if (await tx.rulePolicy.findUnique({ where: { policyId: loaded.id }, select: { id: true } })) {
        throw new AdminError(409, 'conflict', `A policy '${loaded.id}' exists: PUT /rules/policies/${encodeURIComponent(loaded.id)} saves a new version`);
      }
      if ((await tx.rulePolicy.count()) >= MAX_POLICIES) throw new AdminError(409, 'conflict', `At most ${MAX_POLICIES} policies can be saved; combine some into policy sets`);
      return tx.rulePolicy.create({
        data: {
          policyId: loaded.id,
          kind: loaded.kind,
          profile: profile ?? 'clean',
          enabled: enabled ?? true,
          currentVersion: 1,
          versions: { create: { number: 1, version: loaded.version, xml, createdBy: createdBy() } },
        },
        include: policyInclude,
      });
    });
    res.status(201).location(`${ctx.config.api.publicBaseUrl}/api/server/v1/rules/policies/${encodeURIComponent(row.policyId)}`).json(policyView(row));
  });

  router.get('/rules/policies', async (_req, res) => {
    const rows = await ctx.db.rulePolicy.findMany({ orderBy: [{ createdAt: 'asc' }, { policyId: 'asc' }], include: policyInclude, take: LIST_LIMIT });
    res.json(rows.map(policyView));
  });

  router.get('/rules/policies/:policyId', async (req, res) => {
    const row = await findPolicy(String(req.params.policyId));
    const current = await ctx.db.rulePolicyVersion.findFirst({ where: { policyRowId: row.id, number: row.currentVersion }, select: { xml: true } });
    res.json({ ...policyView(row), xml: current?.xml ?? null });
  });

  router.put('/rules/policies/:policyId', async (req, res) => {
    const policyId = String(req.params.policyId);
    const { xml, profile, enabled } = policyFromBody(req);
    const loaded = load(xml);
    if (loaded.id !== policyId) throw new AdminError(400, 'invalid_request', `The document's ${loaded.kind}Id is '${loaded.id}', not '${policyId}'`);
    const row = await save(ctx, async (tx) => {
      const existing = await tx.rulePolicy.findUnique({ where: { policyId }, include: { versions: { select: { number: true } } } });
      if (!existing) throw new AdminError(404, 'not_found', `No policy '${policyId}'`);
      const current = await tx.rulePolicyVersion.findFirst({ where: { policyRowId: existing.id, number: existing.currentVersion }, select: { xml: true } });
      // The same text again (a retried PUT) is no new version.
      const number = current?.xml === xml ? existing.currentVersion : Math.max(0, ...existing.versions.map((v) => v.number)) + 1;
      if (number !== existing.currentVersion && existing.versions.length >= MAX_VERSIONS) {
        throw new AdminError(409, 'conflict', `Policy '${policyId}' has ${MAX_VERSIONS} versions, the most kept: delete it and create it again to start afresh`);
      }
      return tx.rulePolicy.update({
        where: { id: existing.id },
        data: {
          kind: loaded.kind,
          currentVersion: number,
          ...(profile && { profile }),
          ...(enabled !== undefined && { enabled }),
          ...(number !== existing.currentVersion && { versions: { create: { number, version: loaded.version, xml, createdBy: createdBy() } } }),
        },
        include: policyInclude,
      });
    });
    res.json(policyView(row));
  });

  router.patch('/rules/policies/:policyId', async (req, res) => {
    const policyId = String(req.params.policyId);
    const body = bodyOf(req);
    const input = parseInput(policyPatch, body.kind === 'json' ? body.value : undefined);
    await findPolicy(policyId);
    const row = await save(ctx, (tx) => tx.rulePolicy.update({ where: { policyId }, data: input, include: policyInclude }));
    res.json(policyView(row));
  });

  router.delete('/rules/policies/:policyId', async (req, res) => {
    const policyId = String(req.params.policyId);
    await findPolicy(policyId);
    await save(ctx, (tx) => tx.rulePolicy.delete({ where: { policyId } }));
    res.status(204).end();
  });

  router.get('/rules/policies/:policyId/versions', async (req, res) => {
    const row = await findPolicy(String(req.params.policyId));
    res.json(
      [...row.versions]
        .sort((a, b) => b.number - a.number)
        .map((v) => ({ number: v.number, version: v.version, current: v.number === row.currentVersion, created: v.createdAt.toISOString(), createdBy: v.createdBy })),
    );
  });

  router.get('/rules/policies/:policyId/versions/:number', async (req, res) => {
    const row = await findPolicy(String(req.params.policyId));
    const number = Number(req.params.number);
    const v = Number.isInteger(number) && number > 0 ? await ctx.db.rulePolicyVersion.findFirst({ where: { policyRowId: row.id, number } }) : null;
    if (!v) throw new AdminError(404, 'not_found', `Policy '${row.policyId}' has no version ${String(req.params.number)}`);
    res.json({ policyId: row.policyId, number: v.number, version: v.version, current: v.number === row.currentVersion, created: v.createdAt.toISOString(), createdBy: v.createdBy, xml: v.xml });
  });

  router.get('/rules/settings', async (_req, res) => {
    const s = await readRuleSetting(ctx.db);
    res.json({ rootCombiningAlgorithm: s.rootCombiningAlgorithm, default: DEFAULT_ROOT_COMBINING_ALGORITHM, revision: Number(s.revision) });
  });

  router.put('/rules/settings', async (req, res) => {
    const body = bodyOf(req);
    const input = parseInput(settingsInput, body.kind === 'json' ? body.value : undefined);
    // An unknown algorithm is the request's fault (400), not a conflict with the saved policies.
    try {
      new Pdp({ policies: [], topLevel: [], rootCombiningAlgorithm: input.rootCombiningAlgorithm });
    } catch (err) {
      if (err instanceof PolicySyntaxError) throw new AdminError(400, 'invalid_request', err.message);
      throw err;
    }
    await save(ctx, (tx) =>
      tx.ruleSetting.upsert({ where: { id: 1 }, create: { id: 1, rootCombiningAlgorithm: input.rootCombiningAlgorithm }, update: { rootCombiningAlgorithm: input.rootCombiningAlgorithm } }),
    );
    const s = await readRuleSetting(ctx.db);
    res.json({ rootCombiningAlgorithm: s.rootCombiningAlgorithm, default: DEFAULT_ROOT_COMBINING_ALGORITHM, revision: Number(s.revision) });
  });

  router.post('/rules/decision', async (req, res) => {
    const body = bodyOf(req);
    if (body.kind === 'none') throw new AdminError(400, 'invalid_request', 'Send an XACML request: JSON Profile (application/xacml+json) or XML (application/xacml+xml)');
    let request: XacmlRequest;
    let form: 'json' | 'xml';
    let pdp: Pdp;
    const draft = body.kind === 'json' && body.value !== null && typeof body.value === 'object' && !('Request' in body.value) ? parseInput(draftDecision, body.value) : undefined;
    try {
      if (draft) {
        form = typeof draft.request === 'string' ? 'xml' : 'json';
        request = typeof draft.request === 'string' ? parseRequestXml(draft.request) : parseJsonRequestValue(draft.request);
      } else {
        form = body.kind === 'xml' ? 'xml' : 'json';
        request = body.kind === 'xml' ? parseRequestXml(body.text) : parseJsonRequest(body.text);
      }
    } catch (err) {
      throw requestError(err) ?? err;
    }
    const rules = await store.current();
    if (!rules.ok) throw new AdminError(409, 'conflict', `The saved policies cannot be used: ${rules.broken}`);
    const only = typeof req.query.policy === 'string' ? req.query.policy : undefined;
    try {
      if (draft) {
        // A draft: evaluated alone, with the saved policies (minus the one it would replace) there for its references.
        const loaded = load(draft.policy);
        pdp = new Pdp({ policies: [...rules.loaded.filter((p) => p.id !== loaded.id), loaded], topLevel: [{ id: loaded.id, version: loaded.version }], rootCombiningAlgorithm: rules.rootCombiningAlgorithm });
      } else if (only !== undefined) {
        const saved = rules.loaded.find((p) => p.id === only);
        if (!saved) throw new AdminError(404, 'not_found', `No policy '${only}'`);
        pdp = new Pdp({ policies: rules.loaded, topLevel: [{ id: saved.id, version: saved.version }], rootCombiningAlgorithm: rules.rootCombiningAlgorithm });
      } else {
        pdp = rules.pdp;
      }
    } catch (err) {
      if (err instanceof PolicySyntaxError) throw policySyntaxError(err);
      throw err;
    }
    sendDecision(res, pdp.evaluate(request, { now: new Date() }), form);
  });

  // Which policies apply to a link: every operation, decided for a user (or an empty one) with the link's
  // application, identity provider and connector, by each enabled policy alone and by all of them combined.
  router.get('/applications/:id/provisioning/outbound-connectors/:linkId/rules', async (req, res) => {
    const linkId = uuidParam(req, 'linkId');
    const appParam = String(req.params.id);
    const link = await ctx.db.outboundLink.findUnique({ where: { id: linkId }, include: { application: true, connector: { include: { idp: true } } } });
    const appId = appParam === 'resident' ? RESIDENT_APPLICATION_ID : appParam.toLowerCase();
    if (!link || link.applicationId !== appId) throw new AdminError(404, 'not_found', `Outbound link ${linkId} not found`);
    const userId = typeof req.query.userId === 'string' ? req.query.userId : undefined;
    const user = userId ? await getUser(ctx.db, userId) : undefined;
    if (userId && !user) throw new AdminError(404, 'not_found', `No user '${userId}'`);
    const rules = await store.current();
    if (!rules.ok) throw new AdminError(409, 'conflict', `The saved policies cannot be used: ${rules.broken}`);
    const target: OutboundTarget = {
      connectorId: link.connectorId,
      connectorType: link.connector.type,
      label: `${link.connector.idp.name}/${link.connector.type}`,
      idpName: link.connector.idp.name,
      blocking: link.blocking,
      rulesEnabled: link.rulesEnabled,
      jitEnabled: link.jitEnabled,
      retry: { initialIntervalMs: 1000, maximumIntervalMs: 1000, backoffCoefficient: 1, maximumAttempts: 0 },
    };
    const initiator = { applicationId: link.applicationId, channel: 'admin-api', label: 'rules view' };
    const subject = user ?? { id: '00000000-0000-4000-8000-000000000000', domain: 'PRIMARY', userName: '', emails: [], phoneNumbers: [], addresses: [], version: 0, created: '', lastModified: '' };
    const event: ProvisioningEvent = { eventId: 'rules-view', resourceType: 'User', operation: 'update', localId: subject.id, version: subject.version, user: subject, targets: [], initiator };
    const now = new Date();
    const singles = rules.topLevel.slice(0, VIEW_LIMIT).map((t) => ({ t, pdp: new Pdp({ policies: rules.loaded, topLevel: [t], rootCombiningAlgorithm: rules.rootCombiningAlgorithm }) }));
    const operations: Record<string, unknown> = {};
    for (const operation of OPERATIONS) {
      const input = await decisionInput(ctx.db, event, target, now, operation);
      const request = (profile: string | undefined) => buildProvisioningRequest(input, (profile ?? 'clean') as RequestProfile);
      try {
        const combined = rules.pdp.evaluate(request, { now }).results[0]!;
        const verdict = verdictOf(combined, link.rulesNotApplicable === 'skip' ? 'skip' : 'provision');
        operations[operation] = {
          decision: combined.decision,
          action: link.rulesEnabled ? verdict.action : 'deliver (Enable Rules is off)',
          ...(verdict.decidedBy && { decidedBy: verdict.decidedBy }),
          ...(verdict.reason && { reason: verdict.reason }),
          policies: singles.map(({ t, pdp }) => {
            const r = pdp.evaluate(request, { now }).results[0]!;
            const v = verdictOf(r, 'provision');
            return { policyId: t.id, version: t.version, profile: t.profile, decision: r.decision, ...(r.decision !== 'NotApplicable' && v.reason && { reason: v.reason }) };
          }),
        };
      } catch (err) {
        if (!(err instanceof ProvisioningRequestError)) throw err;
        operations[operation] = { decision: 'Indeterminate', action: 'hold', reason: err.message };
      }
    }
    res.json({
      link: { id: link.id, application: link.application.name, identityProvider: link.connector.idp.name, connectorType: link.connector.type, rulesEnabled: link.rulesEnabled, rulesNotApplicable: link.rulesNotApplicable },
      user: user ? { id: user.id, userName: user.userName } : null,
      rootCombiningAlgorithm: rules.rootCombiningAlgorithm,
      enabledPolicies: rules.topLevel.length,
      ...(rules.topLevel.length > VIEW_LIMIT && { note: `only the first ${VIEW_LIMIT} policies are shown one by one` }),
      operations,
    });
  });

  // Its own rendering of errors, so the line and column of a policy error reach the client; anything else goes on to
  // the enclosing error handler.
  router.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (err instanceof AdminError) {
      const { line, column, policyId, pointer } = err as AdminError & { line?: number; column?: number; policyId?: string; pointer?: string };
      res.status(err.status).json({
        code: err.code,
        message: err.message,
        ...(err.details.length > 0 && { details: err.details }),
        ...(line !== undefined && { line }),
        ...(column !== undefined && { column }),
        ...(policyId !== undefined && { policyId }),
        ...(pointer !== undefined && { pointer }),
      });
      return;
    }
    const e = err as { type?: unknown };
    if (e.type === 'entity.too.large') {
      res.status(413).json({ code: 'too_large', message: `The request body exceeds ${BODY_LIMIT}` });
      return;
    }
    if (req.path.startsWith('/rules')) log.warn('rules admin request failed', { path: req.path, error: err instanceof Error ? err.message : String(err) });
    next(err);
  });
  return router;
}
