import assert from 'node:assert/strict';
import {
  copyFileSync,
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseJsonc } from 'jsonc-parser';
import { BIN, ROOT, cli } from './helpers.ts';

const FIXTURES = join(ROOT, 'test/fixtures/clients');

/**
 * A throwaway user: HOME, XDG_CONFIG_HOME and APPDATA all point into a temp directory and nothing
 * else of this process's environment reaches the CLI, so no real host configuration is touched.
 */
function world() {
  const base = mkdtempSync(join(tmpdir(), 'bc-clients-'));
  const w = {
    base,
    home: join(base, 'home'),
    xdg: join(base, 'xdg'),
    bc: join(base, 'bc'),
    env: {
      PATH: process.env.PATH,
      HOME: join(base, 'home'),
      XDG_CONFIG_HOME: join(base, 'xdg'),
      XDG_CACHE_HOME: join(base, 'cache'),
      APPDATA: join(base, 'appdata'),
    },
    run: (...args: string[]) => cli(w.bc, ['client', ...args], '', w.env),
    cleanup: () => rmSync(base, { recursive: true, force: true }),
  };
  mkdirSync(w.home, { recursive: true });
  return w;
}
type World = ReturnType<typeof world>;

interface Case {
  host: string;
  fixture: string;
  /** Where the host keeps it on Linux (XDG_CONFIG_HOME honoured). */
  file: (w: World) => string;
  container: 'mcpServers' | 'servers';
  jsonc: boolean;
  type: boolean;
}

const CASES: Case[] = [
  {
    host: 'claude-desktop',
    fixture: 'claude_desktop_config.json',
    file: (w) => join(w.xdg, 'Claude/claude_desktop_config.json'),
    container: 'mcpServers',
    jsonc: false,
    type: false,
  },
  {
    host: 'claude-code',
    fixture: 'claude.json',
    file: (w) => join(w.home, '.claude.json'),
    container: 'mcpServers',
    jsonc: false,
    type: true,
  },
  {
    host: 'cursor',
    fixture: 'cursor-mcp.json',
    file: (w) => join(w.home, '.cursor/mcp.json'),
    container: 'mcpServers',
    jsonc: true,
    type: false,
  },
  {
    host: 'vscode',
    fixture: 'vscode-mcp.jsonc',
    file: (w) => join(w.xdg, 'Code/User/mcp.json'),
    container: 'servers',
    jsonc: true,
    type: true,
  },
  {
    host: 'windsurf',
    fixture: 'windsurf-mcp_config.json',
    file: (w) => join(w.home, '.codeium/windsurf/mcp_config.json'),
    container: 'mcpServers',
    jsonc: false,
    type: false,
  },
];

/** The entry `briefcase client connect` writes: this Node and this CLI, absolute, and the data directory. */
function expectedEntry(c: Case, bc: string): Record<string, unknown> {
  const base = { command: process.execPath, args: [realpathSync(BIN), 'mcp'], env: { BRIEFCASE_HOME: bc } };
  return c.type ? { type: 'stdio', ...base } : base;
}

const parse = (text: string, jsonc: boolean): Record<string, unknown> =>
  jsonc ? (parseJsonc(text, [], { allowTrailingComma: true }) as Record<string, unknown>) : JSON.parse(text);

/** Backups and leftover temporary files beside a configuration file. */
const siblings = (file: string, marker: string) =>
  readdirSync(dirname(file))
    .filter((n) => n.includes(marker))
    .map((n) => join(dirname(file), n));
const backups = (file: string) => siblings(file, '.briefcase-backup-');

function place(w: World, c: Case, text?: string): { file: string; original: string } {
  const file = c.file(w);
  mkdirSync(dirname(file), { recursive: true });
  if (text === undefined) copyFileSync(join(FIXTURES, c.fixture), file);
  else writeFileSync(file, text);
  chmodSync(file, 0o640);
  return { file, original: readFileSync(file, 'utf8') };
}

/** Issue 11 AC3: `client connect` for each host against fixture configurations. */
describe('briefcase client connect (issue 11, AC3)', () => {
  for (const c of CASES) {
    it(`${c.host}: merges without loss, backs up, is idempotent, dry-run writes nothing, disconnect restores`, () => {
      const w = world();
      try {
        const { file, original } = place(w, c);
        const before = parse(original, c.jsonc);

        const dry = w.run('connect', c.host, '--dry-run');
        assert.equal(dry.code, 0, dry.stderr);
        assert.match(dry.stdout, /^\+\s+"briefcase": \{$/m);
        assert.equal(readFileSync(file, 'utf8'), original, 'dry run wrote nothing');
        assert.deepEqual(backups(file), []);

        const connect = w.run('connect', c.host);
        assert.equal(connect.code, 0, connect.stderr);
        const connected = readFileSync(file, 'utf8');
        const container = before[c.container] as Record<string, unknown>;
        assert.deepEqual(parse(connected, c.jsonc), {
          ...before,
          [c.container]: { ...container, briefcase: expectedEntry(c, w.bc) },
        });
        for (const comment of original.match(/\/\/[^\n]*|\/\*[\s\S]*?\*\//g) ?? []) {
          assert.ok(connected.includes(comment), `comment kept: ${comment}`);
        }
        const [backup, ...more] = backups(file);
        assert.deepEqual(more, []);
        assert.equal(readFileSync(backup!, 'utf8'), original, 'the backup is the file as it was');
        assert.equal(statSync(backup!).mode & 0o777, 0o640);
        assert.equal(statSync(file).mode & 0o777, 0o640, 'same permissions after the atomic replace');
        assert.ok(connect.stdout.includes(backup!), connect.stdout);
        assert.deepEqual(siblings(file, '.tmp'), [], 'no temporary file left');

        const again = w.run('connect', c.host);
        assert.equal(again.code, 0, again.stderr);
        assert.match(again.stdout, /already connected/);
        assert.equal(readFileSync(file, 'utf8'), connected, 'second run: byte for byte the same');
        assert.equal(backups(file).length, 1, 'second run: no new backup');

        const list = JSON.parse(w.run('list', '--json').stdout) as {
          hosts: { host: string; state: string; installed: boolean }[];
        };
        const row = list.hosts.find((h) => h.host === c.host)!;
        assert.deepEqual([row.state, row.installed], ['connected', true]);
        assert.ok(list.hosts.filter((h) => h.host !== c.host).every((h) => h.state !== 'connected'));

        const gone = w.run('disconnect', c.host);
        assert.equal(gone.code, 0, gone.stderr);
        assert.equal(readFileSync(file, 'utf8'), original, 'disconnect restores the rest byte for byte');
        assert.equal(backups(file).length, 2);
      } finally {
        w.cleanup();
      }
    });

    it(`${c.host}: a file that does not parse is refused and left untouched`, () => {
      const w = world();
      try {
        const fixture = readFileSync(join(FIXTURES, c.fixture), 'utf8');
        const { file, original } = place(w, c, fixture.slice(0, Math.floor(fixture.length / 2)));
        const r = w.run('connect', c.host);
        assert.equal(r.code, 2);
        assert.ok(r.stderr.includes(file), r.stderr);
        assert.match(r.stderr, /is not valid JSON.*Nothing was changed/s);
        assert.equal(readFileSync(file, 'utf8'), original);
        assert.deepEqual(readdirSync(dirname(file)), [file.split('/').pop()], 'no backup, no temporary file');
      } finally {
        w.cleanup();
      }
    });
  }

  const cursor = CASES.find((c) => c.host === 'cursor')!;
  const claudeDesktop = CASES.find((c) => c.host === 'claude-desktop')!;

  it('strict-JSON hosts refuse comments (Claude Desktop would not read them either)', () => {
    const w = world();
    try {
      const { file, original } = place(w, claudeDesktop, '{\n  // mine\n  "mcpServers": {}\n}\n');
      const r = w.run('connect', 'claude-desktop');
      assert.equal(r.code, 2);
      assert.match(r.stderr, /InvalidCommentToken at line 2, column 3/);
      assert.equal(readFileSync(file, 'utf8'), original);
    } finally {
      w.cleanup();
    }
  });

  it('a different "briefcase" entry is refused without --force, replaced with it; fields the person added are kept', () => {
    const w = world();
    try {
      const other = { command: 'npx', args: ['-y', 'someone-elses-briefcase'] };
      const fixture = JSON.parse(readFileSync(join(FIXTURES, cursor.fixture), 'utf8')) as { mcpServers: object };
      const { file, original } = place(
        w,
        cursor,
        JSON.stringify({ mcpServers: { ...fixture.mcpServers, briefcase: other } }, null, 2),
      );
      const refused = w.run('connect', 'cursor');
      assert.equal(refused.code, 2);
      assert.match(
        refused.stderr,
        /already has a different "briefcase" server \(npx -y someone-elses-briefcase\).*--force/s,
      );
      assert.equal(readFileSync(file, 'utf8'), original);
      assert.deepEqual(backups(file), []);

      const forced = w.run('connect', 'cursor', '--force');
      assert.equal(forced.code, 0, forced.stderr);
      assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), {
        mcpServers: { ...fixture.mcpServers, briefcase: expectedEntry(cursor, w.bc) },
      });

      // A person's own additions to our entry do not make it "different".
      const mine = { ...expectedEntry(cursor, w.bc), disabled: false, env: { BRIEFCASE_HOME: w.bc, EXTRA: '1' } };
      const text = JSON.stringify({ mcpServers: { briefcase: mine } }, null, 2);
      writeFileSync(file, text);
      const again = w.run('connect', 'cursor');
      assert.match(again.stdout, /already connected/);
      assert.equal(readFileSync(file, 'utf8'), text);
    } finally {
      w.cleanup();
    }
  });

  it('a linked configuration (dotfiles) stays a link: the file it points to is changed and backed up', () => {
    const w = world();
    try {
      const real = join(w.base, 'dotfiles/cursor-mcp.json');
      mkdirSync(dirname(real), { recursive: true });
      copyFileSync(join(FIXTURES, cursor.fixture), real);
      mkdirSync(join(w.home, '.cursor'));
      symlinkSync(real, cursor.file(w));
      assert.equal(w.run('connect', 'cursor').code, 0);
      assert.ok(lstatSync(cursor.file(w)).isSymbolicLink());
      assert.ok('briefcase' in (JSON.parse(readFileSync(real, 'utf8')) as { mcpServers: object }).mcpServers);
      assert.equal(backups(real).length, 1);
    } finally {
      w.cleanup();
    }
  });

  it('project scope (VS Code .vscode/mcp.json, Claude Code .mcp.json) and a host with no file yet', () => {
    const w = world();
    try {
      const project = join(w.base, 'shop');
      mkdirSync(join(project, '.vscode'), { recursive: true });
      const vscodeFile = join(project, '.vscode/mcp.json');
      copyFileSync(join(FIXTURES, 'vscode-mcp.jsonc'), vscodeFile);
      const r = w.run('connect', 'vscode', '--scope', 'project', '--project', project);
      assert.equal(r.code, 0, r.stderr);
      const servers = (parse(readFileSync(vscodeFile, 'utf8'), true) as { servers: Record<string, unknown> }).servers;
      assert.deepEqual(Object.keys(servers), ['github', 'memory', 'briefcase']);

      const claudeProject = join(project, '.mcp.json');
      copyFileSync(join(FIXTURES, 'project-mcp.json'), claudeProject);
      assert.equal(w.run('connect', 'claude-code', '--scope', 'project', '--project', project).code, 0);
      assert.deepEqual(
        Object.keys((JSON.parse(readFileSync(claudeProject, 'utf8')) as { mcpServers: object }).mcpServers),
        ['sentry', 'briefcase'],
      );
      const list = JSON.parse(w.run('list', '--project', project, '--json').stdout) as {
        hosts: { host: string; scope: string; state: string }[];
      };
      assert.deepEqual(
        list.hosts.filter((h) => h.scope === 'project').map((h) => [h.host, h.state]),
        [
          ['claude-code', 'connected'],
          ['vscode', 'connected'],
        ],
      );

      // Windsurf never ran for this user: the file is created (0600), and the person is told.
      const windsurf = CASES.find((c) => c.host === 'windsurf')!.file(w);
      const created = w.run('connect', 'windsurf');
      assert.equal(created.code, 0, created.stderr);
      assert.match(created.stderr, /Windsurf does not look installed/);
      assert.equal(statSync(windsurf).mode & 0o777, 0o600);
      assert.deepEqual(backups(windsurf), []);

      // A service user's daemon: the entry reaches it through the agent socket, no data directory.
      const socket = JSON.parse(
        w.run('connect', 'cursor', '--socket', '/run/briefcase/agent.sock', '--dry-run', '--json').stdout,
      ) as { diff: string; written: boolean };
      assert.match(socket.diff, /^\+\s+"--socket",\n\+\s+"\/run\/briefcase\/agent\.sock"$/m);
      assert.doesNotMatch(socket.diff, /BRIEFCASE_HOME/);
      assert.equal(socket.written, false);

      for (const [args, pattern] of [
        [
          ['connect', 'emacs'],
          /unknown host "emacs": use one of claude-desktop, claude-code, cursor, vscode, windsurf/,
        ],
        [['connect', 'windsurf', '--scope', 'project'], /Windsurf has no project scope/],
        [['connect', 'cursor', '--project', project], /--project goes with --scope project/],
      ] as const) {
        const bad = w.run(...args);
        assert.equal(bad.code, 2);
        assert.match(bad.stderr, pattern);
      }
    } finally {
      w.cleanup();
    }
  });
});
