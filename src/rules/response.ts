/**
 * The response context (XACML 3.0 §5.47-5.58) and its XML writer.
 */
import { formatValue } from './functions/datatypes.js';
import type { RequestCategory } from './request.js';
import type { AttributeValue, MissingAttributeDetail } from './values.js';
import { XACML_NS } from './xml.js';

export type { MissingAttributeDetail };
export type Decision = 'Permit' | 'Deny' | 'NotApplicable' | 'Indeterminate';
export interface Status {
  code: string;
  subCodes?: string[];
  message?: string;
  missingAttributes?: MissingAttributeDetail[];
}
export interface AttributeAssignment {
  attributeId: string;
  category?: string;
  issuer?: string;
  value: AttributeValue;
}
/** An Obligation or Advice (§5.34, §5.35). */
export interface PolicyEffectItem {
  id: string;
  assignments: AttributeAssignment[];
}
export interface PolicyIdentifier {
  id: string;
  version: string;
}
export interface XacmlResult {
  decision: Decision;
  /** For Indeterminate: which decisions it could have been (§7.10: D, P, DP). */
  extendedIndeterminate?: 'D' | 'P' | 'DP';
  status?: Status;
  obligations: PolicyEffectItem[];
  advice: PolicyEffectItem[];
  /** The request's attributes with IncludeInResult, by category. */
  attributes: RequestCategory[];
  /** With ReturnPolicyIdList. */
  policyIdentifiers?: { policies: PolicyIdentifier[]; policySets: PolicyIdentifier[] };
  /** This server's own, for audit: the top-level policy (or policy set) whose result decided (undefined for NotApplicable). */
  decidedBy?: PolicyIdentifier & { kind: 'Policy' | 'PolicySet' };
}
export interface XacmlResponse {
  results: XacmlResult[];
}

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&quot;')).replace(/\r/g, '&#13;');
}

function attr(name: string, value: string | undefined): string {
  return value === undefined ? '' : ` ${name}="${esc(value)}"`;
}

function valueXml(v: AttributeValue): string {
  return esc(formatValue(v));
}

function statusXml(s: Status): string {
  let codes = '';
  const all = [s.code, ...(s.subCodes ?? [])];
  for (let i = all.length - 1; i >= 0; i--) codes = `<StatusCode Value="${esc(all[i]!)}">${codes}</StatusCode>`;
  let out = `<Status>${codes}`;
  if (s.message !== undefined) out += `<StatusMessage>${esc(s.message)}</StatusMessage>`;
  if (s.missingAttributes && s.missingAttributes.length > 0) {
    out += '<StatusDetail>';
    for (const m of s.missingAttributes) {
      out += `<MissingAttributeDetail${attr('Category', m.category)}${attr('AttributeId', m.attributeId)}${attr('DataType', m.dataType)}${attr('Issuer', m.issuer)}/>`;
    }
    out += '</StatusDetail>';
  }
  return `${out}</Status>`;
}

function itemsXml(kind: 'Obligation' | 'Advice', items: PolicyEffectItem[]): string {
  const idAttr = kind === 'Obligation' ? 'ObligationId' : 'AdviceId';
  let out = '';
  for (const it of items) {
    out += `<${kind}${attr(idAttr, it.id)}>`;
    for (const a of it.assignments) {
      out += `<AttributeAssignment${attr('AttributeId', a.attributeId)}${attr('Category', a.category)}${attr('Issuer', a.issuer)}${attr('DataType', a.value.dataType)}>${valueXml(a.value)}</AttributeAssignment>`;
    }
    out += `</${kind}>`;
  }
  return out;
}

/** Writes a response as XML (§5.47), in the XACML 3.0 namespace. */
export function responseToXml(response: XacmlResponse): string {
  let out = `<?xml version="1.0" encoding="UTF-8"?><Response xmlns="${XACML_NS}">`;
  for (const r of response.results) {
    out += `<Result><Decision>${r.decision}</Decision>`;
    if (r.status) out += statusXml(r.status);
    if (r.obligations.length > 0) out += `<Obligations>${itemsXml('Obligation', r.obligations)}</Obligations>`;
    if (r.advice.length > 0) out += `<AssociatedAdvice>${itemsXml('Advice', r.advice)}</AssociatedAdvice>`;
    for (const c of r.attributes) {
      out += `<Attributes${attr('Category', c.category)}${c.xmlId === undefined ? '' : attr('xml:id', c.xmlId)}>`;
      for (const a of c.attributes) {
        out += `<Attribute${attr('AttributeId', a.attributeId)}${attr('Issuer', a.issuer)} IncludeInResult="true">`;
        for (const v of a.values) out += `<AttributeValue${attr('DataType', v.dataType)}>${valueXml(v)}</AttributeValue>`;
        out += '</Attribute>';
      }
      out += '</Attributes>';
    }
    if (r.policyIdentifiers) {
      out += '<PolicyIdentifierList>';
      for (const p of r.policyIdentifiers.policies) out += `<PolicyIdReference${attr('Version', p.version)}>${esc(p.id)}</PolicyIdReference>`;
      for (const p of r.policyIdentifiers.policySets) out += `<PolicySetIdReference${attr('Version', p.version)}>${esc(p.id)}</PolicySetIdReference>`;
      out += '</PolicyIdentifierList>';
    }
    out += '</Result>';
  }
  return `${out}</Response>`;
}
