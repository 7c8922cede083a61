/**
 * SCIM 1.1 filters (SCIM Protocol 1.1 §3.2.2.1) translated to the SCIM 2.0 filter grammar (RFC 7644 §3.4.2.2).
 *
 * SCIM 1.1 has `attribute operator value` with the operators eq, co, sw, pr, gt, ge, lt, le, joined by `and`
 * and `or` (and binding tighter) and grouped with parentheses. That is a subset of SCIM 2.0's grammar with
 * the same precedence, so the translation keeps the structure and rewrites only what differs: attribute
 * paths (1.1 schema URNs, the enterprise `manager.managerId`; see attributePathTo20) and the spelling of
 * operators and literals. What SCIM 1.1 does not have (`ne`, `ew`, `not`, `[...]` value paths) is refused,
 * so a 1.1 client gets the same answer from this server as from any other 1.1 service provider.
 */
import { ScimError } from '../../scim/errors.js';
import { attributePathTo20 } from '../../scim/scim11.js';

const OPERATORS = new Set(['eq', 'co', 'sw', 'pr', 'gt', 'ge', 'lt', 'le']);

type Token = { kind: 'word'; text: string } | { kind: 'string'; value: string } | { kind: '(' } | { kind: ')' };

function invalid(detail: string): ScimError {
  return new ScimError(400, `Invalid SCIM 1.1 filter: ${detail}`, 'invalidFilter');
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i += 1;
    } else if (c === '(' || c === ')') {
      tokens.push({ kind: c });
      i += 1;
    } else if (c === '"') {
      // A JSON string literal (the 1.1 grammar quotes values as JSON does).
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (j >= text.length) throw invalid('unterminated string');
      try {
        tokens.push({ kind: 'string', value: JSON.parse(text.slice(i, j + 1)) as string });
      } catch {
        throw invalid(`bad string literal ${text.slice(i, j + 1)}`);
      }
      i = j + 1;
    } else if (c === '[' || c === ']') {
      throw invalid("value paths ('[...]') are SCIM 2.0, not SCIM 1.1");
    } else {
      let j = i;
      while (j < text.length && !/[\s()"[\]]/.test(text[j]!)) j += 1;
      tokens.push({ kind: 'word', text: text.slice(i, j) });
      i = j;
    }
  }
  return tokens;
}

/**
 * Translates a SCIM 1.1 filter to SCIM 2.0 filter text for ScimService.list. Throws ScimError 400
 * (invalidFilter) for anything the SCIM 1.1 grammar does not allow.
 *
 * @example
 * filterTo20('userName eq "bjensen" and urn:scim:schemas:extension:enterprise:1.0:manager.managerId eq "26118915"', 'User')
 * // 'userName eq "bjensen" and urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915"'
 */
export function filterTo20(text: string, type: 'User' | 'Group'): string {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = () => tokens[pos];
  const next = () => tokens[pos++];

  const expression = (): string => {
    const parts = [term()];
    for (;;) {
      const t = peek();
      if (t?.kind !== 'word' || !/^(and|or)$/i.test(t.text)) return parts.join(' ');
      pos += 1;
      parts.push(t.text.toLowerCase(), term());
    }
  };

  const term = (): string => {
    const t = next();
    if (t === undefined) throw invalid('it ends where an attribute or ( is expected');
    if (t.kind === '(') {
      const inner = expression();
      if (next()?.kind !== ')') throw invalid('a ( is not closed');
      return `(${inner})`;
    }
    if (t.kind !== 'word') throw invalid('an attribute name is expected');
    if (/^not$/i.test(t.text)) throw invalid("'not' is SCIM 2.0, not SCIM 1.1");
    const path = attributePathTo20(t.text, type);
    const op = next();
    if (op?.kind !== 'word') throw invalid(`an operator is expected after '${t.text}'`);
    const operator = op.text.toLowerCase();
    if (!OPERATORS.has(operator)) {
      throw invalid(`'${op.text}' is not a SCIM 1.1 operator (eq, co, sw, pr, gt, ge, lt, le)`);
    }
    if (operator === 'pr') return `${path} pr`;
    const v = next();
    if (v === undefined) throw invalid(`a value is expected after '${t.text} ${op.text}'`);
    if (v.kind === 'string') return `${path} ${operator} ${JSON.stringify(v.value)}`;
    if (v.kind === 'word' && /^(true|false|null)$/i.test(v.text)) return `${path} ${operator} ${v.text.toLowerCase()}`;
    if (v.kind === 'word' && /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(v.text)) return `${path} ${operator} ${v.text}`;
    throw invalid(`'${v.kind === 'word' ? v.text : v.kind}' is not a value (quote strings: "...")`);
  };

  const result = expression();
  if (pos < tokens.length) throw invalid('unexpected text after the end of the filter');
  return result;
}
