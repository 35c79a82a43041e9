import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findSecretValues } from './config.ts';

describe('literal secrets in manifests', () => {
  it('an access manifest maps variables to vault secret names: a name is not a literal secret', () => {
    assert.deepEqual(
      findSecretValues({ access: { secrets: { GITHUB_TOKEN: 'github', API_KEY: 'demo_api_key' } } }),
      [],
    );
  });
  it('still refuses a literal under a secret-like key elsewhere, and a secret-shaped value anywhere', () => {
    assert.match(findSecretValues({ request: { headers: { token: 'abc' } } }).join(), /must be a \{\{secret:NAME\}\}/);
    assert.match(
      findSecretValues({ access: { secrets: { GITHUB_TOKEN: 'ghp_0123456789abcdefghijABCDEFGHIJ012345' } } }).join(),
      /looks like a literal secret/,
    );
  });
});
