import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseConfig, removeServer, serversOf, setServer } from './document.ts';

const ENTRY = {
  command: '/usr/bin/node',
  args: ['/opt/briefcase/bin/briefcase.js', 'mcp'],
  env: { BRIEFCASE_HOME: '/h' },
};

function roundTrip(text: string, jsonc = false, container = 'mcpServers') {
  const added = setServer(parseConfig(text, 'f.json', jsonc), container, 'briefcase', ENTRY);
  const removed = removeServer(parseConfig(added, 'f.json', jsonc), container, 'briefcase');
  return { added, removed };
}

/** In-place edits: the Briefcase member is the only change (issue 11, connect hosts). */
describe('editing a configuration in place', () => {
  it('JSONC: comments, trailing commas, tabs and a one-line neighbour stay byte for byte', () => {
    const text =
      '// servers\n{\n\t"servers": {\n\t\t// remote\n\t\t"github": { "type": "http", "url": "https://x/" }, // gh\n' +
      '\t\t"memory": { "command": "npx", "args": ["-y", "m"] } // mem\n\t},\n\t"inputs": [],\n}\n';
    const { added, removed } = roundTrip(text, true, 'servers');
    assert.ok(added.includes('\t\t"memory": { "command": "npx", "args": ["-y", "m"] }, // mem\n'), added);
    assert.ok(added.includes('\n\t\t"briefcase": {\n\t\t\t"command": "/usr/bin/node",'), added);
    assert.equal(removed, text);
  });

  it('strict JSON in 2 and 4 spaces, CRLF, trailing-comma style, minified: restored exactly', () => {
    for (const text of [
      '{\n  "mcpServers": {\n    "a": {\n      "command": "x"\n    }\n  },\n  "z": 1\n}\n',
      '{\n    "mcpServers": {\n        "a": {"command": "x"}\n    }\n}',
      '{\r\n  "mcpServers": {\r\n    "a": {\r\n      "command": "x"\r\n    }\r\n  }\r\n}\r\n',
      '{"mcpServers":{"a":{"command":"x"}},"b":[1,2]}',
      '{\n  "mcpServers": {}\n}\n',
    ]) {
      const { added, removed } = roundTrip(text);
      assert.equal(removed, text, added);
      if (text.includes('\r\n')) assert.ok(!/[^\r]\n/.test(added), 'CRLF kept');
      if (text.includes('    "mcpServers"'))
        assert.ok(added.includes('\n        "briefcase": {\n            "command"'));
    }
    const trailing = '{\n  "mcpServers": {\n    "a": {"command": "x"},\n  },\n}\n';
    assert.equal(roundTrip(trailing, true).removed, trailing);
  });

  it('a missing server map or an empty file gets one; removing leaves the rest and an empty map', () => {
    const { added, removed } = roundTrip('{\n  "numStartups": 4,\n  "projects": {"/a": {"mcpServers": {}}}\n}\n');
    assert.ok(added.includes('  "projects": {"/a": {"mcpServers": {}}},\n  "mcpServers": {\n    "briefcase"'));
    assert.deepEqual(JSON.parse(removed), { numStartups: 4, projects: { '/a': { mcpServers: {} } }, mcpServers: {} });
    assert.deepEqual(JSON.parse(roundTrip('').added), { mcpServers: { briefcase: ENTRY } });
  });

  it("the indentation is the members', not a leading block comment's", () => {
    const text = '/*\n * my servers\n */\n{\n    "servers": {\n        "a": {"command": "x"}\n    }\n}\n';
    assert.ok(roundTrip(text, true, 'servers').added.includes('\n        "briefcase": {\n            "command"'));
  });

  it('a byte order mark: kept in JSONC (VS Code reads it), refused in strict JSON', () => {
    const text = '\uFEFF{\n  "servers": {\n    "a": {"command": "x"}\n  }\n}\n';
    const { added, removed } = roundTrip(text, true, 'servers');
    assert.ok(added.startsWith('\uFEFF{\n  "servers": {\n    "a": {"command": "x"},\n    "briefcase": {'));
    assert.equal(removed, text);
    assert.throws(() => parseConfig(text, 'f', false), { code: 'invalid_config', message: /byte order mark/ });
  });

  it('replacing an existing entry changes only its value', () => {
    const text = '{\n  "mcpServers": {\n    "briefcase": {"command": "old"},\n    "b": {"command": "y"}\n  }\n}\n';
    const out = setServer(parseConfig(text, 'f', false), 'mcpServers', 'briefcase', ENTRY);
    assert.deepEqual(JSON.parse(out), { mcpServers: { briefcase: ENTRY, b: { command: 'y' } } });
    assert.ok(out.endsWith('},\n    "b": {"command": "y"}\n  }\n}\n'));
  });

  it('a member that shares its line with others is removed with one comma', () => {
    const text = '{"mcpServers": {"a": 1, "briefcase": {"command": "x"}, "c": 2}}';
    assert.equal(
      removeServer(parseConfig(text, 'f', false), 'mcpServers', 'briefcase'),
      '{"mcpServers": {"a": 1, "c": 2}}',
    );
  });

  it('refuses what does not parse, with where; strict hosts refuse comments and trailing commas', () => {
    for (const [text, jsonc, pattern] of [
      ['{"mcpServers": {', false, /not valid JSON .*line 1/],
      ['{\n  // note\n  "mcpServers": {}\n}', false, /not valid JSON \(InvalidCommentToken at line 2, column 3\)/],
      ['{"mcpServers": {},}', false, /not valid JSON/],
      ['{"a": 1}}', true, /not valid JSON with comments/],
      ['[1, 2]', false, /holds a JSON array, not an object/],
    ] as const) {
      assert.throws(() => parseConfig(text, '/x/c.json', jsonc), { code: 'invalid_config', message: pattern });
    }
    assert.throws(() => serversOf(parseConfig('{"mcpServers": []}', 'f', false), 'mcpServers'), {
      code: 'invalid_config',
      message: /"mcpServers" in f is not an object/,
    });
  });

  it('property: any JSON object, any indentation — adding then removing returns the same text', () => {
    const key = fc.string({ maxLength: 6 }).filter((k) => k !== 'briefcase' && k !== '__proto__');
    const doc = fc.record({
      servers: fc.dictionary(key, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
      other: fc.dictionary(
        key.filter((k) => k !== 'mcpServers'),
        fc.jsonValue({ maxDepth: 2 }),
        { maxKeys: 4 },
      ),
      indent: fc.constantFrom(0, 1, 2, 4, '\t'),
    });
    fc.assert(
      fc.property(doc, ({ servers, other, indent }) => {
        const text = JSON.stringify({ ...other, mcpServers: servers }, null, indent);
        const value = JSON.parse(text) as Record<string, unknown>; // plain objects (fc's may have none)
        const { added, removed } = roundTrip(text);
        assert.deepEqual(JSON.parse(added), {
          ...value,
          mcpServers: { ...(value.mcpServers as object), briefcase: ENTRY },
        });
        if (Object.keys(servers).length > 0) assert.equal(removed, text);
        else assert.deepEqual(JSON.parse(removed), value);
      }),
      { numRuns: 300 },
    );
  });
});
