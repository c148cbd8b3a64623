/**
 * What COQL takes (contract §7), in one place for the manifest (a row's `lookup_field` and
 * `lookup_value`) and the Zoho client (the query it writes).
 */

/** A module or field API name COQL takes unquoted: a letter, then letters, digits and underscores. */
const COQL_API_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/**
 * SQL words COQL takes as a field or module name only quoted (contract §7). The client never
 * quotes names (a quoted name reads like a text value in some places), so it refuses them.
 */
const COQL_RESERVED_WORDS = new Set(
  (
    'all and any as asc between by case cross desc distinct else end exists external false from full group having ' +
    'in inner is join left like limit not null offset on or order outer right select then true union where when'
  ).split(' '),
);

/**
 * Characters refused in a COQL value: the contract's only escape is a doubled quote, so a
 * backslash (an escape in many SQL dialects) and control characters are refused, not guessed at.
 */
const COQL_UNSAFE_VALUE = /[\\\u0000-\u001f\u007f]/;

/** Why COQL cannot take `name` as a module or field name, or undefined when it can. */
export function coqlNameProblem(name: string): string | undefined {
  if (!COQL_API_NAME.test(name)) return 'is not an API name COQL takes (letters, digits, underscores)';
  if (COQL_RESERVED_WORDS.has(name.toLowerCase()))
    return 'is an SQL reserved word, which COQL takes only quoted: use another field';
  return undefined;
}

/** Why COQL cannot look `value` up, or undefined when it can. */
export function coqlValueProblem(value: string): string | undefined {
  if (value === '') return 'is empty';
  if (COQL_UNSAFE_VALUE.test(value)) return 'holds a backslash or a control character, which COQL cannot look up';
  return undefined;
}
