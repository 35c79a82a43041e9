import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ServerLog } from './server-log.ts';

describe('ServerLog: a stdio server stderr, scrubbed, bounded and rotated (issue 11)', () => {
  const withDir = (run: (dir: string) => void) => {
    const dir = mkdtempSync(join(tmpdir(), 'bc-slog-'));
    try {
      run(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('redacts vault values and credential shapes, escapes controls, cuts long lines', () => {
    withDir((dir) => {
      const canary = 'vault-canary-7f3a9c';
      const log = new ServerLog(join(dir, 'servers', 's.log'), {
        scrub: (t) => t.replaceAll(canary, '[redacted]'),
        maxLineChars: 200,
      });
      const gh = `ghp_${'a1B2'.repeat(9)}`;
      const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
      // Written in pieces, one cut through a multi-byte character and one through the canary.
      const text = `starting with key ${canary}\nAuthorization: Bearer abcdef123456 é\n${gh} and ${jwt}\n\u001b[2Jclear\n${'x'.repeat(500)}\nno newline`;
      const bytes = Buffer.from(text);
      for (let i = 0; i < bytes.length; i += 7) log.write(bytes.subarray(i, i + 7));
      log.close();
      const file = join(dir, 'servers', 's.log');
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const out = readFileSync(file, 'utf8');
      for (const leaked of [canary, 'abcdef123456', gh, jwt, '\u001b']) assert.ok(!out.includes(leaked), leaked);
      const lines = out.trimEnd().split('\n');
      assert.equal(lines.length, 6);
      assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT[\d:.]+Z starting with key \[redacted\]$/);
      assert.match(lines[1]!, /Bearer \[redacted\] é$/);
      assert.match(lines[3]!, /\\u001b\[2Jclear$/);
      assert.match(lines[4]!, /x{200}… \[cut: 500 characters\]$/);
      assert.match(lines[5]!, /no newline$/);
    });
  });

  it('keeps the start of an endless line and drops the rest up to its newline', () => {
    withDir((dir) => {
      const file = join(dir, 's.log');
      const log = new ServerLog(file, { maxLineChars: 100 });
      for (let i = 0; i < 1000; i++) log.write('z'.repeat(1000));
      log.write('\nnext line\n');
      log.close();
      const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
      assert.equal(lines.length, 2);
      assert.match(lines[0]!, / z{100}… \[cut: 400 characters\]$/);
      assert.match(lines[1]!, / next line$/);
    });
  });

  it('rotates by size and keeps a bounded number of files', () => {
    withDir((dir) => {
      const file = join(dir, 's.log');
      const log = new ServerLog(file, { maxBytes: 1000, keep: 2 });
      for (let i = 0; i < 100; i++) log.write(`line ${i} ${'y'.repeat(40)}\n`);
      log.close();
      assert.deepEqual(readdirSync(dir).sort(), ['s.log', 's.log.1', 's.log.2']);
      for (const f of readdirSync(dir)) assert.ok(statSync(join(dir, f)).size <= 1000, f);
      assert.match(readFileSync(file, 'utf8'), /line 99 /);
      assert.match(readFileSync(`${file}.1`, 'utf8'), /line \d+ /);
      assert.doesNotMatch(readFileSync(`${file}.2`, 'utf8'), /line 0 /, 'the oldest lines were dropped');
    });
  });
});
