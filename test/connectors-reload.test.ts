import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cli, cliJson, receiptRecords, startDaemon, tempHome, writeJson, type DaemonProcess } from './helpers.ts';
import { manifest, until, type State } from './lib/connectors.ts';

const toolNames = (home: string) =>
  cliJson<{ tools: { name: string }[] }>(home, ['tools', 'list']).json.tools.map((t) => t.name);

/** Issue 11: connectors are hot-reloaded, and a bad one disables only itself. */
describe('connectors: add, validate, list, rm, hot reload', () => {
  const { home, cleanup } = tempHome();
  const dir = join(home, 'connectors');
  const work = join(home, '..');
  let daemon: DaemonProcess;

  before(async () => {
    assert.equal(cli(home, ['init']).code, 0);
    daemon = await startDaemon(home);
  });
  after(async () => {
    await daemon?.stop();
    cleanup();
  });

  it('validate prints every problem at once, each with the path inside the JSON and what to do; exit 1', () => {
    const file = join(work, 'two-problems.json');
    writeJson(
      file,
      manifest('two.problems', {
        request: {
          method: 'GET',
          url: 'https://evil.example.net/',
          headers: { Authorization: 'Bearer sk-live-abcdef123456' },
        },
      }),
    );
    const r = cli(home, ['connectors', 'validate', file]);
    assert.equal(r.code, 1, r.stdout);
    // Two problems found by different checks, both reported by one run.
    assert.match(r.stdout, /2 problems/);
    assert.match(r.stdout, /at request\.headers\.Authorization: looks like a literal secret\n\s+→ store the value/);
    assert.match(r.stdout, /egress allowlist[^\n]*\n\s+→ add the host to "access.network"/);
    writeJson(join(work, 'schema.json'), manifest('bad name!', { category: 'sometimes' }));
    const schema = cli(home, ['connectors', 'validate', join(work, 'schema.json')]);
    assert.equal(schema.code, 1);
    assert.match(schema.stdout, /2 problems/);
    assert.match(schema.stdout, /at name: tool names use[^\n]*\n\s+→ rename it/);
    assert.match(schema.stdout, /at category: /);
    const json = cliJson<{ ok: boolean; problems: { at: string; problem: string; fix: string }[] }>(home, [
      'connectors',
      'validate',
      file,
    ]).json;
    assert.equal(json.ok, false);
    assert.ok(
      json.problems.length >= 1 && json.problems.every((p) => p.at && p.problem && p.fix),
      JSON.stringify(json),
    );
    writeFileSync(join(work, 'syntax.json'), '{"kind": "http",\n "name": }');
    const syntax = cli(home, ['connectors', 'validate', join(work, 'syntax.json')]);
    assert.equal(syntax.code, 1);
    assert.match(syntax.stdout, /at \(file\): not valid JSON: [^\n]+\n\s+→ fix the JSON syntax/);
    writeJson(join(work, 'good.json'), manifest('good.one'));
    const good = cli(home, ['connectors', 'validate', join(work, 'good.json')]);
    assert.equal(good.code, 0, good.stdout);
    assert.match(good.stdout, /is valid: tool good\.one/);
  });

  it('connectors add loads at once; list shows it ok; rm removes file and tool', async () => {
    writeJson(join(work, 'added.json'), manifest('added.tool'));
    const added = cli(home, ['connectors', 'add', join(work, 'added.json')]);
    assert.equal(added.code, 0, added.stderr);
    assert.ok(toolNames(home).includes('added.tool'));
    const list = cliJson<{ connectors: State[] }>(home, ['connectors', 'list']).json.connectors;
    assert.deepEqual(
      list.find((c) => c.file === 'added.json'),
      { ...list.find((c) => c.file === 'added.json'), state: 'ok', reason: null, tools: ['added.tool'] },
    );
    assert.notEqual(cli(home, ['connectors', 'add', join(work, 'added.json')]).code, 0, 'a second add is a conflict');
    assert.equal(cli(home, ['connectors', 'rm', 'added']).code, 0);
    assert.ok(!toolNames(home).includes('added.tool'));
    await until(home, (s) => !s.some((c) => c.file === 'added.json'), 'added.json gone from the list');
  });

  it('a file dropped into connectors/ is picked up without a restart (no passkey enrolled: the guard lets it through)', async () => {
    writeJson(join(dir, 'dropped.json'), manifest('dropped.tool'));
    await until(home, (s) => s.some((c) => c.file === 'dropped.json' && c.state === 'ok'), 'dropped.json loaded');
    assert.ok(toolNames(home).includes('dropped.tool'));
    const loaded = receiptRecords(home).find(
      (r) => r.body.event === 'connector_loaded' && r.body.file === 'dropped.json',
    );
    assert.ok(loaded, 'the load is receipted');
  });

  it('a file named after its tool (dots in the name, as start-up always loaded) is picked up; a dot file is not', async () => {
    writeJson(join(dir, 'named.like.tool.json'), manifest('named.like.tool'));
    writeJson(join(dir, '.hidden.json'), manifest('hidden.tool'));
    await until(
      home,
      (s) => s.some((c) => c.file === 'named.like.tool.json' && c.state === 'ok'),
      'named.like.tool.json loaded',
    );
    assert.ok(toolNames(home).includes('named.like.tool'));
    const states = await until(home, (s) => s.some((c) => c.file === '.hidden.json'), '.hidden.json seen');
    assert.equal(states.find((c) => c.file === '.hidden.json')!.state, 'disabled');
    assert.ok(!toolNames(home).includes('hidden.tool'));
    assert.equal(cli(home, ['connectors', 'rm', 'named.like.tool']).code, 0);
    rmSync(join(dir, '.hidden.json'));
    await until(home, (s) => !s.some((c) => c.file === '.hidden.json'), '.hidden.json gone');
  });

  it('a bad file disables only itself: logged with path and reason, the others and the daemon keep serving', async () => {
    writeFileSync(join(dir, 'broken.json'), '{"kind": "http", "name": ');
    writeJson(join(dir, 'clash.json'), manifest('dropped.tool'));
    const states = await until(
      home,
      (s) =>
        s.some((c) => c.file === 'broken.json' && c.state === 'disabled') &&
        s.some((c) => c.file === 'clash.json' && c.state === 'disabled'),
      'broken.json and clash.json disabled',
    );
    assert.match(states.find((c) => c.file === 'broken.json')!.reason!, /broken\.json: not valid JSON/);
    assert.match(
      states.find((c) => c.file === 'clash.json')!.reason!,
      /"dropped\.tool" is already defined by the connector dropped\.json/,
    );
    assert.equal(states.find((c) => c.file === 'dropped.json')!.state, 'ok');
    assert.equal(cli(home, ['connectors', 'list']).code, 1, 'list exits 1 while one is disabled');
    assert.ok(toolNames(home).includes('dropped.tool'));
    assert.equal(daemon.proc.exitCode, null, 'the daemon is still running');
    const log = readFileSync(join(home, 'logs', 'daemon.log'), 'utf8');
    assert.match(log, /connector disabled.*broken\.json.*not valid JSON/);
    // Doctor lists every problem at once (both files, and the secret nobody set).
    const doctor = cliJson<{ code: string; ok: boolean; message: string }[]>(home, ['doctor']).json;
    const bad = doctor.filter((c) => !c.ok);
    assert.ok(
      bad.some((c) => c.code === 'connector_invalid' && /broken\.json/.test(c.message)),
      JSON.stringify(bad),
    );
    assert.ok(
      bad.some((c) => c.code === 'connector_disabled' && /clash\.json/.test(c.message)),
      JSON.stringify(bad),
    );
    assert.ok(
      bad.some(
        (c) => c.code === 'secret_missing' && /dropped\.json.*example_key.*secrets set example_key/.test(c.message),
      ),
      JSON.stringify(bad),
    );
    // Fixing the file brings it back; deleting one takes its tool away; no restart.
    rmSync(join(dir, 'clash.json'));
    writeJson(join(dir, 'broken.json'), manifest('fixed.tool'));
    await until(
      home,
      (s) => s.some((c) => c.file === 'broken.json' && c.state === 'ok') && !s.some((c) => c.file === 'clash.json'),
      'broken.json fixed, clash.json gone',
    );
    assert.ok(toolNames(home).includes('fixed.tool'));
    rmSync(join(dir, 'dropped.json'));
    await until(home, (s) => !s.some((c) => c.file === 'dropped.json'), 'dropped.json removed');
    assert.ok(!toolNames(home).includes('dropped.tool'));
  });

  it('a connector that breaks at start is disabled; the daemon starts and serves the rest', async () => {
    writeFileSync(join(dir, 'zz-bad.json'), '[]');
    await daemon.stop();
    daemon = await startDaemon(home);
    const states = cliJson<{ connectors: State[] }>(home, ['connectors', 'list']).json.connectors;
    assert.equal(states.find((c) => c.file === 'zz-bad.json')?.state, 'disabled');
    assert.equal(states.find((c) => c.file === 'broken.json')?.state, 'ok');
    assert.ok(toolNames(home).includes('fixed.tool'));
  });
});
