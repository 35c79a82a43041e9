import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { cli, freePort, startDaemon, tempHome, token, type DaemonProcess } from './helpers.ts';

/**
 * Issue 11, connect hosts: what `client connect` writes is a command that works where the host
 * runs it. After `client connect cursor` for a throwaway user, the exact command of the written
 * entry is spawned the way an agent host does (the official SDK's stdio client) and reaches the
 * running daemon's tools.
 */
describe('client connect cursor → the written command serves the tools (issue 11, e2e)', () => {
  const { home, cleanup } = tempHome();
  const user = join(home, '..', 'user');
  let daemon: DaemonProcess;

  before(async () => {
    assert.equal(cli(home, ['init', '--demo', '--demo-port', String(await freePort())]).code, 0);
    daemon = await startDaemon(home);
  });
  after(async () => {
    await daemon?.stop();
    cleanup();
  });

  it('spawns the entry from ~/.cursor/mcp.json and lists and calls tools', async () => {
    mkdirSync(join(user, '.cursor'), { recursive: true });
    const env = { PATH: process.env.PATH, HOME: user, XDG_CONFIG_HOME: join(user, '.config') };
    const r = cli(home, ['client', 'connect', 'cursor'], '', env);
    assert.equal(r.code, 0, r.stderr);
    const written = readFileSync(join(user, '.cursor/mcp.json'), 'utf8');
    for (const which of ['agent', 'admin', 'gateway-http'] as const) {
      assert.ok(!written.includes(token(home, which)), `no ${which} token in the host's file`);
    }
    const config = JSON.parse(written) as {
      mcpServers: { briefcase: { command: string; args: string[]; env: Record<string, string> } };
    };
    const entry = config.mcpServers.briefcase;
    // The same command `npm start` and `init` print for pasting by hand.
    const init = JSON.parse(cli(home, ['init', '--json']).stdout) as { mcp_client_config: typeof config };
    assert.deepEqual(entry, init.mcp_client_config.mcpServers.briefcase);
    // A desktop host's PATH is not the person's shell's (no nvm): the entry must not need one.
    const transport = new StdioClientTransport({
      command: entry.command,
      args: entry.args,
      env: { ...entry.env, PATH: '/nonexistent' },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'cursor-stand-in', version: '1.0.0' });
    await client.connect(transport);
    try {
      const { tools } = await client.listTools();
      assert.ok(
        tools.some((t) => t.name === 'echo'),
        tools.map((t) => t.name).join(),
      );
      const echo = await client.callTool({ name: 'echo', arguments: { text: 'via cursor config' } });
      assert.deepEqual(echo.content, [{ type: 'text', text: 'via cursor config' }]);
    } finally {
      await client.close();
    }
  });
});
