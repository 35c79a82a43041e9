import type { LookupFunction } from 'node:net';

/**
 * A `lookup` for `net.connect` / `http.request` that answers only with addresses already
 * checked: the socket connects to what was checked and nothing is resolved a second time (a
 * rebinding resolver gets no second chance). Node asks with `all: true` when it races address
 * families (autoSelectFamily, on by default).
 */
export function pinnedLookup(addresses: Array<{ address: string; family: 4 | 6 }>): LookupFunction {
  return (_hostname, options, callback) => {
    const first = addresses[0]!;
    if (options.all)
      callback(
        null,
        addresses.map((a) => ({ address: a.address, family: a.family })),
      );
    else callback(null, first.address, first.family);
  };
}
