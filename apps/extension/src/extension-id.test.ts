import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { EXTENSION_DIR } from './install.ts';
import { EXTENSION_ID, extensionIdFromKey } from './extension-id.ts';

describe('the extension ID', () => {
  it('is the one Chromium derives from manifest.key (the host and the host manifest name it)', () => {
    const manifest = JSON.parse(readFileSync(`${EXTENSION_DIR}/manifest.json`, 'utf8')) as { key: string };
    assert.equal(extensionIdFromKey(manifest.key), EXTENSION_ID);
    assert.match(EXTENSION_ID, /^[a-p]{32}$/);
  });
});
