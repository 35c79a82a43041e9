import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configPath } from './connect.ts';
import { HOST_IDS, HOSTS, type HostEnv, type HostId, type Scope } from './hosts.ts';

const linux: HostEnv = { platform: 'linux', home: '/home/alex' };
const mac: HostEnv = { platform: 'darwin', home: '/Users/alex' };
const windows: HostEnv = { platform: 'win32', home: 'C:\\Users\\alex', appData: 'C:\\Users\\alex\\AppData\\Roaming' };

const at = (host: HostId, env: HostEnv, scope: Scope = 'user', projectDir = '/p') =>
  configPath({ host, scope, env, projectDir });

/** Each host's user configuration on each OS, as its documentation gives it (sources in hosts.ts). */
describe('host configuration paths (issue 11, connect hosts)', () => {
  const expected: Record<HostId, [string, string, string]> = {
    'claude-desktop': [
      '/home/alex/.config/Claude/claude_desktop_config.json',
      '/Users/alex/Library/Application Support/Claude/claude_desktop_config.json',
      'C:\\Users\\alex\\AppData\\Roaming\\Claude\\claude_desktop_config.json',
    ],
    'claude-code': ['/home/alex/.claude.json', '/Users/alex/.claude.json', 'C:\\Users\\alex\\.claude.json'],
    cursor: ['/home/alex/.cursor/mcp.json', '/Users/alex/.cursor/mcp.json', 'C:\\Users\\alex\\.cursor\\mcp.json'],
    vscode: [
      '/home/alex/.config/Code/User/mcp.json',
      '/Users/alex/Library/Application Support/Code/User/mcp.json',
      'C:\\Users\\alex\\AppData\\Roaming\\Code\\User\\mcp.json',
    ],
    windsurf: [
      '/home/alex/.codeium/windsurf/mcp_config.json',
      '/Users/alex/.codeium/windsurf/mcp_config.json',
      'C:\\Users\\alex\\.codeium\\windsurf\\mcp_config.json',
    ],
  };
  for (const host of HOST_IDS) {
    it(`${host}: Linux, macOS and Windows`, () => {
      assert.deepEqual([at(host, linux), at(host, mac), at(host, windows)], expected[host]);
    });
  }

  it('XDG_CONFIG_HOME moves the Linux files of the Electron hosts; a relative one is ignored (XDG spec)', () => {
    const xdg = { ...linux, xdgConfigHome: '/data/cfg' };
    assert.equal(at('vscode', xdg), '/data/cfg/Code/User/mcp.json');
    assert.equal(at('claude-desktop', xdg), '/data/cfg/Claude/claude_desktop_config.json');
    assert.equal(at('cursor', xdg), '/home/alex/.cursor/mcp.json');
    assert.equal(at('vscode', { ...linux, xdgConfigHome: 'cfg' }), '/home/alex/.config/Code/User/mcp.json');
  });

  it('APPDATA defaults to <home>\\AppData\\Roaming; CLAUDE_CONFIG_DIR moves .claude.json', () => {
    assert.equal(
      at('vscode', { platform: 'win32', home: 'C:\\Users\\bo' }),
      'C:\\Users\\bo\\AppData\\Roaming\\Code\\User\\mcp.json',
    );
    assert.equal(at('claude-code', { ...linux, claudeConfigDir: '/cc' }), '/cc/.claude.json');
  });

  it('project scope: .mcp.json, .cursor/mcp.json, .vscode/mcp.json; refused where the host has none', () => {
    assert.equal(at('claude-code', linux, 'project', '/src/shop'), '/src/shop/.mcp.json');
    assert.equal(at('cursor', linux, 'project', '/src/shop'), '/src/shop/.cursor/mcp.json');
    assert.equal(at('vscode', windows, 'project', 'D:\\shop'), 'D:\\shop\\.vscode\\mcp.json');
    for (const host of ['claude-desktop', 'windsurf'] as const) {
      assert.throws(() => at(host, linux, 'project'), { code: 'bad_request', message: /no project scope/ });
    }
  });

  it('VS Code and Claude Code spell a stdio server with "type": "stdio"; the others as Claude Desktop does', () => {
    const base = { command: '/n', args: ['x'], env: { A: 'b' } };
    assert.deepEqual(HOSTS.vscode.entry(base), { type: 'stdio', ...base });
    assert.deepEqual(HOSTS['claude-code'].entry(base), { type: 'stdio', ...base });
    for (const host of ['claude-desktop', 'cursor', 'windsurf'] as const)
      assert.deepEqual(HOSTS[host].entry(base), base);
    assert.equal(HOSTS.vscode.container, 'servers');
  });
});
