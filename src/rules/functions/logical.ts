/**
 * Logical functions (XACML 3.0 §A.3.5). `or`, `and` and `n-of` evaluate their arguments first to last and stop as
 * soon as the result is known. An Indeterminate argument does not stop them: a later True still decides `or` (a later
 * False `and`), since the result would be the same whatever the Indeterminate argument was; only when the remaining
 * arguments cannot decide is the call Indeterminate.
 */
import { DataType, IndeterminateError, type Argument } from '../values.js';
import { XACML1, bool, checkSignature, int, v, val, valueType, type FunctionTable, type Signature } from './define.js';
import { processingError } from '../values.js';

const B = DataType.boolean;
const boolean = valueType(B);

function evaluateBoolean(arg: Argument): boolean {
  return bool(arg.evaluate());
}

/** `or` when `stopOn` is true, `and` when false. */
function shortCircuit(args: readonly Argument[], stopOn: boolean): boolean {
  let error: IndeterminateError | undefined;
  for (const arg of args) {
    try {
      if (evaluateBoolean(arg) === stopOn) return stopOn;
    } catch (e) {
      if (!(e instanceof IndeterminateError)) throw e;
      error ??= e;
    }
  }
  if (error) throw error;
  return !stopOn;
}

export function addLogicalFunctions(table: FunctionTable): void {
  const variadic: Signature = { params: [], rest: v(B), minArgs: 0, returns: boolean };
  for (const [name, stopOn] of [['or', true], ['and', false]] as const) {
    const id = `${XACML1}${name}`;
    table.add({ id, check: (args) => checkSignature(id, variadic, args), call: (args) => val(B, shortCircuit(args, stopOn)) });
  }

  const nOfId = `${XACML1}n-of`;
  const nOf: Signature = { params: [v(DataType.integer)], rest: v(B), minArgs: 1, returns: boolean };
  table.add({
    id: nOfId,
    check: (args) => checkSignature(nOfId, nOf, args),
    call: (args) => {
      const n = int(args[0]!.evaluate());
      const rest = args.slice(1);
      // §A.3.5: N = 0 is True; fewer arguments than N is Indeterminate.
      if (n < 0n) throw processingError(`n-of: the count ${n} is negative`);
      if (n > BigInt(rest.length)) throw processingError(`n-of: needs ${n} true arguments but has only ${rest.length}`);
      let needed = Number(n);
      let error: IndeterminateError | undefined;
      let undecided = 0;
      for (let i = 0; i < rest.length && needed > 0; i++) {
        // Even if every argument left (and every Indeterminate one) were True, N could not be reached: False.
        if (needed > rest.length - i + undecided) break;
        try {
          if (evaluateBoolean(rest[i]!)) needed -= 1;
        } catch (e) {
          if (!(e instanceof IndeterminateError)) throw e;
          error ??= e;
          undecided += 1;
        }
      }
      if (needed === 0) return val(B, true);
      if (error && needed <= undecided) throw error;
      return val(B, false);
    },
  });

  const notId = `${XACML1}not`;
  const not: Signature = { params: [v(B)], returns: boolean };
  table.add({ id: notId, check: (args) => checkSignature(notId, not, args), call: (args) => val(B, !evaluateBoolean(args[0]!)) });
}
