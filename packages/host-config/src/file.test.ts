import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { connectHost, disconnectHost, type Target } from './connect.ts';
import { ChangedUnderUs, readConfigFile, replaceConfigFile } from './file.ts';

const ENTRY = { command: '/usr/bin/node', args: ['/b.js', 'mcp'], env: { BRIEFCASE_HOME: '/h' } };

function cursorWorld() {
  const home = mkdtempSync(join(tmpdir(), 'bc-hostfile-'));
  const target: Target = { host: 'cursor', scope: 'project', env: { platform: 'linux', home }, projectDir: home };
  const dir = join(home, '.cursor');
  const file = join(dir, 'mcp.json');
  return { home, target, dir, file, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}

/**
 * A host writes its own file while it runs (Claude Code rewrites ~/.claude.json): a change made
 * between our read and our rename must never be lost (issue 11, connect hosts).
 */
describe('replacing a configuration file the host is also writing', () => {
  it('a stale read is refused: nothing replaced, no backup or temporary file left', () => {
    const w = cursorWorld();
    try {
      connectHost(w.target, { entry: ENTRY }); // creates .cursor/mcp.json
      const read = readConfigFile(w.file);
      writeFileSync(w.file, '{"mcpServers": {"theirs": {"command": "x"}}}');
      assert.throws(() => replaceConfigFile(read, '{}', new Date()), ChangedUnderUs);
      assert.equal(readFileSync(w.file, 'utf8'), '{"mcpServers": {"theirs": {"command": "x"}}}');
      assert.deepEqual(readdirSync(w.dir), ['mcp.json']);
    } finally {
      w.cleanup();
    }
  });

  it("connect re-reads and merges into the host's newer text; a file that never settles is left alone", () => {
    const w = cursorWorld();
    try {
      mkdirSync(w.dir);
      writeFileSync(w.file, '{"mcpServers": {}}');
      let writes = 0;
      const hostWrites = () => {
        writes++;
        writeFileSync(w.file, JSON.stringify({ mcpServers: { theirs: { command: `v${writes}` } } }, null, 2));
        return new Date();
      };
      // The host writes once, between our read and our rename: we redo the merge on its text.
      let once = false;
      const change = connectHost(w.target, {
        entry: ENTRY,
        now: () => (once ? new Date() : ((once = true), hostWrites())),
      });
      assert.equal(change.action, 'added');
      assert.deepEqual(JSON.parse(readFileSync(w.file, 'utf8')), {
        mcpServers: { theirs: { command: 'v1' }, briefcase: ENTRY },
      });
      // It writes every time: after three attempts, a conflict; its last text stands.
      assert.throws(
        () => connectHost(w.target, { entry: { ...ENTRY, args: ['/new.js'] }, force: true, now: hostWrites }),
        {
          code: 'conflict',
          message: /kept changing/,
        },
      );
      assert.deepEqual(JSON.parse(readFileSync(w.file, 'utf8')), { mcpServers: { theirs: { command: 'v4' } } });
      assert.equal(readdirSync(w.dir).filter((n) => n !== 'mcp.json').length, 1, 'only the first run’s backup');
    } finally {
      w.cleanup();
    }
  });

  it('two changes within one second keep two backups (-2), each the text it replaced', () => {
    const w = cursorWorld();
    try {
      mkdirSync(w.dir);
      writeFileSync(w.file, '{"mcpServers": {}}');
      const now = () => new Date('2026-12-02T19:05:12.345Z');
      const first = connectHost(w.target, { entry: ENTRY, now });
      const second = disconnectHost(w.target, { now });
      assert.equal(first.backup, `${w.file}.briefcase-backup-20261202T190512Z`);
      assert.equal(second.backup, `${w.file}.briefcase-backup-20261202T190512Z-2`);
      assert.equal(readFileSync(first.backup, 'utf8'), '{"mcpServers": {}}');
      assert.ok(readFileSync(second.backup!, 'utf8').includes('"briefcase"'));
    } finally {
      w.cleanup();
    }
  });
});
