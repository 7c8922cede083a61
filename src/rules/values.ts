/**
 * The vocabulary of the XACML 3.0 decision point (OASIS XACML 3.0 core, §7 and Appendix A): attribute values and
 * bags, the status codes an Indeterminate carries, and the contract between the evaluator (src/rules/evaluate.ts and
 * the compiler) and the function library (src/rules/functions/). Pure: no I/O anywhere under src/rules/.
 */

export const XS = 'http://www.w3.org/2001/XMLSchema#';

/** The standard data types (XACML 3.0 Appendix A.2). */
export const DataType = {
  string: `${XS}string`,
  boolean: `${XS}boolean`,
  integer: `${XS}integer`,
  double: `${XS}double`,
  time: `${XS}time`,
  date: `${XS}date`,
  dateTime: `${XS}dateTime`,
  anyURI: `${XS}anyURI`,
  hexBinary: `${XS}hexBinary`,
  base64Binary: `${XS}base64Binary`,
  dayTimeDuration: `${XS}dayTimeDuration`,
  yearMonthDuration: `${XS}yearMonthDuration`,
  x500Name: 'urn:oasis:names:tc:xacml:1.0:data-type:x500Name',
  rfc822Name: 'urn:oasis:names:tc:xacml:1.0:data-type:rfc822Name',
  ipAddress: 'urn:oasis:names:tc:xacml:2.0:data-type:ipAddress',
  dnsName: 'urn:oasis:names:tc:xacml:2.0:data-type:dnsName',
  xpathExpression: 'urn:oasis:names:tc:xacml:3.0:data-type:xpathExpression',
} as const;

/** Status codes (XACML 3.0 §B.8). */
export const StatusCode = {
  ok: 'urn:oasis:names:tc:xacml:1.0:status:ok',
  missingAttribute: 'urn:oasis:names:tc:xacml:1.0:status:missing-attribute',
  syntaxError: 'urn:oasis:names:tc:xacml:1.0:status:syntax-error',
  processingError: 'urn:oasis:names:tc:xacml:1.0:status:processing-error',
} as const;

/**
 * One attribute value. `value` is the data type's own representation, chosen by its module in
 * src/rules/functions/ (for example a bigint for integer, a number for double, a normalised object for dateTime);
 * only that module and the functions read it. Values are immutable.
 */
export interface AttributeValue {
  readonly dataType: string;
  readonly value: unknown;
}

/** A bag: an unordered collection of values of one data type (§7.3.2). Possibly empty. */
export interface Bag {
  readonly kind: 'bag';
  readonly dataType: string;
  readonly values: readonly AttributeValue[];
}

export type Value = AttributeValue | Bag;

export function isBag(v: Value): v is Bag {
  return (v as Bag).kind === 'bag';
}

export function bagOf(dataType: string, values: readonly AttributeValue[]): Bag {
  return { kind: 'bag', dataType, values };
}

/** An attribute the decision needed and the request lacked (§5.57 MissingAttributeDetail). */
export interface MissingAttributeDetail {
  category: string;
  attributeId: string;
  dataType: string;
  issuer?: string | undefined;
}

/**
 * Thrown while evaluating an expression whose result is Indeterminate: a missing attribute with MustBePresent, a
 * function applied to values outside its domain (division by zero, a bag of two where one was needed), an XPath
 * that cannot be evaluated. The evaluator turns it into the Indeterminate of the rule or policy being evaluated.
 */
export class IndeterminateError extends Error {
  readonly statusCode: string;
  readonly missing: readonly MissingAttributeDetail[];
  constructor(statusCode: string, message: string, missing: readonly MissingAttributeDetail[] = []) {
    // An Indeterminate is an outcome of evaluation, not a bug: thrown and caught on the hot path (a missing
    // attribute in every request for policies that do not apply), so it carries no stack trace, whose capture
    // was most of a decision's time.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.name = 'IndeterminateError';
    this.statusCode = statusCode;
    this.missing = missing;
  }
}

export function processingError(message: string): IndeterminateError {
  return new IndeterminateError(StatusCode.processingError, message);
}

/** The static type of an expression, known when a policy is compiled (§7.3 and Appendix A.3's signatures). */
export type ExprType =
  | { readonly kind: 'value'; readonly dataType: string }
  | { readonly kind: 'bag'; readonly dataType: string }
  /** A <Function> element given as an argument to a higher-order function (§A.3.12). */
  | { readonly kind: 'function'; readonly fn: FunctionDefinition };

/** An argument of a function call, evaluated only when the function asks (and/or/n-of short-circuit, §A.3.5). */
export interface Argument {
  readonly type: ExprType;
  /** Evaluates the argument; throws IndeterminateError. For a `function` argument this is never called. */
  evaluate(): Value;
}

/** What a function may ask of the request being evaluated. */
export interface EvaluationContext {
  /**
   * The nodes an xpathExpression value selects in its category's <Content> (§A.3.15, the xpath-node-* functions).
   * Throws IndeterminateError when the expression cannot be evaluated.
   */
  selectNodes(expression: AttributeValue): readonly unknown[];
}

/**
 * A standard (or extension) function. `check` runs once per call site when a policy is compiled: it either returns
 * the type of the result or throws a plain Error whose message names what is wrong (the compiler adds the policy and
 * line). `call` runs at evaluation and throws IndeterminateError for runtime errors.
 */
export interface FunctionDefinition {
  readonly id: string;
  check(args: readonly ExprType[]): ExprType;
  call(args: readonly Argument[], context: EvaluationContext): Value;
}

/** An argument whose value is already known (a literal, or a bag member handed to a higher-order function's function). */
export function constantArgument(value: Value): Argument {
  const type: ExprType = isBag(value) ? { kind: 'bag', dataType: value.dataType } : { kind: 'value', dataType: value.dataType };
  return { type, evaluate: () => value };
}
