import { isDeepStrictEqual } from 'node:util';
import {
  createScanner,
  findNodeAtLocation,
  getNodeValue,
  parseTree,
  printParseErrorCode,
  type Node,
  type ParseError,
} from 'jsonc-parser';
import { BriefcaseError } from '@briefcase/protocol/errors';

/**
 * A host's configuration file as text, edited in place: the one member we add, replace or remove
 * is the only change, so comments, key order, formatting and every other key survive byte for
 * byte. jsonc-parser finds the nodes; the edits are our own because its `modify` re-formats the
 * whole line an edit starts on (a neighbouring server written on one line would be rewritten).
 * Every edit is checked by parsing the result: the document must equal the old one with exactly
 * that member changed, or nothing is written.
 */
export interface ConfigDocument {
  text: string;
  /** The parsed value (an object). */
  value: Record<string, unknown>;
  root: Node | undefined;
  jsonc: boolean;
  file: string;
}

interface Edit {
  offset: number;
  length: number;
  content: string;
}

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `line ${before.length}, column ${before.at(-1)!.length + 1}`;
}

/** Parse a configuration file; a file that does not parse, or is not an object, is refused. */
export function parseConfig(text: string, file: string, jsonc: boolean): ConfigDocument {
  if (text.trim() === '') return { text, value: {}, root: undefined, jsonc, file };
  const errors: ParseError[] = [];
  // VS Code reads (and keeps) a byte order mark; a space in its place keeps every offset the same.
  const bom = text.startsWith('\uFEFF');
  const parseable = jsonc && bom ? ` ${text.slice(1)}` : text;
  const root = parseTree(parseable, errors, { allowTrailingComma: jsonc, disallowComments: !jsonc });
  const syntax = jsonc ? 'JSON with comments' : 'JSON';
  if (errors.length > 0) {
    const e = errors[0]!;
    throw new BriefcaseError(
      'invalid_config',
      `${file} is not valid ${syntax} (${bom && e.offset === 0 ? 'it starts with a byte order mark' : `${printParseErrorCode(e.error)} at ${lineAndColumn(text, e.offset)}`}). ` +
        'Nothing was changed: fix the file (or move it away) and run the command again.',
    );
  }
  if (!jsonc) {
    try {
      JSON.parse(text); // jsonc-parser is more lenient than the hosts' JSON.parse in corners
    } catch (e) {
      throw new BriefcaseError(
        'invalid_config',
        `${file} is not valid JSON (${(e as Error).message}). Nothing was changed: fix the file and run the command again.`,
      );
    }
  }
  if (root?.type !== 'object') {
    throw new BriefcaseError(
      'invalid_config',
      `${file} holds a JSON ${root?.type ?? 'value'}, not an object. Nothing was changed: fix the file and run the command again.`,
    );
  }
  // Plain objects (getNodeValue builds null-prototype ones), so values compare with structuredClones.
  const value = JSON.parse(JSON.stringify(getNodeValue(root))) as Record<string, unknown>;
  return { text, value, root, jsonc, file };
}

/** The server map (`mcpServers` or `servers`), refusing one that is not an object. */
export function serversOf(doc: ConfigDocument, container: string): Record<string, unknown> | undefined {
  const servers = doc.value[container];
  if (servers === undefined) return undefined;
  if (servers === null || typeof servers !== 'object' || Array.isArray(servers)) {
    throw new BriefcaseError(
      'invalid_config',
      `"${container}" in ${doc.file} is not an object. Nothing was changed: fix the file and run the command again.`,
    );
  }
  return servers as Record<string, unknown>;
}

function detectStyle(text: string): { unit: string; eol: string } {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  let unit = '  ';
  for (const line of text.split('\n').slice(0, 200)) {
    const m = /^([ \t]+)"/.exec(line); // a member's line (not a comment's ` * `)
    if (!m) continue;
    unit = m[1]!.startsWith('\t') ? '\t' : ' '.repeat(Math.min(m[1]!.length, 8));
    break;
  }
  return { unit, eol };
}

function lineStart(text: string, offset: number): number {
  const i = text.lastIndexOf('\n', offset - 1);
  return i + 1;
}

/** The leading whitespace of the line `offset` is on. */
function indentAt(text: string, offset: number): string {
  return /^[ \t]*/.exec(text.slice(lineStart(text, offset)))![0];
}

function pretty(value: unknown, indent: string, style: { unit: string; eol: string }): string {
  return JSON.stringify(value, null, style.unit).replaceAll('\n', style.eol + indent);
}

/** jsonc-parser's SyntaxKind values (a const enum in its typings, which verbatimModuleSyntax forbids). */
const TOKEN = { comma: 5, lineComment: 12, blockComment: 13, lineBreak: 14, trivia: 15, eof: 17 } as const;

/** Tokens after `offset` up to the end of its line: is there a comma, where does the line end? */
function restOfLine(text: string, offset: number): { comma: number | undefined; lineEnd: number; closes: boolean } {
  const scanner = createScanner(text, false);
  scanner.setPosition(offset);
  let comma: number | undefined;
  for (;;) {
    const kind: number = scanner.scan();
    if (kind === TOKEN.comma && comma === undefined) comma = scanner.getTokenOffset();
    else if (kind === TOKEN.lineBreak || kind === TOKEN.eof)
      return { comma, lineEnd: scanner.getTokenOffset(), closes: false };
    else if (kind !== TOKEN.trivia && kind !== TOKEN.lineComment && kind !== TOKEN.blockComment)
      return { comma, lineEnd: scanner.getTokenOffset(), closes: true };
  }
}

/** Edits that give `object` a member `key` (it has none yet). */
function addMember(text: string, object: Node, key: string, value: unknown): Edit[] {
  const style = detectStyle(text);
  const members = object.children ?? [];
  const last = members.at(-1);
  if (!last) {
    const outer = indentAt(text, object.offset);
    const inner = outer + style.unit;
    const close = object.offset + object.length - 1;
    let from = close;
    while (from > object.offset + 1 && /\s/.test(text[from - 1]!)) from--;
    const member = `${JSON.stringify(key)}: ${pretty(value, inner, style)}`;
    return [{ offset: from, length: close - from, content: `${style.eol}${inner}${member}${style.eol}${outer}` }];
  }
  const end = last.offset + last.length;
  const rest = restOfLine(text, end);
  const ownLine = text.slice(lineStart(text, last.offset), last.offset).trim() === '';
  const indent = ownLine ? indentAt(text, last.offset) : indentAt(text, object.offset) + style.unit;
  if (rest.closes) {
    // The closing brace on the last member's line (`{"a":1}`, minified files): stay on the line.
    const member = `${JSON.stringify(key)}:${JSON.stringify(value)}`;
    return rest.comma !== undefined
      ? [{ offset: rest.comma + 1, length: 0, content: member }]
      : [{ offset: end, length: 0, content: `,${member}` }];
  }
  const member = `${JSON.stringify(key)}: ${pretty(value, indent, style)}`;
  // The last member's line keeps its trailing comment; a trailing comma (JSONC) stays the style.
  const edits: Edit[] = [
    {
      offset: rest.lineEnd,
      length: 0,
      content: `${style.eol}${indent}${member}${rest.comma !== undefined ? ',' : ''}`,
    },
  ];
  if (rest.comma === undefined) edits.push({ offset: end, length: 0, content: ',' });
  return edits;
}

function applyEdits(text: string, edits: Edit[]): string {
  let out = text;
  for (const e of [...edits].sort((a, b) => b.offset - a.offset))
    out = out.slice(0, e.offset) + e.content + out.slice(e.offset + e.length);
  return out;
}

/** Check the edit did exactly what it should, then return the new text. */
function verified(doc: ConfigDocument, text: string, expected: Record<string, unknown>): string {
  let after: ConfigDocument | undefined;
  try {
    after = parseConfig(text, doc.file, doc.jsonc);
  } catch {
    // reported below
  }
  if (!after || !isDeepStrictEqual(after.value, expected)) {
    throw new BriefcaseError(
      'internal',
      `editing ${doc.file} would have changed more than the Briefcase entry; nothing was written (please report this).`,
    );
  }
  return text;
}

/** The text with `<container>.<name>` set to `entry` (added, or its value replaced). */
export function setServer(doc: ConfigDocument, container: string, name: string, entry: unknown): string {
  const expected = structuredClone(doc.value);
  const servers = (expected[container] ??= {}) as Record<string, unknown>;
  servers[name] = entry;
  if (!doc.root) {
    const style = detectStyle(doc.text);
    return verified(doc, `${pretty({ [container]: { [name]: entry } }, '', style)}${style.eol}`, expected);
  }
  const serversNode = findNodeAtLocation(doc.root, [container]);
  let edits: Edit[];
  if (!serversNode) {
    edits = addMember(doc.text, doc.root, container, { [name]: entry });
  } else {
    const existing = findNodeAtLocation(serversNode, [name]);
    if (existing) {
      const style = detectStyle(doc.text);
      const indent = indentAt(doc.text, existing.parent!.offset);
      edits = [{ offset: existing.offset, length: existing.length, content: pretty(entry, indent, style) }];
    } else {
      edits = addMember(doc.text, serversNode, name, entry);
    }
  }
  return verified(doc, applyEdits(doc.text, edits), expected);
}

/** The text without `<container>.<name>`; the rest (including an emptied container) stays. */
export function removeServer(doc: ConfigDocument, container: string, name: string): string {
  const serversNode = doc.root && findNodeAtLocation(doc.root, [container]);
  const property = serversNode && findNodeAtLocation(serversNode, [name])?.parent;
  if (!serversNode || !property) return doc.text;
  const expected = structuredClone(doc.value);
  delete (expected[container] as Record<string, unknown>)[name];
  const text = doc.text;
  const members = serversNode.children!;
  const index = members.indexOf(property);
  const end = property.offset + property.length;
  const rest = restOfLine(text, end);
  const ownLine = text.slice(lineStart(text, property.offset), property.offset).trim() === '';
  const edits: Edit[] = [];
  if (ownLine && !rest.closes) {
    // Its own line(s): remove them (with a comma at their end), and the comma that separated it
    // from the member before when it was the last one.
    const from = lineStart(text, property.offset);
    const to = Math.min(text.length, rest.lineEnd + (text[rest.lineEnd] === '\r' ? 2 : 1));
    edits.push({ offset: from, length: to - from, content: '' });
    if (index > 0 && index === members.length - 1 && rest.comma === undefined) {
      const prev = members[index - 1]!;
      const prevRest = restOfLine(text, prev.offset + prev.length);
      if (prevRest.comma !== undefined) edits.push({ offset: prevRest.comma, length: 1, content: '' });
    }
  } else if (rest.comma !== undefined) {
    // Shares a line with others: remove the member with the comma after it…
    let to = rest.comma + 1;
    while (text[to] === ' ' || text[to] === '\t') to++;
    edits.push({ offset: property.offset, length: to - property.offset, content: '' });
  } else if (index > 0) {
    // …or with the comma before it.
    const prev = members[index - 1]!;
    edits.push({ offset: prev.offset + prev.length, length: end - prev.offset - prev.length, content: '' });
  } else {
    edits.push({ offset: property.offset, length: property.length, content: '' });
  }
  return verified(doc, collapseEmpty(applyEdits(text, edits), container), expected);
}

/** `{` + blank lines + `}` left by removing the only member becomes `{}`. */
function collapseEmpty(text: string, container: string): string {
  const root = parseTree(text, [], { allowTrailingComma: true });
  const node = root && findNodeAtLocation(root, [container]);
  if (!node || node.type !== 'object' || (node.children?.length ?? 0) > 0) return text;
  const inner = text.slice(node.offset + 1, node.offset + node.length - 1);
  return inner.trim() === '' ? text.slice(0, node.offset + 1) + text.slice(node.offset + node.length - 1) : text;
}
