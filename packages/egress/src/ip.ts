/**
 * IP literals and their address classes. Written out rather than delegated to `net.BlockList`
 * because the class of an IPv6 address that embeds an IPv4 one (mapped, compatible, NAT64,
 * 6to4) is the class of the IPv4 address it reaches, and the hostile spellings of IPv4 that
 * resolvers accept (`2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1`) must be recognised to be
 * refused.
 */

export type AddressClass =
  | 'public'
  | 'loopback'
  | 'unspecified'
  | 'link-local'
  | 'private'
  | 'metadata'
  | 'multicast'
  | 'broadcast'
  | 'reserved';

export interface IpLiteral {
  family: 4 | 6;
  /** 4 or 16 bytes, network order. */
  bytes: Uint8Array;
  /** Canonical text: dotted quad, or RFC 5952 IPv6 without brackets. */
  text: string;
}

export interface Classified {
  class: AddressClass;
  /** The IPv4 address an IPv6 one embeds, when its class comes from it. */
  embedded?: string;
}

/** Cloud instance metadata and host-agent addresses: reachable only from inside a VM, never granted. */
const METADATA = new Set([
  '169.254.169.254', // AWS, GCP, Azure, OpenStack, Oracle, DigitalOcean
  '169.254.170.2', // AWS ECS task metadata
  '100.100.100.200', // Alibaba Cloud
  '168.63.129.16', // Azure WireServer
  'fd00:ec2::254', // AWS IMDS over IPv6
]);

/** Canonical dotted-quad IPv4 only: four decimal octets, no leading zeros. */
export function parseIPv4(text: string): IpLiteral | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) return null;
    bytes[i] = Number(p);
  }
  return { family: 4, bytes, text };
}

/**
 * The IPv4 address a resolver (inet_aton, WHATWG URL's IPv4 parser) reads from a host that is
 * not a canonical dotted quad: one to four parts, each decimal, `0x` hex or `0`-led octal, the last
 * filling the remaining bytes. Null when it is not such a spelling.
 */
export function parseIPv4Loose(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length > 4 || parts.some((p) => p === '')) return null;
  const values: number[] = [];
  for (const p of parts) {
    let v: number;
    if (/^0x[0-9a-f]*$/i.test(p)) v = p.length === 2 ? 0 : parseInt(p.slice(2), 16);
    else if (/^0[0-7]+$/.test(p)) v = parseInt(p.slice(1), 8);
    else if (/^[0-9]+$/.test(p)) v = Number(p);
    else return null;
    if (!Number.isSafeInteger(v)) return null;
    values.push(v);
  }
  const last = values.pop()!;
  if (values.some((v) => v > 255) || last >= 256 ** (4 - values.length)) return null;
  const n = values.reduce((acc, v, i) => acc + v * 256 ** (3 - i), 0) + last;
  return new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
}

/**
 * WHATWG URL's "ends in a number" test: a host whose last label is numeric is an IPv4 address
 * to a resolver, never a name.
 */
export function endsInNumber(host: string): boolean {
  const labels = host.replace(/\.$/, '').split('.');
  const last = labels.at(-1) ?? '';
  return /^[0-9]+$/.test(last) || /^0x[0-9a-f]*$/i.test(last);
}

/** An IPv6 literal (brackets optional, no zone identifier) as 16 bytes. */
export function parseIPv6(input: string): IpLiteral | null {
  const text = input.startsWith('[') && input.endsWith(']') ? input.slice(1, -1) : input;
  if (!/^[0-9a-fA-F:.]+$/.test(text) || !text.includes(':')) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    const pieces = s.split(':');
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i]!;
      if (i === pieces.length - 1 && p.includes('.')) {
        const v4 = parseIPv4(p);
        if (!v4) return null;
        out.push((v4.bytes[0]! << 8) | v4.bytes[1]!, (v4.bytes[2]! << 8) | v4.bytes[3]!);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) {
        out.push(parseInt(p, 16));
      } else {
        return null;
      }
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 255;
  });
  return { family: 6, bytes, text: formatIPv6(bytes) };
}

/** RFC 5952 text: lower case, no leading zeros, the longest run (≥ 2) of zero groups as `::`. */
export function formatIPv6(bytes: Uint8Array): string {
  const g = Array.from({ length: 8 }, (_, i) => (bytes[2 * i]! << 8) | bytes[2 * i + 1]!);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best === -1) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** A canonical IPv4 or an IPv6 literal; null for anything else (names, hostile IPv4 spellings). */
export function parseIp(text: string): IpLiteral | null {
  return parseIPv4(text) ?? parseIPv6(text);
}

function v4Text(b: Uint8Array, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

export function classify(ip: IpLiteral): Classified {
  return ip.family === 4 ? { class: classifyV4(ip.bytes) } : classifyV6(ip.bytes);
}

function classifyV4(b: Uint8Array): AddressClass {
  const [a = 0, c = 0, d = 0, e = 0] = b;
  if (METADATA.has(`${a}.${c}.${d}.${e}`)) return 'metadata';
  if (a === 0) return 'unspecified'; // 0.0.0.0/8: "this network"; Linux connects 0.0.0.0 to the host itself
  if (a === 127) return 'loopback';
  if (a === 10 || (a === 172 && c >= 16 && c <= 31) || (a === 192 && c === 168)) return 'private';
  if (a === 100 && c >= 64 && c <= 127) return 'private'; // RFC 6598 shared address space (CGNAT)
  if (a === 169 && c === 254) return 'link-local';
  if (a >= 224 && a <= 239) return 'multicast';
  if (a === 255 && c === 255 && d === 255 && e === 255) return 'broadcast';
  if (a >= 240) return 'reserved';
  if (a === 192 && c === 0 && (d === 0 || d === 2)) return 'reserved'; // IETF assignments, TEST-NET-1
  if (a === 192 && c === 88 && d === 99) return 'reserved'; // 6to4 relay anycast
  if (a === 198 && (c === 18 || c === 19)) return 'reserved'; // benchmarking
  if ((a === 198 && c === 51 && d === 100) || (a === 203 && c === 0 && d === 113)) return 'reserved'; // TEST-NET-2/3
  return 'public';
}

function classifyV6(b: Uint8Array): Classified {
  const zero = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  const embedded = (at: number): Classified => {
    const v4 = v4Text(b, at);
    return { class: classifyV4(b.slice(at, at + 4)), embedded: v4 };
  };
  const text = formatIPv6(b);
  if (METADATA.has(text)) return { class: 'metadata' };
  if (zero(0, 16)) return { class: 'unspecified' };
  if (zero(0, 15) && b[15] === 1) return { class: 'loopback' };
  if (zero(0, 10) && b[10] === 0xff && b[11] === 0xff) return embedded(12); // ::ffff:0:0/96 mapped
  if (zero(0, 12)) return embedded(12); // ::/96 IPv4-compatible (deprecated)
  if (zero(0, 8) && b[8] === 0xff && b[9] === 0xff && zero(10, 12)) return embedded(12); // ::ffff:0:0:0/96 translated
  if (b[0] === 0 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zero(4, 12)) return embedded(12); // NAT64
  if (b[0] === 0x20 && b[1] === 0x02) return embedded(2); // 2002::/16 6to4
  if (b[0] === 0 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b) return { class: 'reserved' }; // local-use NAT64
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0 && b[3] === 0) return { class: 'reserved' }; // Teredo
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0x0d && b[3] === 0xb8) return { class: 'reserved' }; // documentation
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return { class: 'link-local' }; // fe80::/10
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0xc0) return { class: 'private' }; // fec0::/10 site-local
  if ((b[0]! & 0xfe) === 0xfc) return { class: 'private' }; // fc00::/7 unique local
  if (b[0] === 0xff) return { class: 'multicast' };
  if ((b[0]! & 0xe0) === 0x20) return { class: 'public' }; // 2000::/3 global unicast
  return { class: 'reserved' };
}
