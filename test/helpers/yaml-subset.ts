/**
 * A reader for the small part of YAML that docker-compose.yml is written in (no YAML parser
 * is installed, and none is added for one test): block mappings, block lists of scalars, flow
 * lists of double-quoted strings, plain / double-quoted / single-quoted scalars, comments.
 * Scalars stay strings. Anything else (anchors, block scalars, flow maps, maps inside lists,
 * tabs) is refused with its line number, never guessed at: a compose file that outgrows this
 * reader fails its test loudly instead of being checked wrongly.
 */

/** What the subset can express. */
export type YamlValue = string | null | YamlValue[] | { [key: string]: YamlValue };

interface Line {
  number: number;
  indent: number;
  content: string;
}

/** Parses `text`; throws, naming the line, on anything outside the subset. */
export function parseYamlSubset(text: string): YamlValue {
  const lines = significantLines(text);
  let position = 0;

  const refuse = (line: Line, what: string): never => {
    throw new Error(`docker-compose.yml line ${line.number}: ${what} is outside the YAML subset test/helpers/yaml-subset.ts reads`);
  };

  const parseBlock = (indent: number): YamlValue => {
    const first = lines[position]!;
    return first.content === '-' || first.content.startsWith('- ') ? parseList(indent) : parseMap(indent);
  };

  const parseMap = (indent: number): YamlValue => {
    const map: { [key: string]: YamlValue } = {};
    while (position < lines.length && lines[position]!.indent === indent) {
      const line = lines[position]!;
      const entry = /^([A-Za-z0-9_.-]+):(?: +(.*))?$/.exec(line.content);
      if (!entry) refuse(line, `"${line.content}" (expected "key: value" or "key:")`);
      const [, key, value] = entry!;
      if (key! in map) refuse(line, `the repeated key "${key}"`);
      position++;
      const next = lines[position];
      if (value !== undefined) map[key!] = parseScalar(value, line);
      else map[key!] = next && next.indent > indent ? parseBlock(next.indent) : null;
    }
    const stray = lines[position];
    if (stray && stray.indent > indent) refuse(stray, 'an indentation that matches no key');
    return map;
  };

  const parseList = (indent: number): YamlValue => {
    const items: YamlValue[] = [];
    while (position < lines.length && lines[position]!.indent === indent && lines[position]!.content.startsWith('- ')) {
      const line = lines[position]!;
      const item = line.content.slice(2).trim();
      if (/^[A-Za-z0-9_.-]+:( |$)/.test(item)) refuse(line, 'a map inside a list');
      items.push(parseScalar(item, line));
      position++;
    }
    const stray = lines[position];
    if (stray && stray.indent > indent) refuse(stray, 'an indentation that matches no list item');
    return items;
  };

  const parseScalar = (raw: string, line: Line): YamlValue => {
    const value = raw.trim();
    if (value.startsWith('"')) {
      if (!value.endsWith('"') || value.length < 2) refuse(line, 'an unterminated double-quoted string');
      return JSON.parse(value) as string;
    }
    if (value.startsWith("'")) {
      if (!value.endsWith("'") || value.length < 2) refuse(line, 'an unterminated single-quoted string');
      return value.slice(1, -1).replaceAll("''", "'");
    }
    if (value.startsWith('[')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        refuse(line, 'a flow list that is not a list of double-quoted strings');
      }
      if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string')) refuse(line, 'a flow list that is not a list of strings');
      return parsed as string[];
    }
    if (/^[{&*!|>%@`]/.test(value)) refuse(line, `the value "${value}"`);
    if (value.includes(': ') || value.endsWith(':')) refuse(line, `the plain scalar "${value}" (quote it)`);
    return value;
  };

  if (lines.length === 0) return null;
  if (lines[0]!.indent !== 0) refuse(lines[0]!, 'an indented first line');
  const document = parseBlock(0);
  if (position < lines.length) refuse(lines[position]!, 'this line');
  return document;
}

/** The lines that carry content, with comments removed and indentation measured. */
function significantLines(text: string): Line[] {
  const lines: Line[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const number = index + 1;
    if (/^\s*\t/.test(raw)) throw new Error(`docker-compose.yml line ${number}: a tab in the indentation`);
    if (raw.trim() === '---' || raw.trim() === '...') throw new Error(`docker-compose.yml line ${number}: document markers are outside the subset`);
    const content = withoutComment(raw).trimEnd();
    if (content.trim() === '') return;
    lines.push({ number, indent: content.length - content.trimStart().length, content: content.trim() });
  });
  return lines;
}

/**
 * Cuts a `#` comment that starts a line or follows a space, outside quotes. A quote counts only
 * where a scalar starts (after `: `, `- `, `[`, `,` or indentation): `it's` in a plain scalar is no quote.
 */
function withoutComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if ((c === '"' || c === "'") && /(^|[:\-[,])\s*$/.test(line.slice(0, i))) quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) return line.slice(0, i);
  }
  return line;
}
