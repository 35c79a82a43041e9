import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Logger } from './logger.ts';

describe('Logger (issue 8 class 9: what a terminal shows)', () => {
  it('writes controls, bidi and invisible characters from logged values as JSON escapes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bc-log-'));
    try {
      const logger = new Logger({ component: 't', file: join(dir, 'x.log') });
      const hostile = 'a\u001b]8;;x\u0007b\u009b2K\u202eevil\u2066\u200b\ufeff\u{e0041}\u2028z\r';
      logger.info('remote said', { text: hostile });
      logger.close();
      const line = readFileSync(join(dir, 'x.log'), 'utf8').trimEnd();
      assert.doesNotMatch(line, /[\p{Cc}\p{Cf}\u2028\u2029]/u, `raw control or invisible character in ${line}`);
      assert.equal((JSON.parse(line) as { text: string }).text, hostile, 'the line parses to the logged value');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
