/**
 * Arithmetic (XACML 3.0 §A.3.2) and numeric conversion (§A.3.4). Integers are bigints: exact, truncating division
 * (the sign of `mod` follows the dividend, as Java's and XPath's do); doubles follow IEEE 754. A zero divisor makes
 * either divide (and mod) Indeterminate, as §A.3.2 says.
 */
import { DataType, processingError } from '../values.js';
import { checkIntegerBound } from './datatypes.js';
import { XACML1, dbl, firstOrder, int, v, val, valueType, type FunctionTable } from './define.js';

const I = DataType.integer;
const D = DataType.double;

function integer(x: bigint) {
  return val(I, checkIntegerBound(x));
}

/** IEEE 754 roundToIntegralTiesToEven (§A.3.2 "round" follows IEEE 754): 2.5 → 2, 3.5 → 4, -2.5 → -2. */
export function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const floor = Math.floor(x);
  const diff = x - floor;
  let r: number;
  if (diff < 0.5) r = floor;
  else if (diff > 0.5) r = floor + 1;
  else r = floor % 2 === 0 ? floor : floor + 1;
  // Keep the sign of zero (round(-0.4) is -0, as IEEE 754 has it).
  return r === 0 && (x < 0 || Object.is(x, -0)) ? -0 : r;
}

export function addArithmeticFunctions(table: FunctionTable): void {
  const int2 = { params: [v(I), v(I)], returns: valueType(I) };
  const dbl2 = { params: [v(D), v(D)], returns: valueType(D) };
  // add and multiply take two or more arguments (§A.3.2).
  const intN = { ...int2, rest: v(I), minArgs: 2 };
  const dblN = { ...dbl2, rest: v(D), minArgs: 2 };

  table.add(firstOrder(`${XACML1}integer-add`, intN, (args) => integer(args.reduce((s, a) => checkIntegerBound(s + int(a)), 0n))));
  table.add(firstOrder(`${XACML1}double-add`, dblN, (args) => val(D, args.reduce((s, a) => s + dbl(a), 0))));
  table.add(firstOrder(`${XACML1}integer-multiply`, intN, (args) => integer(args.reduce((p, a) => checkIntegerBound(p * int(a)), 1n))));
  table.add(firstOrder(`${XACML1}double-multiply`, dblN, (args) => val(D, args.reduce((p, a) => p * dbl(a), 1))));
  table.add(firstOrder(`${XACML1}integer-subtract`, int2, ([a, b]) => integer(int(a) - int(b))));
  table.add(firstOrder(`${XACML1}double-subtract`, dbl2, ([a, b]) => val(D, dbl(a) - dbl(b))));
  table.add(
    firstOrder(`${XACML1}integer-divide`, int2, ([a, b]) => {
      if (int(b) === 0n) throw processingError('integer-divide: division by zero');
      return integer(int(a) / int(b));
    }),
  );
  table.add(
    firstOrder(`${XACML1}double-divide`, dbl2, ([a, b]) => {
      if (dbl(b) === 0) throw processingError('double-divide: division by zero');
      return val(D, dbl(a) / dbl(b));
    }),
  );
  table.add(
    firstOrder(`${XACML1}integer-mod`, int2, ([a, b]) => {
      if (int(b) === 0n) throw processingError('integer-mod: division by zero');
      return integer(int(a) % int(b));
    }),
  );
  table.add(firstOrder(`${XACML1}integer-abs`, { params: [v(I)], returns: valueType(I) }, ([a]) => integer(int(a) < 0n ? -int(a) : int(a))));
  table.add(firstOrder(`${XACML1}double-abs`, { params: [v(D)], returns: valueType(D) }, ([a]) => val(D, Math.abs(dbl(a)))));
  table.add(firstOrder(`${XACML1}round`, { params: [v(D)], returns: valueType(D) }, ([a]) => val(D, roundHalfEven(dbl(a)))));
  table.add(firstOrder(`${XACML1}floor`, { params: [v(D)], returns: valueType(D) }, ([a]) => val(D, Math.floor(dbl(a)))));

  // §A.3.4: double-to-integer truncates toward zero; NaN and the infinities have no integer.
  table.add(
    firstOrder(`${XACML1}double-to-integer`, { params: [v(D)], returns: valueType(I) }, ([a]) => {
      const x = dbl(a);
      if (!Number.isFinite(x)) throw processingError(`double-to-integer: ${x} has no integer value`);
      return integer(BigInt(Math.trunc(x)));
    }),
  );
  // Integers beyond ±1.8e308 become ±INF, the nearest double (IEEE 754 conversion).
  table.add(firstOrder(`${XACML1}integer-to-double`, { params: [v(I)], returns: valueType(D) }, ([a]) => val(D, Number(int(a)))));
}
