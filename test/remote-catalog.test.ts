import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawn } from 'node:child_process';
import { Client as SdkClient, type Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { sandboxAvailable } from '@briefcase/sandbox';
import {
  BIN,
  ROOT,
  cli,
  cliAsync,
  cliJson,
  freePort,
  receiptRecords,
  remoteState,
  sleep,
  startDaemon,
  stdioClient,
  tempHome,
  token,
  writeJson,
  type DaemonProcess,
} from './helpers.ts';
import { manifest } from './lib/connectors.ts';

const EVERYTHING = join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const FIXTURE = join(ROOT, 'test/fixtures/test-mcp-server.ts');
const DOCS = join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/docs');
/** Sandboxed where bubblewrap works (Debian package: bubblewrap), as in remote-mcp.test.ts. */
const UNSANDBOXED = sandboxAvailable().ok ? [] : ['--isolation', 'none'];
if (UNSANDBOXED.length) console.warn('remote-catalog: stdio servers run unsandboxed here: bubblewrap is not usable');
const CANARY = 'sk-canary-9Qz4Lm2Pw7Kc1Rx8Ty3Vb6Nd';

async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    await sleep(100);
  }
  throw new Error(`${what}: never happened`);
}

/** Issue 11, AC 5: list_changed, and remote resources and prompts through the pipeline. */
describe('list_changed, resources and prompts through the real gateway (AC5)', () => {
  const { home, cleanup } = tempHome();
  let daemon: DaemonProcess;
  let agent: Client;
  const seen = { tools: 0, resources: 0, prompts: 0 };
  const toolNames = async () => (await agent.listTools()).tools.map((t) => t.name);

  before(async () => {
    assert.equal(cli(home, ['init']).code, 0);
    daemon = await startDaemon(home);
    assert.equal(cli(home, ['secrets', 'set', 'canary'], CANARY).code, 0);
    agent = await stdioClient(home);
    agent.setNotificationHandler(ToolListChangedNotificationSchema, () => void seen.tools++);
    agent.setNotificationHandler(ResourceListChangedNotificationSchema, () => void seen.resources++);
    agent.setNotificationHandler(PromptListChangedNotificationSchema, () => void seen.prompts++);
  });
  after(async () => {
    await agent?.close();
    await daemon?.stop();
    cleanup();
  });

  it('the gateway declares listChanged for tools, resources and prompts', () => {
    const caps = agent.getServerCapabilities();
    assert.equal(caps?.tools?.listChanged, true);
    assert.equal(caps?.resources?.listChanged, true);
    assert.equal(caps?.prompts?.listChanged, true);
  });

  it('AC5a: adding and removing a remote server sends tools/list_changed, and tools/list follows', async () => {
    const before = { ...seen };
    const added = await cliAsync(home, [
      'remote',
      'add',
      'everything',
      ...UNSANDBOXED,
      '--stdio',
      '--',
      process.execPath,
      EVERYTHING,
      'stdio',
    ]);
    assert.equal(added.code, 0, added.stderr);
    await eventually('tools/list_changed after remote add', () => seen.tools > before.tools);
    await eventually('resources/list_changed after remote add', () => seen.resources > before.resources);
    await eventually('prompts/list_changed after remote add', () => seen.prompts > before.prompts);
    assert.ok((await toolNames()).includes('everything.echo'));
  });

  it('AC5a: adding and removing a connector sends tools/list_changed, and tools/list follows', async () => {
    writeJson(join(home, '..', 'live.json'), manifest('live.tool'));
    let before = seen.tools;
    assert.equal((await cliAsync(home, ['connectors', 'add', join(home, '..', 'live.json')])).code, 0);
    await eventually('list_changed after connectors add', () => seen.tools > before);
    assert.ok((await toolNames()).includes('live.tool'));
    before = seen.tools;
    assert.equal((await cliAsync(home, ['connectors', 'rm', 'live'])).code, 0);
    await eventually('list_changed after connectors rm', () => seen.tools > before);
    assert.ok(!(await toolNames()).includes('live.tool'));
  });

  it('AC5a: adding and removing a command tool (`tools add`) sends tools/list_changed, and tools/list follows', async () => {
    let before = seen.tools;
    const definition = join(ROOT, 'examples/tools/json-query/tool.json');
    const added = await cliAsync(home, ['tools', 'add', definition]);
    assert.equal(added.code, 0, added.stderr);
    await eventually('list_changed after tools add (command tool)', () => seen.tools > before);
    assert.ok((await toolNames()).includes('json.query'));
    before = seen.tools;
    assert.equal((await cliAsync(home, ['tools', 'rm', 'json.query'])).code, 0);
    await eventually('list_changed after tools rm (command tool)', () => seen.tools > before);
    assert.ok(!(await toolNames()).includes('json.query'));
  });

  it('AC5a over Streamable HTTP: a client of `briefcase mcp --http` gets list_changed on its event stream', async () => {
    const port = await freePort();
    const gw = spawn(process.execPath, [BIN, 'mcp', '--http', `127.0.0.1:${port}`], {
      env: { ...process.env, BRIEFCASE_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const http = new SdkClient({ name: 'http-agent', version: '1.0.0' });
    try {
      await new Promise<void>((res, rej) => {
        gw.stdout?.on('data', (c: Buffer) => c.toString().includes('/mcp') && res());
        gw.once('exit', (code) => rej(new Error(`gateway exited ${code}`)));
      });
      let changed = 0;
      http.setNotificationHandler(ToolListChangedNotificationSchema, () => void changed++);
      await http.connect(
        new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`), {
          requestInit: { headers: { authorization: `Bearer ${token(home, 'gateway-http')}` } },
        }),
      );
      writeJson(join(home, '..', 'viahttp.json'), manifest('viahttp.tool'));
      // The client opens its standalone event stream (GET) after initialize, without telling us
      // when: a notification sent before that is lost by design. So change the tools until one
      // arrives (each add or rm is a change), within a generous bound.
      const file = join(home, '..', 'viahttp.json');
      let installed = false;
      for (let i = 0; i < 20 && changed === 0; i++) {
        const r = await cliAsync(home, installed ? ['connectors', 'rm', 'viahttp'] : ['connectors', 'add', file]);
        assert.equal(r.code, 0, r.stderr);
        installed = !installed;
        for (let j = 0; j < 30 && changed === 0; j++) await sleep(100);
      }
      assert.ok(changed > 0, 'no list_changed over HTTP');
      if (!installed) assert.equal((await cliAsync(home, ['connectors', 'add', file])).code, 0);
      await eventually('viahttp.tool listed over HTTP', async () =>
        (await http.listTools()).tools.some((t) => t.name === 'viahttp.tool'),
      );
      assert.equal((await cliAsync(home, ['connectors', 'rm', 'viahttp'])).code, 0);
    } finally {
      await http.close().catch(() => undefined);
      gw.kill('SIGTERM');
    }
  });

  it('AC5b: resources/list + resources/read of server-everything, namespaced, with one receipt per read', async () => {
    const { resources } = await agent.listResources();
    const doc = resources.find((r) => r.name === 'architecture.md');
    assert.ok(doc, JSON.stringify(resources.map((r) => r.uri)));
    assert.equal(
      doc.uri,
      `briefcase://everything/${encodeURIComponent('demo://resource/static/document/architecture.md')}`,
    );
    assert.ok(resources.every((r) => r.uri.startsWith('briefcase://everything/')));
    const before = receiptRecords(home).length;
    const read = await agent.readResource({ uri: doc.uri });
    assert.equal(read.contents.length, 1);
    assert.equal(read.contents[0]!.uri, doc.uri);
    assert.equal((read.contents[0] as { text: string }).text, readFileSync(join(DOCS, 'architecture.md'), 'utf8'));
    const receiptId = (read._meta as Record<string, string>)['dev.briefcase/receipt'];
    const records = receiptRecords(home).slice(before);
    const calls = records.filter((r) => r.kind === 'tool_call');
    assert.equal(calls.length, 1, JSON.stringify(calls));
    assert.equal(calls[0]!.body.tool, 'everything:resources/read');
    assert.equal(calls[0]!.body.outcome, 'ok');
    assert.equal(calls[0]!.body.category, 'read');
    assert.deepEqual(calls[0]!.body.args, { uri: doc.uri });
    assert.ok(receiptId, 'the result names its receipt');
  });

  it('AC5b: prompts/list + prompts/get of server-everything, with one receipt per get', async () => {
    const { prompts } = await agent.listPrompts();
    assert.ok(
      prompts.some((p) => p.name === 'everything.simple-prompt'),
      JSON.stringify(prompts),
    );
    const before = receiptRecords(home).length;
    const got = await agent.getPrompt({ name: 'everything.args-prompt', arguments: { city: 'Lyon' } });
    assert.deepEqual(got.messages, [{ role: 'user', content: { type: 'text', text: "What's weather in Lyon?" } }]);
    const calls = receiptRecords(home)
      .slice(before)
      .filter((r) => r.kind === 'tool_call');
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.body.tool, 'everything:prompts/get');
    assert.equal(calls[0]!.body.outcome, 'ok');
  });

  it('AC5b: policy governs reads: a forbid on everything:resources/read denies them (receipted); prompts still work', async () => {
    const original = cli(home, ['policy', 'show']).stdout;
    const file = join(home, '..', 'no-resources.cedar');
    writeFileSync(
      file,
      `${original}\n@id("no-everything-resources")\nforbid (principal, action, resource)\nwhen { resource.name == "everything:resources/read" };\n`,
    );
    assert.equal(cli(home, ['policy', 'apply', file]).code, 0);
    try {
      const uri = (await agent.listResources()).resources[0]!.uri;
      const before = receiptRecords(home).length;
      await assert.rejects(agent.readResource({ uri }), /\[denied\]/);
      const calls = receiptRecords(home)
        .slice(before)
        .filter((r) => r.kind === 'tool_call');
      assert.deepEqual(
        calls.map((c) => [c.body.tool, c.body.outcome]),
        [['everything:resources/read', 'denied']],
      );
      assert.equal((await agent.getPrompt({ name: 'everything.simple-prompt' })).messages.length, 1);
    } finally {
      writeFileSync(file, original);
      assert.equal(cli(home, ['policy', 'apply', file]).code, 0);
    }
  });

  it('AC5b: a URI outside the reviewed listing is refused, and receipted', async () => {
    const before = receiptRecords(home).length;
    await assert.rejects(
      agent.readResource({ uri: `briefcase://everything/${encodeURIComponent('file:///etc/passwd')}` }),
      /everything has no resource briefcase:\/\/everything\/file%3A%2F%2F%2Fetc%2Fpasswd \[invalid_args\]/,
    );
    await assert.rejects(agent.readResource({ uri: 'file:///etc/passwd' }), /unknown_tool/);
    const calls = receiptRecords(home)
      .slice(before)
      .filter((r) => r.kind === 'tool_call');
    assert.deepEqual(
      calls.map((c) => c.body.outcome),
      ['invalid_args', 'unknown_tool'],
    );
  });

  it('AC5b: a canary secret in a resource body and in a prompt message is redacted', async () => {
    const added = await cliAsync(home, [
      'remote',
      'add',
      'fixture',
      ...UNSANDBOXED,
      '--allow-read',
      ROOT,
      '--env-secret',
      'TEST_CANARY=canary',
      '--stdio',
      '--',
      process.execPath,
      FIXTURE,
    ]);
    assert.equal(added.code, 0, added.stderr);
    const uri = `briefcase://fixture/${encodeURIComponent('fixture://canary')}`;
    await eventually('fixture resources listed', async () =>
      (await agent.listResources()).resources.some((r) => r.uri === uri),
    );
    // Listings: a description and a URI that carry the key are scrubbed too.
    const listing = JSON.stringify(await agent.listResources());
    assert.ok(!listing.includes(CANARY), listing);
    assert.match(listing, /"description":"about (?!unset)/);
    assert.match(listing, /briefcase:\/\/fixture\/fixture%3A%2F%2Fkey%2F(?!unset)/);
    const read = await agent.readResource({ uri });
    const text = JSON.stringify(read);
    assert.ok(!text.includes(CANARY), text);
    // The server did get the secret (not "unset"): what the agent reads had it removed.
    assert.match((read.contents[0] as { text: string }).text, /^the key is (?!unset)\S+/);
    const prompt = JSON.stringify(await agent.getPrompt({ name: 'fixture.leaky' }));
    assert.ok(!prompt.includes(CANARY), prompt);
    assert.ok(!prompt.includes('use unset'), prompt);
    assert.ok(!JSON.stringify(receiptRecords(home)).includes(CANARY));
  });

  it('a resource the server adds later is hidden and refused until `remote pin`; pinning announces it', async () => {
    const grown = `briefcase://fixture/${encodeURIComponent('fixture://grown')}`;
    const r = await agent.callTool({ name: 'fixture.grow-resource', arguments: {} });
    assert.equal(r.isError, undefined, JSON.stringify(r));
    await eventually(
      'the new resource is seen by the daemon',
      async () =>
        (await remoteState(home, 'fixture')) &&
        cliJson<{ servers: { name: string; catalog: { name: string; state: string }[] }[] }>(home, ['remote', 'list'])
          .json.servers.find((s) => s.name === 'fixture')
          ?.catalog.some((c) => c.name === grown && c.state === 'new'),
    );
    assert.ok(!(await agent.listResources()).resources.some((x) => x.uri === grown));
    await assert.rejects(
      agent.readResource({ uri: grown }),
      /is new since it was reviewed.*remote pin fixture.*\[tool_changed\]/,
    );
    const before = seen.resources;
    assert.equal((await cliAsync(home, ['remote', 'pin', 'fixture'])).code, 0);
    await eventually('resources/list_changed after pin', () => seen.resources > before);
    const read = await agent.readResource({ uri: grown });
    assert.equal((read.contents[0] as { text: string }).text, 'grown resource');
  });

  it('AC5a: removing a remote server sends list_changed; its tools, resources and prompts are gone', async () => {
    const before = { ...seen };
    assert.equal((await cliAsync(home, ['remote', 'rm', 'everything'])).code, 0);
    await eventually('tools/list_changed after remote rm', () => seen.tools > before.tools);
    await eventually('resources/list_changed after remote rm', () => seen.resources > before.resources);
    assert.ok(!(await toolNames()).some((n) => n.startsWith('everything.')));
    assert.ok(!(await agent.listResources()).resources.some((r) => r.uri.startsWith('briefcase://everything/')));
    assert.ok(!(await agent.listPrompts()).prompts.some((p) => p.name.startsWith('everything.')));
  });
});

/** Issue 11: `remote add` that cannot reach its server exits non-zero with the cause, and adds nothing. */
describe('remote add of an unreachable server', () => {
  const { home, cleanup } = tempHome();
  let daemon: DaemonProcess;
  before(async () => {
    assert.equal(cli(home, ['init']).code, 0);
    daemon = await startDaemon(home);
  });
  after(async () => {
    await daemon?.stop();
    cleanup();
  });

  const names = () =>
    cliJson<{ servers: { name: string }[] }>(home, ['remote', 'list']).json.servers.map((s) => s.name);

  it('an HTTP URL nobody listens on', async () => {
    const port = await freePort();
    const r = await cliAsync(home, [
      'remote',
      'add',
      'gone',
      '--url',
      `http://127.0.0.1:${port}/mcp`,
      '--allow-private',
    ]);
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /gone was not added: its server could not be reached: .*(ECONNREFUSED|fetch failed)/);
    assert.deepEqual(names(), []);
    const failed = receiptRecords(home).find((x) => x.body.event === 'add_failed');
    assert.equal(failed?.body.server, 'gone');
  });

  it('a stdio command that does not exist (a path, and a name not on the PATH)', async () => {
    const path = await cliAsync(home, [
      'remote',
      'add',
      'nopath',
      ...UNSANDBOXED,
      '--stdio',
      '--',
      '/nonexistent/mcp-server',
    ]);
    assert.notEqual(path.code, 0);
    assert.match(path.stderr, /nopath was not added: .*\/nonexistent\/mcp-server does not exist or is not executable/);
    const bare = await cliAsync(home, [
      'remote',
      'add',
      'noname',
      ...UNSANDBOXED,
      '--stdio',
      '--',
      'no-such-mcp-server-xyz',
    ]);
    assert.notEqual(bare.code, 0);
    assert.match(bare.stderr, /noname was not added: .*"no-such-mcp-server-xyz" was not found on the PATH/);
    assert.deepEqual(names(), []);
    // Nothing was kept: the same name can be added once it works.
    const ok = await cliAsync(home, [
      'remote',
      'add',
      'nopath',
      ...UNSANDBOXED,
      '--allow-read',
      ROOT,
      '--stdio',
      '--',
      process.execPath,
      FIXTURE,
    ]);
    assert.equal(ok.code, 0, ok.stderr);
  });
});
