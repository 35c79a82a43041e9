import type { AccessManifest } from '@briefcase/protocol';

/**
 * Does `next` let a tool reach anything `current` did not? Any new path (or ro → rw), host, env
 * name or secret, private ranges, leaving the sandbox, or a higher limit widens; dropping any of
 * them narrows. A widening change is a guarded operation once a passkey exists (issue 10).
 */
export function accessWidens(current: AccessManifest, next: AccessManifest): string[] {
  const why: string[] = [];
  if (current.isolation === 'sandbox' && next.isolation === 'none') why.push('runs without the sandbox');
  if (!current.allow_private && next.allow_private) why.push('may reach private and loopback addresses');
  for (const g of next.filesystem) {
    const had = current.filesystem.find((c) => c.path === g.path);
    if (!had) why.push(`${g.access === 'rw' ? 'reads and writes' : 'reads'} ${g.path}`);
    else if (had.access === 'ro' && g.access === 'rw') why.push(`writes ${g.path}`);
  }
  for (const h of next.network) if (!current.network.includes(h)) why.push(`reaches ${h}`);
  for (const e of next.env) if (!current.env.includes(e)) why.push(`gets the environment variable ${e}`);
  for (const [v, secret] of Object.entries(next.secrets)) {
    if (current.secrets[v] !== secret) why.push(`gets the secret ${secret} as ${v}`);
  }
  for (const [k, v] of Object.entries(next.limits) as [keyof AccessManifest['limits'], number][]) {
    if (v > current.limits[k]) why.push(`a higher ${k} limit (${current.limits[k]} → ${v})`);
  }
  return why;
}
