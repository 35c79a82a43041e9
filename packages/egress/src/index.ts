export { classify, parseIp, type AddressClass, type IpLiteral } from './ip.ts';
export {
  checkResolved,
  checkTarget,
  denyDaemonListener,
  EgressViolation,
  egressRules,
  resolveAllChecked,
  resolveChecked,
  type EgressRules,
  type Lookup,
  type LookupAddress,
  type ResolveOptions,
} from './rules.ts';
export { checkedFetch, type CheckedFetchInit } from './fetch.ts';
export { startEgressProxy, type EgressProxy, type EgressProxyOptions } from './proxy.ts';
export { pinnedLookup } from './connect.ts';
export { closeConnectionPools } from './pool.ts';
