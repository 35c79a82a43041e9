import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findSecretValues, parseConfig } from './config.ts';

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

describe('payments.l402.macaroon_secret (issue 12: the macaroon is a daemon-only secret)', () => {
  const l402 = (macaroon_secret: string) => ({
    version: 1,
    payments: {
      l402: { rest_url: 'https://127.0.0.1:8080', tls_cert_path: '/x/tls.cert', macaroon_secret, network: 'bcrt' },
    },
  });
  it('refuses a name outside payments. and says what to rename and the exact command', () => {
    const r = parseConfig('config.json', l402('{{secret:lnd.pay}}'));
    assert.ok(!r.ok);
    const msg = r.error.join('\n');
    assert.match(msg, /config\.json: payments\.l402\.macaroon_secret: names "lnd\.pay"/);
    assert.match(msg, /secrets set payments\.lnd\.pay`/);
    assert.match(msg, /"\{\{secret:payments\.lnd\.pay\}\}"/);
    assert.match(msg, /secrets rm lnd\.pay`/);
  });
  it('accepts a payments. name', () => {
    const r = parseConfig('config.json', l402('{{secret:payments.lnd.pay}}'));
    assert.ok(r.ok, r.ok ? '' : r.error.join());
  });
});
