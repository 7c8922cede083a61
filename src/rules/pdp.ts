/**
 * The XACML 3.0 policy decision point (OASIS XACML 3.0 core, with the Multiple Decision Profile's repeated
 * categories). How it is built, for the next engineer:
 *
 * 1. **Parse** (xml.ts): policies and requests go through a real XML parser with line numbers, DTDs refused and
 *    size, depth and element count bounded. Nothing is ever evaluated as code.
 * 2. **Validate** (policy.ts, request.ts): the schema's structure (which element where, required attributes), data
 *    types and lexical forms (functions/datatypes.ts), and every function call's signature (FunctionDefinition.check),
 *    so a policy with a type error is refused at load with a PolicySyntaxError naming the element, line and column;
 *    a bad request is refused with a RequestSyntaxError before evaluation.
 * 3. **Compile** (policy.ts): each Policy/PolicySet becomes a tree of nodes (evaluate.ts: CompiledPolicy,
 *    CompiledRule, PolicyReference) holding closures (Expr) for every expression, with calls on constants folded, the
 *    combining algorithm as a function (combining.ts), and, per combining node, an index of the children's targets
 *    (target.ts ChildIndex) so a request only evaluates the children whose string-equal Matches it can satisfy.
 *    References stay placeholders; the Pdp binds them (§5.10-5.13) and refuses unresolved ones and cycles when it is
 *    built, so a Pdp is always complete.
 * 4. **Evaluate** (evaluate.ts, context.ts): one RequestContext per individual request caches the attribute
 *    lookups, the variables (each evaluated at most once) and the XPath documents; the tree returns an Outcome
 *    (decision, extended Indeterminate §7.10, status, obligations and advice §7.18) that becomes an XacmlResult.
 *    Indeterminate travels as a thrown IndeterminateError inside expressions (the functions' contract) and as a
 *    value from the first rule, target or obligation that catches it; keep try/catch out of the hot paths, a
 *    rethrow at every level is what made missing attributes slow.
 *
 * Pure: no I/O, no clock but the `now` the caller passes.
 */
import { policyCombiningAlgorithm, type Combinable, type CombiningAlgorithm } from './combining.js';
import { RequestContext, type AppliedPolicy } from './context.js';
import { CompiledPolicy, PolicyReference, type MatchResult, type Outcome } from './evaluate.js';
import { PolicySyntaxError, loadPolicy, type LoadedPolicy } from './policy.js';
import { RequestSyntaxError, type RequestCategory, type XacmlRequest } from './request.js';
import type { PolicyIdentifier, XacmlResponse, XacmlResult } from './response.js';
import { ChildIndex, indexEntryOf } from './target.js';
import { StatusCode } from './values.js';

export { PolicySyntaxError, loadPolicy, type LoadedPolicy };

export interface PdpConfig {
  /** Every policy the PDP knows: the top-level ones and those reachable by Policy(Set)IdReference. */
  policies: LoadedPolicy[];
  /** The policies evaluated for a request, combined by rootCombiningAlgorithm (a policy-combining algorithm URI). */
  topLevel: { id: string; version?: string; profile?: string }[];
  rootCombiningAlgorithm: string;
}

/** Individual decisions one request may ask for through repeated categories (Multiple Decision Profile §2.3). */
export const MAX_INDIVIDUAL_DECISIONS = 64;
/** How deep references may nest (a chain of PolicySetIdReferences). */
export const MAX_REFERENCE_DEPTH = 32;

// ---------------------------------------------------------------------------------------------------------------
// Versions (§5.13)

function versionParts(v: string): number[] {
  return v.split('.').map(Number);
}

function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? -1;
    const y = b[i] ?? -1;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** VersionMatchType: `*` is any one number, `+` any number of further numbers (§5.13). */
function versionMatches(version: string, pattern: string): boolean {
  let re = '';
  pattern.split('.').forEach((p, i) => {
    if (p === '+') re += i === 0 ? '\\d+(?:\\.\\d+)*' : '(?:\\.\\d+)*';
    else re += (i === 0 ? '' : '\\.') + (p === '*' ? '\\d+' : p);
  });
  return new RegExp(`^${re}$`).test(version);
}

/** EarliestVersion / LatestVersion bounds, wildcards taken at their lowest (earliest) or highest (latest). */
function versionBound(version: string, pattern: string, kind: 'earliest' | 'latest'): boolean {
  const v = versionParts(version);
  const parts = pattern.split('.');
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p === '+') return true;
    const x = v[i];
    if (p === '*') {
      if (x === undefined) return kind === 'latest';
      continue;
    }
    const n = Number(p);
    if (x === undefined) return kind === 'latest'; // shorter version sorts first
    if (x !== n) return kind === 'earliest' ? x > n : x < n;
  }
  return kind === 'latest' ? v.length <= parts.length : true;
}

function satisfies(p: LoadedPolicy, c: { version?: string; earliest?: string; latest?: string }): boolean {
  if (c.version !== undefined && !versionMatches(p.version, c.version)) return false;
  if (c.earliest !== undefined && !versionBound(p.version, c.earliest, 'earliest')) return false;
  if (c.latest !== undefined && !versionBound(p.version, c.latest, 'latest')) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------------------------

interface TopLevelState {
  contexts: Map<string | undefined, RequestContext>;
  decided: { entry: TopLevelEntry; outcome: Outcome }[];
}

/** A top-level policy, evaluated with the request of its own profile. */
class TopLevelEntry implements Combinable {
  constructor(
    readonly policy: LoadedPolicy,
    readonly profile: string | undefined,
  ) {}
  private context(ctx: RequestContext): RequestContext {
    const state = ctx.pdpState as TopLevelState;
    return state.contexts.get(this.profile) ?? ctx;
  }
  matchTarget(ctx: RequestContext): MatchResult {
    return this.policy.compiled.matchTarget(this.context(ctx));
  }
  evaluate(ctx: RequestContext): Outcome {
    const outcome = this.policy.compiled.evaluate(this.context(ctx));
    if (outcome.decision !== 'NotApplicable') (ctx.pdpState as TopLevelState).decided.push({ entry: this, outcome });
    return outcome;
  }
}

/**
 * A decision point over a fixed set of loaded policies. Immutable once built; `evaluate` may be called concurrently
 * from any number of callers (it keeps no state between requests).
 *
 * @example
 *   const policy = loadPolicy(xml);
 *   const pdp = new Pdp({ policies: [policy], topLevel: [{ id: policy.id }], rootCombiningAlgorithm: 'urn:oasis:names:tc:xacml:3.0:policy-combining-algorithm:deny-overrides' });
 *   const { results } = pdp.evaluate(parseRequestXml(requestXml), { now: new Date() });
 */
export class Pdp {
  private readonly algorithm: CombiningAlgorithm;
  private readonly top: readonly TopLevelEntry[];
  private readonly profiles: readonly (string | undefined)[];
  /** Per request profile, the index of that profile's top-level policies (each profile has its own request). */
  private readonly indexes: { profile: string | undefined; index: ChildIndex<TopLevelEntry> }[];
  private readonly references = new Map<object, Combinable>();
  private readonly known = new Map<string, LoadedPolicy[]>();
  private readonly resolved = new Set<LoadedPolicy>();

  constructor(config: PdpConfig) {
    const algorithm = policyCombiningAlgorithm(config.rootCombiningAlgorithm);
    if (!algorithm) throw new PolicySyntaxError(`unknown root policy-combining algorithm "${config.rootCombiningAlgorithm}"`);
    this.algorithm = algorithm;
    for (const p of config.policies) {
      const key = `${p.kind}\u0000${p.id}`;
      const list = this.known.get(key) ?? [];
      if (list.some((q) => q.version === p.version)) throw new PolicySyntaxError(`${p.kind} ${p.id} version ${p.version} is given twice`, { policyId: p.id });
      list.push(p);
      this.known.set(key, list);
    }
    const top: TopLevelEntry[] = [];
    for (const t of config.topLevel) {
      const candidates = [...(this.known.get(`Policy\u0000${t.id}`) ?? []), ...(this.known.get(`PolicySet\u0000${t.id}`) ?? [])].filter(
        (p) => t.version === undefined || p.version === t.version,
      );
      const chosen = latest(candidates);
      if (!chosen) throw new PolicySyntaxError(`the top-level policy ${t.id}${t.version === undefined ? '' : ` version ${t.version}`} is not among the policies`, { policyId: t.id });
      this.resolve(chosen, []);
      top.push(new TopLevelEntry(chosen, t.profile));
    }
    this.top = top;
    this.profiles = [...new Set(top.map((t) => t.profile))];
    this.indexes = this.profiles.map((profile) => ({
      profile,
      index: new ChildIndex(
        top.filter((e) => e.profile === profile),
        (e) => indexEntryOf(e.policy.compiled.target),
      ),
    }));
  }

  /** Binds every reference reachable from `policy`; refuses unresolved references and cycles (§5.10, §5.11). */
  private resolve(policy: LoadedPolicy, stack: LoadedPolicy[]): void {
    if (this.resolved.has(policy)) return; // its whole subgraph is bound and acyclic (a DAG is walked once)
    if (stack.includes(policy)) {
      throw new PolicySyntaxError(`reference cycle: ${[...stack, policy].map((p) => `${p.kind} ${p.id} v${p.version}`).join(' -> ')}`, { policyId: policy.id });
    }
    if (stack.length > MAX_REFERENCE_DEPTH) throw new PolicySyntaxError(`references nest deeper than ${MAX_REFERENCE_DEPTH}`, { policyId: policy.id });
    stack.push(policy);
    for (const ref of policy.references) {
      const loaded = latest((this.known.get(`${ref.kind}\u0000${ref.id}`) ?? []).filter((p) => satisfies(p, ref.constraints)));
      if (!loaded) {
        const c = ref.constraints;
        const versions = [c.version && `Version ${c.version}`, c.earliest && `EarliestVersion ${c.earliest}`, c.latest && `LatestVersion ${c.latest}`].filter(Boolean).join(', ');
        throw new PolicySyntaxError(`${policy.kind} ${policy.id}: unresolved ${ref.kind}IdReference ${ref.id}${versions ? ` (${versions})` : ''}`, {
          line: ref.line,
          column: ref.column,
          policyId: policy.id,
        });
      }
      this.references.set(ref, loaded.compiled);
      this.resolve(loaded, stack);
    }
    stack.pop();
    this.resolved.add(policy);
  }

  /**
   * Evaluates a request (§7.1). `request` may be a function of the top-level policy's `profile`, so policies written
   * for different request profiles can be combined in one decision. `now` fills the environment's current-time,
   * -date and -dateTime when the request lacks them (§10.2.5). Throws RequestSyntaxError for a request this PDP
   * cannot split into individual decisions.
   */
  evaluate(request: XacmlRequest | ((profile: string | undefined) => XacmlRequest), options: { now?: Date } = {}): XacmlResponse {
    const requests = new Map<string | undefined, XacmlRequest>();
    if (typeof request === 'function') for (const p of this.profiles) requests.set(p, request(p));
    else for (const p of this.profiles.length > 0 ? this.profiles : [undefined]) requests.set(p, request);
    if (requests.size === 0) requests.set(undefined, typeof request === 'function' ? request(undefined) : request);
    const first = requests.values().next().value!;
    const splits = new Map<string | undefined, RequestCategory[][]>();
    for (const [p, r] of requests) splits.set(p, individualRequests(r));
    const counts = new Set([...splits.values()].map((s) => s.length));
    if (counts.size > 1) throw new RequestSyntaxError('the profiles of one request ask for different numbers of individual decisions');
    const n = [...counts][0]!;
    const results: XacmlResult[] = [];
    for (let i = 0; i < n; i++) {
      const byProfile = new Map<string | undefined, RequestCategory[]>();
      for (const [p, s] of splits) byProfile.set(p, s[i]!);
      results.push(this.decide(byProfile, first, options.now));
    }
    if (first.combinedDecision && results.length > 1) {
      // §5.42: CombinedDecision is optional; this PDP answers that it cannot combine rather than guess.
      return {
        results: [{ decision: 'Indeterminate', extendedIndeterminate: 'DP', status: { code: StatusCode.processingError, message: 'CombinedDecision is not supported' }, obligations: [], advice: [], attributes: [] }],
      };
    }
    return { results };
  }

  private candidates(state: TopLevelState): readonly TopLevelEntry[] {
    if (this.indexes.length === 1) return this.indexes[0]!.index.candidates(state.contexts.get(this.indexes[0]!.profile)!);
    return mergeInOrder(
      this.top,
      this.indexes.map(({ profile, index }) => index.candidates(state.contexts.get(profile)!)),
    );
  }

  private decide(byProfile: Map<string | undefined, RequestCategory[]>, request: XacmlRequest, now: Date | undefined): XacmlResult {
    const applied: AppliedPolicy[] | undefined = request.returnPolicyIdList ? [] : undefined;
    const state: TopLevelState = { contexts: new Map(), decided: [] };
    for (const [p, categories] of byProfile) {
      const ctx = new RequestContext(categories, { applied, references: this.references, now });
      ctx.pdpState = state;
      state.contexts.set(p, ctx);
    }
    const ctx = state.contexts.values().next().value!;
    const children = this.candidates(state);
    const outcome = this.algorithm(children, ctx);
    const categories = byProfile.values().next().value!;
    const result: XacmlResult = {
      decision: outcome.decision,
      obligations: outcome.decision === 'Permit' || outcome.decision === 'Deny' ? [...outcome.obligations] : [],
      advice: outcome.decision === 'Permit' || outcome.decision === 'Deny' ? [...outcome.advice] : [],
      attributes: includedAttributes(categories),
    };
    if (outcome.decision === 'Indeterminate') {
      result.extendedIndeterminate = outcome.ext ?? 'DP';
      result.status = outcome.status ?? { code: StatusCode.processingError };
    }
    if (applied) {
      const seen = new Set<string>();
      const policies: PolicyIdentifier[] = [];
      const policySets: PolicyIdentifier[] = [];
      for (const a of applied) {
        const key = `${a.kind}\u0000${a.id}\u0000${a.version}`;
        if (seen.has(key)) continue;
        seen.add(key);
        (a.kind === 'Policy' ? policies : policySets).push({ id: a.id, version: a.version });
      }
      result.policyIdentifiers = { policies, policySets };
    }
    if (outcome.decision !== 'NotApplicable') {
      const d = state.decided.find((x) => x.outcome === outcome) ?? state.decided.find((x) => x.outcome.decision === outcome.decision);
      if (d) result.decidedBy = { kind: d.entry.policy.kind, id: d.entry.policy.id, version: d.entry.policy.version };
    }
    return result;
  }
}

/** The top-level policies whose targets may match, in their configured order (ordered algorithms need it). */
function mergeInOrder(order: readonly TopLevelEntry[], parts: readonly (readonly TopLevelEntry[])[]): TopLevelEntry[] {
  const picked = new Set(parts.flat());
  return order.filter((e) => picked.has(e));
}

function latest(list: readonly LoadedPolicy[]): LoadedPolicy | undefined {
  let best: LoadedPolicy | undefined;
  for (const p of list) if (!best || compareVersions(versionParts(p.version), versionParts(best.version)) > 0) best = p;
  return best;
}

/** Multiple Decision Profile §2.3: a category repeated in the request gives one individual request per combination. */
function individualRequests(request: XacmlRequest): RequestCategory[][] {
  const cats = request.categories;
  if (new Set(cats.map((c) => c.category)).size === cats.length) return [cats];
  const groups = new Map<string, RequestCategory[]>();
  for (const c of request.categories) {
    const g = groups.get(c.category);
    if (g) g.push(c);
    else groups.set(c.category, [c]);
  }
  let combos: RequestCategory[][] = [[]];
  for (const g of groups.values()) {
    if (combos.length * g.length > MAX_INDIVIDUAL_DECISIONS) throw new RequestSyntaxError(`the request asks for more than ${MAX_INDIVIDUAL_DECISIONS} individual decisions`);
    combos = combos.flatMap((c) => g.map((x) => [...c, x]));
  }
  return combos;
}

/** The attributes with IncludeInResult="true", by category, in request order (§5.46). */
function includedAttributes(categories: readonly RequestCategory[]): RequestCategory[] {
  const out: RequestCategory[] = [];
  for (const c of categories) {
    const attributes = c.attributes.filter((a) => a.includeInResult);
    if (attributes.length === 0) continue;
    const cat: RequestCategory = { category: c.category, attributes };
    if (c.xmlId !== undefined) cat.xmlId = c.xmlId;
    out.push(cat);
  }
  return out;
}

export { CompiledPolicy, PolicyReference };
