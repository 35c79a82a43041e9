import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { BriefcaseError } from '@briefcase/protocol';
import { CodeTool } from './code-tool.ts';
import { echoServer, SECRET, tempDir, testDeps } from './testdata/deps.ts';

function jsTool(code: string, access: Record<string, unknown> = {}) {
  const tool = CodeTool.fromParts(
    {
      name: 'test.js',
      description: 'a test tool',
      category: 'read',
      runtime: 'quickjs',
      entry: 'tool.js',
      input_schema: { type: 'object' },
      access: { limits: { memory_mb: 16, call_ms: 300 }, ...access },
    },
    Buffer.from(code),
    tempDir(),
  );
  assert.ok(tool.ok, tool.ok ? '' : tool.error.join('\n'));
  return tool.value;
}

const violation = (pattern: RegExp) => (e: unknown) =>
  e instanceof BriefcaseError && e.code === 'sandbox_violation' && pattern.test(`${e.message} ${e.detail ?? ''}`);

describe('QuickJS code tools (AC 3)', () => {
  it('runs main(args, host) and returns its JSON value', async () => {
    const tool = jsTool('async function main(args) { return { twice: args.n * 2 } }');
    assert.deepEqual(await tool.call({ n: 21 }, testDeps()), { ok: true, value: { twice: 42 } });
  });

  it('grants a code tool cannot use are refused at load', () => {
    const r = CodeTool.check(
      {
        name: 'x.y',
        description: 'x',
        category: 'read',
        runtime: 'quickjs',
        entry: 'x.js',
        input_schema: { type: 'object' },
        access: { isolation: 'none', filesystem: [{ path: '$HOME/.ssh', access: 'ro' }], env: ['HOME'] },
      },
      Buffer.from('function main() {}'),
      'm',
    );
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.error.join('\n'), /isolation[\s\S]*filesystem[\s\S]*env/);
  });

  it('an exception of the tool is a tool error, not a violation', async () => {
    const tool = jsTool('function main() { throw new TypeError("bad input") }');
    assert.deepEqual(await tool.call({}, testDeps()), { ok: false, error: 'TypeError: bad input' });
  });

  it('while(true){} is stopped at the deadline (limits.call_ms)', async () => {
    const tool = jsTool('function main() { while (true) {} }');
    const started = Date.now();
    await assert.rejects(tool.call({}, testDeps()), violation(/time limit \(300 ms\)/));
    assert.ok(Date.now() - started < 5000);
  });

  it('a looping tool does not hold the daemon’s thread (it runs in a worker)', async () => {
    const tool = jsTool('function main() { while (true) {} }');
    const order: string[] = [];
    const call = tool.call({}, testDeps()).catch(() => order.push('loop stopped'));
    await new Promise((r) => setTimeout(r, 20));
    order.push('daemon thread ran');
    await call;
    assert.deepEqual(order, ['daemon thread ran', 'loop stopped']);
  });

  it('a loop that catches the interrupt is still stopped', async () => {
    const tool = jsTool('function main() { for (;;) { try { while (true) {} } catch (e) {} } }');
    await assert.rejects(tool.call({}, testDeps()), violation(/time limit/));
  });

  it('a memory bomb is refused at limits.memory_mb', async () => {
    const tool = jsTool('function main() { const a = []; for (;;) a.push({ i: a.length, s: "v" + a.length }) }', {
      limits: { memory_mb: 16, call_ms: 10_000 },
    });
    await assert.rejects(tool.call({}, testDeps()), violation(/memory limit/));
  });

  it('no ambient capability: process, require, fetch, timers are undefined; import() rejects', async () => {
    const tool = jsTool(`async function main() {
      let imported;
      try { await import('fs'); imported = 'loaded' } catch (e) { imported = String(e) }
      return { process: typeof process, require: typeof require, fetch: typeof fetch,
        setTimeout: typeof setTimeout, XMLHttpRequest: typeof XMLHttpRequest, WebSocket: typeof WebSocket, imported }
    }`);
    const r = await tool.call({}, testDeps());
    assert.deepEqual(r, {
      ok: true,
      value: {
        process: 'undefined',
        require: 'undefined',
        fetch: 'undefined',
        setTimeout: 'undefined',
        XMLHttpRequest: 'undefined',
        WebSocket: 'undefined',
        imported: "ReferenceError: could not load module 'fs'",
      },
    });
  });

  it('a static import does not load either', async () => {
    const tool = jsTool('import fs from "fs"; function main() { return 1 }');
    const r = await tool.call({}, testDeps());
    assert.equal(r.ok, false);
  });

  describe('host.http', () => {
    const up = echoServer();
    after(async () => (await up).server.close());

    it('reaches a granted host with a granted secret injected by name; the code never sees it', async () => {
      const { port, seen } = await up;
      const tool = jsTool(
        `async function main() {
          const r = await host.http({ url: 'http://127.0.0.1:${port}/x', headers: { authorization: 'Bearer {{secret:KEY}}' } });
          return r;
        }`,
        { network: [`127.0.0.1:${port}`], allow_private: true, secrets: { KEY: 'api_key' } },
      );
      const r = await tool.call({}, testDeps());
      assert.equal(seen.at(-1), `Bearer ${SECRET}`);
      assert.ok(r.ok);
      const text = JSON.stringify(r.value);
      assert.ok(!text.includes(SECRET), text);
      assert.match(text, /Bearer \[redacted\]/);
    });

    it('a host not granted is refused inside the code and fails the call closed', async () => {
      const { port, seen } = await up;
      const before = seen.length;
      const tool = jsTool(
        `async function main() {
          try { await host.http({ url: 'http://localhost:${port}/' }) } catch (e) { return 'caught: ' + e.message }
        }`,
        { network: [`127.0.0.1:${port}`], allow_private: true },
      );
      await assert.rejects(
        tool.call({}, testDeps()),
        violation(new RegExp(`network access to localhost:${port} is not granted`)),
      );
      assert.equal(seen.length, before, 'no request left');
    });

    it('the refusal is a clear error inside the code', async () => {
      const { port } = await up;
      const logs: unknown[] = [];
      const tool = jsTool(
        `async function main() {
          try { await host.http({ url: 'http://localhost:${port}/' }) } catch (e) { console.log(e.name + ': ' + e.message) }
        }`,
        { network: [`127.0.0.1:${port}`] },
      );
      await assert.rejects(tool.call({}, { ...testDeps(), onLog: (e) => logs.push(e.data) }));
      assert.deepEqual(logs, [
        `HostRefusal: refused by the Briefcase: network access to localhost:${port} is not granted`,
      ]);
    });

    it('a secret name not granted is refused (and nothing is sent)', async () => {
      const { port, seen } = await up;
      const before = seen.length;
      const tool = jsTool(
        `async function main() {
          return host.http({ url: 'http://127.0.0.1:${port}/', headers: { authorization: '{{secret:OTHER}}' } })
        }`,
        { network: [`127.0.0.1:${port}`], allow_private: true, secrets: { KEY: 'api_key' } },
      );
      await assert.rejects(tool.call({}, testDeps()), violation(/the secret "OTHER" is not granted/));
      assert.equal(seen.length, before);
    });

    it('without any network grant, host.http is refused', async () => {
      const tool = jsTool(`async function main() { return host.http({ url: 'http://127.0.0.1:9/' }) }`);
      await assert.rejects(tool.call({}, testDeps()), violation(/network access to 127.0.0.1:9 is not granted/));
    });

    it('a secret in the URL is refused', async () => {
      const { port } = await up;
      const tool = jsTool(
        `async function main() { return host.http({ url: 'http://127.0.0.1:${port}/?k={{secret:KEY}}' }) }`,
        { network: [`127.0.0.1:${port}`], allow_private: true, secrets: { KEY: 'api_key' } },
      );
      await assert.rejects(tool.call({}, testDeps()), violation(/only be injected in header values/));
    });
  });

  describe('host.kv', () => {
    it('persists per tool between calls', async () => {
      const tool = jsTool(
        `async function main(a) { const v = await host.kv.get('n'); await host.kv.set('n', String(Number(v ?? 0) + 1)); return v }`,
      );
      assert.deepEqual(await tool.call({}, testDeps()), { ok: true, value: null });
      assert.deepEqual(await tool.call({}, testDeps()), { ok: true, value: '1' });
    });

    it('a value over the size limit is refused as a violation', async () => {
      const tool = jsTool(`async function main() { await host.kv.set('big', 'x'.repeat(70000)) }`);
      await assert.rejects(tool.call({}, testDeps()), violation(/larger than 65536 bytes/));
    });
  });
});
