import { lookup as dnsLookup } from 'node:dns/promises';
import { BriefcaseError } from '@briefcase/protocol';
import { classify, endsInNumber, parseIp, parseIPv4Loose, type AddressClass, type IpLiteral } from './ip.ts';

/** What a tool may reach: `AccessManifest.network` and `allow_private` (packages/protocol access.ts). */
export interface EgressRules {
  grants: string[];
  allowPrivate: boolean;
  /**
   * IP-literal `address:port` entries never reached, whatever is granted: the daemon's own
   * listeners (its HTTP API, an egress proxy), so that no grant or rebinding name reaches them.
   */
  deny?: string[];
}

/** The rules of an access manifest (`network`, `allow_private`), with the daemon's own listeners denied. */
export function egressRules(access: { network: string[]; allow_private: boolean }, deny: string[] = []): EgressRules {
  return { grants: [...access.network], allowPrivate: access.allow_private, deny };
}

/** One resolver answer, as `dns.lookup(name, { all: true })` gives it. */
export interface LookupAddress {
  address: string;
  family: number;
}

/** A resolver: tests inject one so a name can resolve to 127.0.0.1 without touching /etc/hosts. */
export type Lookup = (hostname: string) => Promise<LookupAddress[]>;

export interface ResolveOptions {
  lookup?: Lookup;
}

/**
 * A request the rules refuse: `sandbox_violation` on the wire (with a message that names
 * nothing), the host, port and reason in `detail` for the receipt and the log. The reason is
 * built only from the host, the port and the address class — never from headers or bodies.
 */
export class EgressViolation extends BriefcaseError {
  readonly host: string;
  readonly port: number;
  readonly reason: string;

  constructor(host: string, port: number, reason: string) {
    super(
      'sandbox_violation',
      'the request was blocked by the egress rules',
      `egress refused host ${host} port ${port}: ${reason}`,
    );
    this.name = 'EgressViolation';
    this.host = host;
    this.port = port;
    this.reason = reason;
  }
}

/** Never reachable, whatever is granted. */
const NEVER: ReadonlySet<AddressClass> = new Set(['unspecified', 'metadata', 'multicast', 'broadcast', 'reserved']);
/** Reachable through an IP-literal grant of that address, or through a granted name with allow_private. */
const LOCAL: ReadonlySet<AddressClass> = new Set(['loopback', 'private', 'link-local']);

type Target = { kind: 'ip'; ip: IpLiteral } | { kind: 'name'; name: string };
/** A parsed grant; `port` undefined means 80 and 443. */
type Grant =
  | { kind: 'ip'; text: string; port: number | undefined }
  | { kind: 'name' | 'wildcard'; name: string; port: number | undefined };

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/**
 * A host as a target: an IP literal in canonical form, or a syntactically valid DNS name (lower
 * case, one trailing dot dropped). Hostile IPv4 spellings and zone identifiers are refused here,
 * before anything could hand them to a resolver.
 */
function parseHost(raw: string): { ok: true; target: Target } | { ok: false; reason: string } {
  const host = raw.toLowerCase();
  if (host.includes(':') || host.startsWith('[')) {
    if (host.includes('%')) return { ok: false, reason: 'an IPv6 zone identifier is not allowed' };
    const ip = parseIp(host);
    return ip ? { ok: true, target: { kind: 'ip', ip } } : { ok: false, reason: 'not a valid IPv6 literal' };
  }
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  const v4 = parseIp(name);
  if (v4) return { ok: true, target: { kind: 'ip', ip: v4 } };
  if (endsInNumber(name)) {
    const loose = parseIPv4Loose(name);
    const as = loose ? ` (a resolver reads it as ${loose.join('.')})` : '';
    return { ok: false, reason: `not a canonical IPv4 address${as}` };
  }
  if (name.length === 0 || name.length > 253 || !name.split('.').every((l) => LABEL.test(l))) {
    return { ok: false, reason: 'not a valid host name' };
  }
  return { ok: true, target: { kind: 'name', name } };
}

function parseGrant(entry: string): Grant | null {
  let hostPart = entry.trim();
  let portText: string | undefined;
  const bracketed = /^(\[[^\]]+\])(?::([0-9]{1,5}))?$/.exec(hostPart);
  if (bracketed) [, hostPart = '', portText] = bracketed;
  else if (hostPart.split(':').length === 2) [hostPart = '', portText] = hostPart.split(':');
  // Otherwise a bare name, or a bare IPv6 literal (two colons or more), without a port.
  if (portText !== undefined && !/^[0-9]{1,5}$/.test(portText)) return null;
  const port = portText === undefined ? undefined : Number(portText);
  if (port !== undefined && (port < 1 || port > 65_535)) return null;
  if (hostPart.startsWith('*.')) {
    const parsed = parseHost(hostPart.slice(2));
    return parsed.ok && parsed.target.kind === 'name' ? { kind: 'wildcard', name: parsed.target.name, port } : null;
  }
  const parsed = parseHost(hostPart);
  if (!parsed.ok) return null;
  return parsed.target.kind === 'ip'
    ? { kind: 'ip', text: parsed.target.ip.text, port }
    : { kind: 'name', name: parsed.target.name, port };
}

function portMatches(grant: Grant, port: number): boolean {
  return grant.port === undefined ? port === 80 || port === 443 : grant.port === port;
}

function granted(target: Target, port: number, rules: EgressRules): boolean {
  return rules.grants.some((entry) => {
    const g = parseGrant(entry);
    if (!g || !portMatches(g, port)) return false;
    if (target.kind === 'ip') return g.kind === 'ip' && g.text === target.ip.text;
    if (g.kind === 'name') return g.name === target.name;
    return g.kind === 'wildcard' && target.name.endsWith(`.${g.name}`);
  });
}

/** The daemon's own listeners (console, HTTP API): refused whatever any manifest grants. */
const daemonListeners = new Set<string>();

/**
 * Deny `ip:port` (`127.0.0.1:38080`, `[::1]:8080`) to every tool in this process, whatever it is
 * granted: the daemon calls it for each of its own listeners as it binds them.
 */
export function denyDaemonListener(entry: string): void {
  daemonListeners.add(entry);
}

function denied(ip: IpLiteral, port: number, rules: EgressRules): boolean {
  return [...(rules.deny ?? []), ...daemonListeners].some((entry) => {
    const g = parseGrant(entry);
    return g?.kind === 'ip' && g.text === ip.text && portMatches(g, port);
  });
}

function describe(ip: IpLiteral): string {
  const c = classify(ip);
  return c.embedded ? `${c.class} address ${ip.text} (embeds ${c.embedded})` : `${c.class} address ${ip.text}`;
}

/**
 * Syntactic and IP-class check of `host:port`, without DNS. A name passes when it is granted
 * (its addresses are checked by `resolveChecked`); an IP literal passes when it is granted as that
 * literal and is not of a class that is never reachable (metadata, unspecified, multicast,
 * broadcast, reserved). An IP-literal grant of a loopback, private or link-local address is the
 * person's explicit consent to that one address and port (in its IPv4 form when it is IPv4: an
 * IPv6 form that embeds such an address is refused); `allowPrivate` extends it to names.
 */
export function checkTarget(
  host: string,
  port: number,
  rules: EgressRules,
): { ok: true } | { ok: false; reason: string } {
  if (!Number.isInteger(port) || port < 1 || port > 65_535) return { ok: false, reason: 'not a valid port' };
  const parsed = parseHost(host);
  if (!parsed.ok) return parsed;
  const target = parsed.target;
  if (target.kind === 'ip') {
    const c = classify(target.ip);
    if (NEVER.has(c.class)) return { ok: false, reason: `${describe(target.ip)} is never allowed` };
    if (denied(target.ip, port, rules)) return { ok: false, reason: `${describe(target.ip)} port ${port} is denied` };
    // A non-public IPv4 address in IPv6 clothing is a disguise: only the IPv4 literal is grantable.
    if (c.embedded && c.class !== 'public')
      return { ok: false, reason: `${describe(target.ip)} is not allowed in IPv6 form` };
    if (!granted(target, port, rules)) return { ok: false, reason: `${describe(target.ip)} is not granted` };
    return { ok: true };
  }
  if (!granted(target, port, rules)) return { ok: false, reason: `host ${target.name} is not granted` };
  return { ok: true };
}

/** The class check of one address a granted name resolved to. */
export function checkResolved(
  name: string,
  ip: IpLiteral,
  rules: EgressRules,
  port?: number,
): { ok: true } | { ok: false; reason: string } {
  const c = classify(ip).class;
  if (NEVER.has(c)) return { ok: false, reason: `${name} resolves to ${describe(ip)}, which is never allowed` };
  if (port !== undefined && denied(ip, port, rules)) {
    return { ok: false, reason: `${name} resolves to ${describe(ip)}, and port ${port} there is denied` };
  }
  if (LOCAL.has(c) && !rules.allowPrivate) {
    return { ok: false, reason: `${name} resolves to ${describe(ip)} and allow_private is off` };
  }
  return { ok: true };
}

const systemLookup: Lookup = (hostname) => dnsLookup(hostname, { all: true, order: 'ipv4first' });

/**
 * Every address `host` may be reached at, each checked. A name is resolved once and EVERY
 * address must pass (one bad answer refuses the name: rebinding and mixed answers fail); the
 * caller connects only to these addresses and never resolves again. IPv4 addresses come first.
 */
export async function resolveAllChecked(
  host: string,
  port: number,
  rules: EgressRules,
  options: ResolveOptions = {},
): Promise<Array<{ address: string; family: 4 | 6 }>> {
  const check = checkTarget(host, port, rules);
  if (!check.ok) throw new EgressViolation(hostLabel(host), port, check.reason);
  const parsed = parseHost(host);
  if (!parsed.ok) throw new EgressViolation(hostLabel(host), port, parsed.reason);
  if (parsed.target.kind === 'ip') return [{ address: parsed.target.ip.text, family: parsed.target.ip.family }];
  const name = parsed.target.name;
  const answers = await (options.lookup ?? systemLookup)(name);
  if (answers.length === 0) throw new Error(`${name} did not resolve`);
  const out: Array<{ address: string; family: 4 | 6 }> = [];
  for (const a of answers) {
    const ip = parseIp(a.address);
    if (!ip) throw new EgressViolation(name, port, `${name} resolves to something that is not an address`);
    const ok = checkResolved(name, ip, rules, port);
    if (!ok.ok) throw new EgressViolation(name, port, ok.reason);
    out.push({ address: ip.text, family: ip.family });
  }
  return out.sort((x, y) => x.family - y.family);
}

/** Resolve `host` and check every address against the rules; connect only to the address returned. */
export async function resolveChecked(
  host: string,
  port: number,
  rules: EgressRules,
  options: ResolveOptions = {},
): Promise<{ address: string; family: 4 | 6 }> {
  return (await resolveAllChecked(host, port, rules, options))[0]!;
}

/** A host as it goes into a receipt: bounded, printable, never more than the host itself. */
function hostLabel(host: string): string {
  const printable = host.replace(/[^\x21-\x7e]/g, '?');
  return printable.length > 260 ? `${printable.slice(0, 257)}...` : printable;
}
