import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classify, parseIp } from './ip.ts';
import {
  checkTarget,
  EgressViolation,
  egressRules,
  resolveAllChecked,
  resolveChecked,
  type EgressRules,
  type Lookup,
} from './rules.ts';

const rules = (grants: string[], allowPrivate = false): EgressRules => ({ grants, allowPrivate });
const classOf = (text: string) => {
  const ip = parseIp(text);
  assert.ok(ip, `${text} parses`);
  return classify(ip);
};
const refused = (host: string, port: number, r: EgressRules, reason: RegExp) => {
  const c = checkTarget(host, port, r);
  assert.equal(c.ok, false, `${host}:${port} should be refused`);
  if (!c.ok) assert.match(c.reason, reason, `${host}:${port}`);
};
const fixed =
  (answers: Record<string, string[]>): Lookup =>
  async (name) => {
    const list = answers[name];
    if (!list) throw Object.assign(new Error(`ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    return list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

describe('address classes', () => {
  it('IPv4 ranges', () => {
    const cases: Record<string, string> = {
      '127.0.0.1': 'loopback',
      '127.255.0.9': 'loopback',
      '0.0.0.0': 'unspecified',
      '0.1.2.3': 'unspecified',
      '169.254.0.1': 'link-local',
      '169.254.169.254': 'metadata',
      '169.254.170.2': 'metadata',
      '100.100.100.200': 'metadata',
      '10.0.0.5': 'private',
      '172.16.0.1': 'private',
      '172.31.255.255': 'private',
      '172.32.0.1': 'public',
      '192.168.1.1': 'private',
      '100.64.0.1': 'private',
      '100.127.255.255': 'private',
      '100.128.0.1': 'public',
      '224.0.0.1': 'multicast',
      '239.255.255.250': 'multicast',
      '255.255.255.255': 'broadcast',
      '240.0.0.1': 'reserved',
      '192.0.2.1': 'reserved',
      '198.18.0.1': 'reserved',
      '8.8.8.8': 'public',
      '93.184.216.34': 'public',
    };
    for (const [ip, cls] of Object.entries(cases)) assert.equal(classOf(ip).class, cls, ip);
  });

  it('IPv6 ranges', () => {
    const cases: Record<string, string> = {
      '::1': 'loopback',
      '::': 'unspecified',
      'fe80::1': 'link-local',
      'febf::1': 'link-local',
      'fd00:ec2::254': 'metadata',
      'fc00::1': 'private',
      'fd12:3456::1': 'private',
      'ff02::1': 'multicast',
      '2001:db8::1': 'reserved',
      '2001::1': 'reserved',
      '100::1': 'reserved',
      '2606:4700::1111': 'public',
    };
    for (const [ip, cls] of Object.entries(cases)) assert.equal(classOf(ip).class, cls, ip);
  });

  it('every IPv6 form that embeds IPv4 is classified as the IPv4 address it reaches', () => {
    const cases: Record<string, [string, string]> = {
      '::ffff:127.0.0.1': ['loopback', '127.0.0.1'],
      '::ffff:7f00:1': ['loopback', '127.0.0.1'],
      '::ffff:169.254.169.254': ['metadata', '169.254.169.254'],
      '::ffff:a9fe:a9fe': ['metadata', '169.254.169.254'],
      '::ffff:10.0.0.1': ['private', '10.0.0.1'],
      '::ffff:8.8.8.8': ['public', '8.8.8.8'],
      '::127.0.0.1': ['loopback', '127.0.0.1'],
      '::ffff:0:127.0.0.1': ['loopback', '127.0.0.1'],
      '64:ff9b::127.0.0.1': ['loopback', '127.0.0.1'],
      '64:ff9b::a9fe:a9fe': ['metadata', '169.254.169.254'],
      '2002:7f00:1::': ['loopback', '127.0.0.1'],
      '2002:a9fe:a9fe::1': ['metadata', '169.254.169.254'],
      '2002:c0a8:101::': ['private', '192.168.1.1'],
    };
    for (const [ip, [cls, v4]] of Object.entries(cases)) {
      assert.deepEqual(classOf(ip), { class: cls, embedded: v4 }, ip);
    }
  });

  it('IPv6 text is canonicalised (RFC 5952), so grants and targets compare by address', () => {
    assert.equal(parseIp('[0:0:0:0:0:0:0:1]')?.text, '::1');
    assert.equal(parseIp('::FFFF:127.0.0.1')?.text, '::ffff:7f00:1');
    assert.equal(parseIp('2001:db8:0:0:1:0:0:1')?.text, '2001:db8::1:0:0:1');
    for (const bad of [
      '1::2::3',
      '12345::',
      ':::',
      '1:2:3:4:5:6:7:8:9',
      '::ffff:127.1',
      'fe80::1%eth0',
      '127.1',
      '0x7f.0.0.1',
    ]) {
      assert.equal(parseIp(bad), null, bad);
    }
  });
});

describe('checkTarget (no DNS)', () => {
  it('names: exact, host:port, *.domain (subdomains only), 80/443 without a port', () => {
    const r = rules(['api.example.com', 'db.example.com:5432', '*.svc.example.com', 'UPPER.example.com']);
    assert.deepEqual(checkTarget('api.example.com', 443, r), { ok: true });
    assert.deepEqual(checkTarget('API.Example.COM.', 80, r), { ok: true });
    assert.deepEqual(checkTarget('db.example.com', 5432, r), { ok: true });
    assert.deepEqual(checkTarget('a.svc.example.com', 443, r), { ok: true });
    assert.deepEqual(checkTarget('a.b.svc.example.com', 443, r), { ok: true });
    assert.deepEqual(checkTarget('upper.example.com', 443, r), { ok: true });
    refused('api.example.com', 8080, r, /host api\.example\.com is not granted/);
    refused('db.example.com', 443, r, /not granted/);
    refused('svc.example.com', 443, r, /not granted/);
    refused('evilsvc.example.com', 443, r, /not granted/);
    refused('api.example.com.evil.com', 443, r, /not granted/);
    refused('api.example.com', 0, r, /not a valid port/);
    refused('api.example.com', 65_536, r, /not a valid port/);
    refused('a b.example.com', 443, r, /not a valid host name/);
    refused('', 443, r, /not a valid host name/);
  });

  it('hostile IPv4 spellings that resolvers accept are refused, naming what they mean', () => {
    const r = rules(['127.0.0.1:8080', '2130706433:8080', '127.1:8080'], true);
    for (const host of [
      '2130706433',
      '0x7f.1',
      '0177.0.0.1',
      '127.1',
      '0x7f000001',
      '127.0.0.01',
      '127.0.1',
      '017700000001',
    ]) {
      refused(host, 8080, r, /not a canonical IPv4 address \(a resolver reads it as 127\.0\.0\.1\)/);
    }
    refused('1.2.3.4.5', 80, r, /not a canonical IPv4 address$/);
    refused('foo.0x10', 80, r, /not a canonical IPv4/);
    // The grants in hostile spellings match nothing, not even the canonical address's port.
    assert.deepEqual(checkTarget('127.0.0.1', 8080, r), { ok: true });
  });

  it('IP literals: loopback, private and link-local only through a grant of that literal and port', () => {
    const r = rules(['127.0.0.1:8080', '10.0.0.5:5432', '[::1]:9000', '169.254.1.1:80', 'localhost:8080'], true);
    assert.deepEqual(checkTarget('127.0.0.1', 8080, r), { ok: true });
    assert.deepEqual(checkTarget('10.0.0.5', 5432, r), { ok: true });
    assert.deepEqual(checkTarget('::1', 9000, r), { ok: true });
    assert.deepEqual(checkTarget('[::1]', 9000, r), { ok: true });
    assert.deepEqual(checkTarget('0:0::1', 9000, r), { ok: true });
    assert.deepEqual(checkTarget('169.254.1.1', 80, r), { ok: true });
    refused('127.0.0.1', 8081, r, /loopback address 127\.0\.0\.1 is not granted/);
    refused('127.0.0.2', 8080, r, /loopback address 127\.0\.0\.2 is not granted/);
    refused('10.0.0.6', 5432, r, /private address/);
    refused(
      '::ffff:127.0.0.1',
      8080,
      r,
      /loopback address ::ffff:7f00:1 \(embeds 127\.0\.0\.1\) is not allowed in IPv6 form/,
    );
    refused('::ffff:7f00:1', 8080, r, /embeds 127\.0\.0\.1/);
    refused('64:ff9b::7f00:1', 8080, r, /embeds 127\.0\.0\.1/);
    refused('::127.0.0.1', 8080, r, /embeds 127\.0\.0\.1/);
    refused('2002:7f00:1::', 8080, r, /embeds 127\.0\.0\.1/);
    // Even granted as that very IPv6 literal: only the IPv4 form of a local address is grantable.
    refused('::ffff:127.0.0.1', 8080, rules(['[::ffff:127.0.0.1]:8080'], true), /not allowed in IPv6 form/);
    refused(
      '64:ff9b::a00:5',
      5432,
      rules(['[64:ff9b::10.0.0.5]:5432'], true),
      /private address .* not allowed in IPv6 form/,
    );
    assert.deepEqual(checkTarget('::ffff:8.8.8.8', 443, rules(['[::ffff:8.8.8.8]:443'])), { ok: true });
    refused('fe80::1', 80, r, /link-local address fe80::1 is not granted/);
    refused('fe80::1%eth0', 80, r, /zone identifier/);
    // A granted name never makes its IP literal reachable, nor the reverse.
    refused('8.8.8.8', 443, rules(['dns.google']), /public address 8\.8\.8\.8 is not granted/);
  });

  it('metadata, unspecified, multicast, broadcast and reserved are never allowed, whatever is granted', () => {
    const grants = [
      '169.254.169.254',
      '169.254.169.254:80',
      '[fd00:ec2::254]:80',
      '100.100.100.200:80',
      '0.0.0.0:80',
      '[::]:80',
      '224.0.0.1:80',
      '255.255.255.255:80',
      '[::ffff:169.254.169.254]:80',
    ];
    const r = rules(grants, true);
    refused('169.254.169.254', 80, r, /metadata address 169\.254\.169\.254 is never allowed/);
    refused('fd00:ec2::254', 80, r, /metadata address/);
    refused('100.100.100.200', 80, r, /metadata address/);
    refused(
      '::ffff:169.254.169.254',
      80,
      r,
      /metadata address ::ffff:a9fe:a9fe \(embeds 169\.254\.169\.254\) is never allowed/,
    );
    refused('0.0.0.0', 80, r, /unspecified address 0\.0\.0\.0 is never allowed/);
    refused('::', 80, r, /unspecified address :: is never allowed/);
    refused('224.0.0.1', 80, r, /multicast/);
    refused('255.255.255.255', 80, r, /broadcast/);
  });

  it("deny: the daemon's own listeners are refused even when granted, by literal or through a name", async () => {
    const r: EgressRules = {
      grants: ['127.0.0.1:38080', 'localhost:38080', '127.0.0.1:5432'],
      allowPrivate: true,
      deny: ['127.0.0.1:38080', '[::1]:38080'],
    };
    refused('127.0.0.1', 38080, r, /loopback address 127\.0\.0\.1 port 38080 is denied/);
    assert.deepEqual(checkTarget('127.0.0.1', 5432, r), { ok: true });
    const lookup: Lookup = async () => [{ address: '127.0.0.1', family: 4 }];
    await assert.rejects(resolveChecked('localhost', 38080, r, { lookup }), (e) => {
      assert.ok(e instanceof EgressViolation);
      assert.match(e.reason, /localhost resolves to loopback address 127\.0\.0\.1, and port 38080 there is denied/);
      return true;
    });
    assert.deepEqual(egressRules({ network: ['a.example'], allow_private: true }, ['127.0.0.1:1']), {
      grants: ['a.example'],
      allowPrivate: true,
      deny: ['127.0.0.1:1'],
    });
  });

  it('a public IP literal passes when granted as that literal', () => {
    assert.deepEqual(checkTarget('93.184.216.34', 443, rules(['93.184.216.34'])), { ok: true });
    assert.deepEqual(checkTarget('2606:4700::1111', 443, rules(['[2606:4700::1111]:443'])), { ok: true });
    assert.deepEqual(checkTarget('2606:4700::1111', 443, rules(['2606:4700::1111'])), { ok: true });
  });
});

describe('resolveChecked', () => {
  const lookup = fixed({
    'api.example.com': ['93.184.216.34', '2606:2800:220:1::1'],
    'rebind.example.com': ['93.184.216.34', '127.0.0.1'],
    'internal.example.com': ['10.1.2.3'],
    'meta.example.com': ['169.254.169.254'],
    'mapped.example.com': ['::ffff:127.0.0.1'],
    'zero.example.com': ['0.0.0.0'],
    localhost: ['127.0.0.1', '::1'],
  });
  const all = [
    'api.example.com',
    'rebind.example.com',
    'internal.example.com',
    'meta.example.com',
    'mapped.example.com',
    'zero.example.com',
    'localhost:8080',
  ];

  it('a granted name resolves; every address is returned checked, IPv4 first', async () => {
    assert.deepEqual(await resolveChecked('api.example.com', 443, rules(all), { lookup }), {
      address: '93.184.216.34',
      family: 4,
    });
    assert.equal((await resolveAllChecked('api.example.com', 443, rules(all), { lookup })).length, 2);
  });

  it('a name that is not granted is refused before any DNS query', async () => {
    let asked = 0;
    const counting: Lookup = async (n) => {
      asked++;
      return lookup(n);
    };
    await assert.rejects(resolveChecked('evil.example.com', 443, rules(all), { lookup: counting }), (e) => {
      assert.ok(e instanceof EgressViolation);
      assert.equal(e.code, 'sandbox_violation');
      assert.equal(e.host, 'evil.example.com');
      assert.equal(e.port, 443);
      assert.match(e.reason, /not granted/);
      return true;
    });
    assert.equal(asked, 0);
  });

  it('rebinding: a granted name with ANY loopback, private, metadata or unspecified answer is refused', async () => {
    const cases: Array<[string, RegExp]> = [
      ['rebind.example.com', /rebind\.example\.com resolves to loopback address 127\.0\.0\.1 and allow_private is off/],
      ['internal.example.com', /resolves to private address 10\.1\.2\.3/],
      ['mapped.example.com', /resolves to loopback address ::ffff:7f00:1 \(embeds 127\.0\.0\.1\)/],
      ['meta.example.com', /resolves to metadata address 169\.254\.169\.254, which is never allowed/],
      ['zero.example.com', /resolves to unspecified address 0\.0\.0\.0/],
    ];
    for (const [name, reason] of cases) {
      await assert.rejects(resolveChecked(name, 443, rules(all), { lookup }), (e) => {
        assert.ok(e instanceof EgressViolation, name);
        assert.match(e.reason, reason);
        return true;
      });
    }
    await assert.rejects(resolveChecked('localhost', 8080, rules(all), { lookup }), /sandbox|egress/);
  });

  it('allow_private lets a granted name reach loopback and private addresses, never metadata', async () => {
    const r = rules(all, true);
    assert.equal((await resolveChecked('localhost', 8080, r, { lookup })).address, '127.0.0.1');
    assert.equal((await resolveChecked('internal.example.com', 443, r, { lookup })).address, '10.1.2.3');
    assert.equal((await resolveChecked('rebind.example.com', 443, r, { lookup })).address, '93.184.216.34');
    await assert.rejects(resolveChecked('meta.example.com', 443, r, { lookup }), /egress rules/);
    await assert.rejects(resolveChecked('zero.example.com', 443, r, { lookup }), /egress rules/);
  });

  it('an IP literal is not resolved; a resolver answer that is not an address is refused', async () => {
    const never: Lookup = async () => assert.fail('no DNS for a literal');
    assert.deepEqual(await resolveChecked('127.0.0.1', 8080, rules(['127.0.0.1:8080']), { lookup: never }), {
      address: '127.0.0.1',
      family: 4,
    });
    assert.deepEqual(await resolveChecked('[::1]', 8080, rules(['[::1]:8080']), { lookup: never }), {
      address: '::1',
      family: 6,
    });
    const weird: Lookup = async () => [{ address: '2130706433', family: 4 }];
    await assert.rejects(resolveChecked('api.example.com', 443, rules(all), { lookup: weird }), (e) => {
      assert.ok(e instanceof EgressViolation);
      assert.match(e.reason, /not an address/);
      return true;
    });
  });

  it('the wire form names nothing; the receipt detail names host and port', async () => {
    const e = await resolveChecked('evil.example.com', 8443, rules([]), { lookup }).catch((x: unknown) => x);
    assert.ok(e instanceof EgressViolation);
    assert.deepEqual(JSON.parse(JSON.stringify(e)), {
      code: 'sandbox_violation',
      message: 'the request was blocked by the egress rules',
    });
    assert.equal(e.detail, 'egress refused host evil.example.com port 8443: host evil.example.com is not granted');
  });

  it('the real resolver: localhost is loopback, refused without allow_private', async () => {
    await assert.rejects(resolveChecked('localhost', 8080, rules(['localhost:8080'])), /egress rules/);
    const a = await resolveChecked('localhost', 8080, rules(['localhost:8080'], true));
    assert.equal(classify(parseIp(a.address)!).class, 'loopback');
  });
});
