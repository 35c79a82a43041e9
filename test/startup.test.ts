import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createPrivateKey } from 'node:crypto';
import { KEY_ROLES, readStoredKey } from '@briefcase/keys';
import { loadMasterKey, open } from '@briefcase/vault';
import { cli, cliJson, freePort, readJson, startDaemon, tempHome, writeJson } from './helpers.ts';

interface Check {
  code: string;
  ok: boolean;
  level: string;
  message: string;
}

/** Start-up refuses bad configuration with file, path and reason; binds stay on loopback. */
describe('start-up validation', () => {
  const { home, cleanup } = tempHome();
  let goodConfig: Record<string, unknown>;
  before(() => {
    assert.equal(cli(home, ['init']).code, 0);
    goodConfig = readJson(join(home, 'config.json'));
  });
  after(cleanup);

  const startFails = (args: string[] = []) => {
    const r = cli(home, ['start', ...args]);
    assert.notEqual(r.code, 0, `start should have failed:\n${r.stdout}`);
    return r.stderr;
  };

  it('refuses an invalid config, naming file, path and reason, and loses nothing', async () => {
    const d = await startDaemon(home);
    assert.equal(cli(home, ['secrets', 'set', 'keepme'], 'value-1234').code, 0);
    await d.stop();
    const before = cliJson<{ count: number }>(home, ['receipts', 'verify']).json.count;
    const vault = readFileSync(join(home, 'vault.json'), 'utf8');
    const cases: [unknown, RegExp][] = [
      [{ ...goodConfig, approvals: { ttl_seconds: 'ten' } }, /config\.json: approvals\.ttl_seconds: .*number/],
      [{ ...goodConfig, surprise: true }, /config\.json: .*surprise/],
      [{ ...goodConfig, daemon: { http: { enabled: true, host: '127.0.0.1', port: 99999 } } }, /daemon\.http\.port/],
      [
        { ...goodConfig, notes: { github_token: 'ghp_abcdefghijklmnopqrstuvwxyz0123456789' } },
        /notes\.github_token.*secret/,
      ],
    ];
    for (const [config, expected] of cases) {
      writeJson(join(home, 'config.json'), config);
      assert.match(startFails(), expected);
    }
    writeFileSync(join(home, 'config.json'), '{"version": 1,');
    assert.match(startFails(), /config\.json: not valid JSON/);
    writeJson(join(home, 'config.json'), goodConfig);
    assert.equal(readFileSync(join(home, 'vault.json'), 'utf8'), vault);
    assert.equal(cliJson<{ count: number; ok: boolean }>(home, ['receipts', 'verify']).json.count, before);
  });

  it('refuses a policy that does not validate (a bad connector disables only itself: connectors-reload.test.ts)', () => {
    const policy = readFileSync(join(home, 'policy.cedar'), 'utf8');
    writeFileSync(join(home, 'policy.cedar'), 'permit(principal, action, resource) when { resource.colour == "red" };');
    assert.match(startFails(), /policy\.cedar: .*colour/);
    writeFileSync(join(home, 'policy.cedar'), policy);
  });

  it('`connectors validate` names file, path and reason for each way a connector can be wrong', () => {
    const bad = join(home, '..', 'bad.json');
    const fails = () => {
      const r = cli(home, ['connectors', 'validate', bad]);
      assert.equal(r.code, 1, r.stdout);
      return r.stdout;
    };
    writeJson(bad, { kind: 'http', name: 'bad tool!', description: 'x' });
    assert.match(fails(), /bad\.json: \d+ problems?\n(.*\n)*\s+at name: tool names use/);
    writeJson(bad, {
      kind: 'http',
      name: 'leaky',
      description: 'a literal key in a header',
      category: 'read',
      input_schema: { type: 'object' },
      request: {
        method: 'GET',
        url: 'https://api.example.com/x',
        headers: { Authorization: 'Bearer sk-live-abcdef123456' },
      },
      egress: ['api.example.com'],
    });
    assert.match(fails(), /at request\.headers\.Authorization: looks like a literal secret/);
    writeJson(bad, {
      kind: 'http',
      name: 'offlist',
      description: 'URL outside its own allowlist',
      category: 'read',
      input_schema: { type: 'object' },
      request: { method: 'GET', url: 'https://evil.example.net/x' },
      egress: ['api.example.com'],
    });
    assert.match(fails(), /egress allowlist/);
    writeFileSync(bad, '[]');
    assert.match(fails(), /bad\.json/);
  });

  it('refuses a non-loopback bind and a port in use', async () => {
    const port = await freePort();
    const stderr = startFails(['--http', `0.0.0.0:${port}`]);
    assert.match(stderr, /public_bind_forbidden/);
    const gw = cli(home, ['mcp', '--http', `0.0.0.0:${port}`]);
    assert.notEqual(gw.code, 0);
    assert.match(gw.stderr, /public_bind_forbidden/);
    const blocker = createServer().listen(port, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    try {
      const r = await import('node:child_process').then(
        ({ spawn }) =>
          new Promise<{ code: number | null; err: string }>((res) => {
            const p = spawn(
              process.execPath,
              [join(import.meta.dirname, '..', 'apps/cli/bin/briefcase.js'), 'start', '--port', String(port)],
              {
                env: { ...process.env, BRIEFCASE_HOME: home },
              },
            );
            let err = '';
            p.stderr.on('data', (c) => (err += c));
            p.once('exit', (code) => res({ code, err }));
          }),
      );
      assert.notEqual(r.code, 0);
      assert.match(r.err, /port_in_use/);
    } finally {
      blocker.close();
    }
  });

  it('doctor --json reports stable codes, the software-key warning and the daemon (AC-9)', async () => {
    const offline = cliJson<Check[]>(home, ['doctor']);
    const byCode = (checks: Check[]) => new Map(checks.map((c) => [c.code, c]));
    let codes = byCode(offline.json);
    assert.equal(offline.code, 1);
    assert.equal(codes.get('daemon_unreachable')?.ok, false);
    for (const code of ['data_dir_permissions', 'config_valid', 'policy_valid', 'keys_present', 'clock_sane']) {
      assert.equal(codes.get(code)?.ok, true, code);
    }
    assert.equal(codes.get('software_keys')?.level, 'warning');
    assert.match(codes.get('software_keys')?.message ?? '', /software keys/);

    const d = await startDaemon(home);
    try {
      const online = cliJson<Check[]>(home, ['doctor']);
      assert.equal(online.code, 0, JSON.stringify(online.json));
      assert.equal(byCode(online.json).get('daemon_reachable')?.ok, true);
    } finally {
      await d.stop();
    }
    chmodSync(home, 0o755);
    writeJson(join(home, 'config.json'), { ...goodConfig, version: 2 });
    codes = byCode(cliJson<Check[]>(home, ['doctor']).json);
    assert.equal(codes.get('data_dir_permissions')?.ok, false);
    assert.match(codes.get('data_dir_permissions')?.message ?? '', /755/);
    assert.equal(codes.get('config_invalid')?.ok, false);
    chmodSync(home, 0o700);
    writeJson(join(home, 'config.json'), goodConfig);
  });
});

describe('passphrase-protected vault', () => {
  const { home, cleanup } = tempHome();
  after(cleanup);

  it('a wrong passphrase is a clear error and overwrites nothing (AC-3.2)', async () => {
    const env = { ...process.env, BRIEFCASE_HOME: home, BRIEFCASE_PASSPHRASE: 'correct horse battery' };
    const { spawnSync } = await import('node:child_process');
    const bin = join(import.meta.dirname, '..', 'apps/cli/bin/briefcase.js');
    assert.equal(spawnSync(process.execPath, [bin, 'init', '--demo'], { env }).status, 0);
    const before = ['vault.json', 'master.passphrase.json', 'keys/receipts.json'].map((f) =>
      readFileSync(join(home, f), 'utf8'),
    );
    // Every role's private key is sealed: neither its PKCS#8 bytes nor its JWK `d` are in the file.
    const master = await loadMasterKey(home, { passphrase: 'correct horse battery' });
    for (const role of KEY_ROLES) {
      const file = readFileSync(join(home, 'keys', `${role}.json`), 'utf8');
      const der = open(master.key, readStoredKey(home, role).sealed_private!, `briefcase.key.v1:${role}`);
      const d = (
        createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ format: 'jwk' }) as { d: string }
      ).d;
      for (const raw of [der.toString('base64'), der.toString('hex'), d, Buffer.from(d, 'base64url').toString('hex')]) {
        assert.ok(!file.includes(raw), `${role}.json holds its private key in the clear`);
      }
    }
    const wrong = spawnSync(process.execPath, [bin, 'start'], {
      env: { ...env, BRIEFCASE_PASSPHRASE: 'wrong passphrase!' },
      encoding: 'utf8',
    });
    assert.notEqual(wrong.status, 0);
    assert.match(wrong.stderr, /wrong passphrase/);
    const missing = spawnSync(process.execPath, [bin, 'start'], {
      env: { ...env, BRIEFCASE_PASSPHRASE: '' },
      encoding: 'utf8',
    });
    assert.match(missing.stderr, /protected by a passphrase/);
    const after = ['vault.json', 'master.passphrase.json', 'keys/receipts.json'].map((f) =>
      readFileSync(join(home, f), 'utf8'),
    );
    assert.deepEqual(after, before);
    const d = await startDaemon(home, [], { BRIEFCASE_PASSPHRASE: 'correct horse battery' });
    assert.match(
      d.output(),
      /warning \[software_keys\]: software keys \(identity, receipts, dpop\): sealed under a passphrase-derived master key/,
    );
    await d.stop();
  });
});

describe('first run (npm start)', () => {
  const { home, cleanup } = tempHome();
  after(cleanup);

  it('initialises, says what it created and warns, and prints the MCP client configuration', async () => {
    const d = await startDaemon(home, ['--init-demo']);
    try {
      const out = d.output();
      assert.match(out, /Initialised [^\n]*\n(\s+created [^\n]*\n)*\s+created [^\n]*master\.key/);
      assert.match(
        out,
        /warning \[software_keys\]: software keys \(identity, receipts, dpop\): sealed under a master key kept in a file/,
      );
      assert.match(out, /warning \[no_keychain\]: no OS keychain answered \(no D-Bus session bus/);
      const config = JSON.parse(out.slice(out.indexOf('{\n  "mcpServers"'), out.indexOf('\n}\n') + 2)) as {
        mcpServers: { briefcase: { command: string; args: string[]; env: { BRIEFCASE_HOME: string } } };
      };
      assert.equal(config.mcpServers.briefcase.env.BRIEFCASE_HOME, home);
      assert.deepEqual(config.mcpServers.briefcase.args.slice(-1), ['mcp']);
      assert.match(out, /npx @modelcontextprotocol\/inspector/);
      assert.match(out, /demo\.weather/);
    } finally {
      await d.stop();
    }
  });
});

describe('the briefcase bin', () => {
  it('works as `npx briefcase` from the repository root', async () => {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync('npx', ['--no-install', 'briefcase', '--version'], {
      cwd: join(import.meta.dirname, '..'),
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), '0.1.0');
  });
});
