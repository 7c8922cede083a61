/**
 * The rule- and policy-combining algorithms (XACML 3.0 §C), written after the Appendix C pseudo-code, with the
 * extended Indeterminate values of §7.10. Children are evaluated in the order given (every algorithm here is the
 * ordered variant; the unordered ones may evaluate in any order, so the ordered evaluation is a valid one).
 *
 * Obligations and advice (§7.18): a combined Permit (Deny) carries those of the children evaluated to Permit (Deny)
 * on the way to the decision; nothing from a child whose decision differs.
 */
import { EMPTY_ITEMS, NOT_APPLICABLE, indeterminate, type MatchResult, type Outcome } from './evaluate.js';
import type { RequestContext } from './context.js';
import type { PolicyEffectItem } from './response.js';
import { StatusCode } from './values.js';

/** A rule, policy, policy set or reference, as a combining algorithm sees it. */
export interface Combinable {
  evaluate(ctx: RequestContext): Outcome;
  /** The target's result alone, without evaluating the rest (only-one-applicable, §C.9). */
  matchTarget(ctx: RequestContext): MatchResult;
}

export type CombiningAlgorithm = (children: readonly Combinable[], ctx: RequestContext) => Outcome;

/** Concatenates the obligations and advice of the outcomes that reached `decision`. */
function merged(decision: 'Permit' | 'Deny', outcomes: readonly Outcome[]): Outcome {
  if (outcomes.length === 1) return outcomes[0]!;
  let obligations: PolicyEffectItem[] | undefined;
  let advice: PolicyEffectItem[] | undefined;
  for (const o of outcomes) {
    if (o.obligations.length > 0) (obligations ??= []).push(...o.obligations);
    if (o.advice.length > 0) (advice ??= []).push(...o.advice);
  }
  return { decision, obligations: obligations ?? EMPTY_ITEMS, advice: advice ?? EMPTY_ITEMS };
}

type Effect = 'Permit' | 'Deny';
const OTHER = { Permit: 'Deny', Deny: 'Permit' } as const;
/** The extended-Indeterminate letter of an effect (§7.10). */
const LETTER = { Permit: 'P', Deny: 'D' } as const;

/**
 * §C.2 deny-overrides (and §C.3 ordered-deny-overrides) with `winner` Deny; §C.4 permit-overrides (and §C.5
 * ordered-permit-overrides) with `winner` Permit: the pseudo-code of each is the other's with the effects swapped.
 * Rules and policies alike.
 */
function overrides(winner: Effect): CombiningAlgorithm {
  const loser = OTHER[winner];
  return (children, ctx) => {
    let errWinner: Outcome | undefined;
    let errLoser: Outcome | undefined;
    let errDP: Outcome | undefined;
    const losers: Outcome[] = [];
    for (const c of children) {
      const o = c.evaluate(ctx);
      if (o.decision === winner) return o;
      if (o.decision === loser) losers.push(o);
      else if (o.decision === 'Indeterminate') {
        if (o.ext === LETTER[winner]) errWinner ??= o;
        else if (o.ext === LETTER[loser]) errLoser ??= o;
        else errDP ??= o;
      }
    }
    if (errDP) return indeterminate('DP', errDP.status!);
    if (errWinner && (errLoser || losers.length > 0)) return indeterminate('DP', errWinner.status!);
    if (errWinner) return errWinner;
    if (losers.length > 0) return merged(loser, losers);
    if (errLoser) return errLoser;
    return NOT_APPLICABLE;
  };
}
const denyOverrides = overrides('Deny');
const permitOverrides = overrides('Permit');

/**
 * §C.6 deny-unless-permit (`winner` Permit) and §C.7 permit-unless-deny (`winner` Deny): the winner if any child
 * reaches it, otherwise the other effect (never NotApplicable or Indeterminate).
 */
function unless(winner: Effect): CombiningAlgorithm {
  const loser = OTHER[winner];
  return (children, ctx) => {
    const losers: Outcome[] = [];
    for (const c of children) {
      const o = c.evaluate(ctx);
      if (o.decision === winner) return o;
      if (o.decision === loser) losers.push(o);
    }
    return losers.length > 0 ? merged(loser, losers) : { decision: loser, obligations: EMPTY_ITEMS, advice: EMPTY_ITEMS };
  };
}
const denyUnlessPermit = unless('Permit');
const permitUnlessDeny = unless('Deny');

/** §C.8 first-applicable: the first child that is not NotApplicable decides (an Indeterminate one too). */
const firstApplicable: CombiningAlgorithm = (children, ctx) => {
  for (const c of children) {
    const o = c.evaluate(ctx);
    if (o.decision !== 'NotApplicable') return o;
  }
  return NOT_APPLICABLE;
};

/**
 * §C.9 only-one-applicable (policies only): by targets alone, exactly one child may apply, and it decides; an
 * Indeterminate target or two applicable children make the result Indeterminate.
 */
const onlyOneApplicable: CombiningAlgorithm = (children, ctx) => {
  let selected: Combinable | undefined;
  for (const c of children) {
    const m = c.matchTarget(ctx);
    if (m === false) continue;
    if (m !== true) return indeterminate('DP', { code: m.statusCode, message: m.message, ...(m.missing.length > 0 ? { missingAttributes: [...m.missing] } : {}) });
    if (selected) return indeterminate('DP', { code: StatusCode.processingError, message: 'only-one-applicable: more than one policy is applicable' });
    selected = c;
  }
  return selected ? selected.evaluate(ctx) : NOT_APPLICABLE;
};

/**
 * §C.10 legacy (XACML 1.0) deny-overrides for rules (`winner` Deny) and §C.11 legacy permit-overrides for rules
 * (`winner` Permit): an Indeterminate rule that could have reached the winner makes the result Indeterminate unless
 * the winner is reached. A rule's Indeterminate{D} is the 1.0 "rule with effect Deny evaluated to Indeterminate".
 */
function legacyOverridesRules(winner: Effect): CombiningAlgorithm {
  const loser = OTHER[winner];
  return (children, ctx) => {
    let potentialWinner: Outcome | undefined;
    let error: Outcome | undefined;
    const losers: Outcome[] = [];
    for (const c of children) {
      const o = c.evaluate(ctx);
      if (o.decision === winner) return o;
      if (o.decision === loser) losers.push(o);
      else if (o.decision === 'Indeterminate') {
        if (o.ext !== LETTER[loser]) potentialWinner ??= o;
        else error ??= o;
      }
    }
    if (potentialWinner) return indeterminate(losers.length > 0 || error ? 'DP' : LETTER[winner], potentialWinner.status!);
    if (losers.length > 0) return merged(loser, losers);
    if (error) return indeterminate(LETTER[loser], error.status!);
    return NOT_APPLICABLE;
  };
}
const legacyDenyOverridesRules = legacyOverridesRules('Deny');
const legacyPermitOverridesRules = legacyOverridesRules('Permit');

/** §C.10 legacy deny-overrides for policies: an Indeterminate policy counts as a Deny. */
const legacyDenyOverridesPolicies: CombiningAlgorithm = (children, ctx) => {
  const permits: Outcome[] = [];
  for (const c of children) {
    const o = c.evaluate(ctx);
    if (o.decision === 'Deny') return o;
    if (o.decision === 'Indeterminate') return { decision: 'Deny', obligations: EMPTY_ITEMS, advice: EMPTY_ITEMS };
    if (o.decision === 'Permit') permits.push(o);
  }
  return permits.length > 0 ? merged('Permit', permits) : NOT_APPLICABLE;
};

/** §C.11 legacy permit-overrides for policies: an Indeterminate policy makes the result Indeterminate unless a Deny. */
const legacyPermitOverridesPolicies: CombiningAlgorithm = (children, ctx) => {
  let error: Outcome | undefined;
  const denies: Outcome[] = [];
  for (const c of children) {
    const o = c.evaluate(ctx);
    if (o.decision === 'Permit') return o;
    if (o.decision === 'Deny') denies.push(o);
    else if (o.decision === 'Indeterminate') error ??= o;
  }
  if (denies.length > 0) return merged('Deny', denies);
  if (error) return indeterminate('DP', error.status!);
  return NOT_APPLICABLE;
};

const RULE = 'urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:';
const POLICY = 'urn:oasis:names:tc:xacml:3.0:policy-combining-algorithm:';

const ruleAlgorithms = new Map<string, CombiningAlgorithm>([
  [`${RULE}deny-overrides`, denyOverrides],
  [`${RULE}ordered-deny-overrides`, denyOverrides],
  [`${RULE}permit-overrides`, permitOverrides],
  [`${RULE}ordered-permit-overrides`, permitOverrides],
  [`${RULE}deny-unless-permit`, denyUnlessPermit],
  [`${RULE}permit-unless-deny`, permitUnlessDeny],
  ['urn:oasis:names:tc:xacml:1.0:rule-combining-algorithm:first-applicable', firstApplicable],
  ['urn:oasis:names:tc:xacml:1.0:rule-combining-algorithm:deny-overrides', legacyDenyOverridesRules],
  ['urn:oasis:names:tc:xacml:1.1:rule-combining-algorithm:ordered-deny-overrides', legacyDenyOverridesRules],
  ['urn:oasis:names:tc:xacml:1.0:rule-combining-algorithm:permit-overrides', legacyPermitOverridesRules],
  ['urn:oasis:names:tc:xacml:1.1:rule-combining-algorithm:ordered-permit-overrides', legacyPermitOverridesRules],
]);

const policyAlgorithms = new Map<string, CombiningAlgorithm>([
  [`${POLICY}deny-overrides`, denyOverrides],
  [`${POLICY}ordered-deny-overrides`, denyOverrides],
  [`${POLICY}permit-overrides`, permitOverrides],
  [`${POLICY}ordered-permit-overrides`, permitOverrides],
  [`${POLICY}deny-unless-permit`, denyUnlessPermit],
  [`${POLICY}permit-unless-deny`, permitUnlessDeny],
  ['urn:oasis:names:tc:xacml:1.0:policy-combining-algorithm:first-applicable', firstApplicable],
  ['urn:oasis:names:tc:xacml:1.0:policy-combining-algorithm:only-one-applicable', onlyOneApplicable],
  ['urn:oasis:names:tc:xacml:1.0:policy-combining-algorithm:deny-overrides', legacyDenyOverridesPolicies],
  ['urn:oasis:names:tc:xacml:1.1:policy-combining-algorithm:ordered-deny-overrides', legacyDenyOverridesPolicies],
  ['urn:oasis:names:tc:xacml:1.0:policy-combining-algorithm:permit-overrides', legacyPermitOverridesPolicies],
  ['urn:oasis:names:tc:xacml:1.1:policy-combining-algorithm:ordered-permit-overrides', legacyPermitOverridesPolicies],
]);

export function ruleCombiningAlgorithm(id: string): CombiningAlgorithm | undefined {
  return ruleAlgorithms.get(id);
}
export function policyCombiningAlgorithm(id: string): CombiningAlgorithm | undefined {
  return policyAlgorithms.get(id);
}
