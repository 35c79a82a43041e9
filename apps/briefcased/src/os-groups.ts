import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** One entry of the group database: name, gid and the users listed as members. */
export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/**
 * Look a group up by name or gid. `getent` asks NSS (so LDAP or sssd groups count); where it is
 * missing, /etc/group is read directly. Node has no getgrnam(3).
 */
export function lookupGroup(nameOrGid: string | number): GroupEntry | null {
  const key = String(nameOrGid);
  let text: string;
  try {
    text = execFileSync('getent', ['group', key], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch (e) {
    // getent exits 2 when the key is unknown; anything else (ENOENT) falls back to the file.
    if ((e as { status?: number }).status === 2) return null;
    try {
      text = readFileSync('/etc/group', 'utf8');
    } catch {
      return null;
    }
  }
  for (const line of text.split('\n')) {
    const [name, , gid, members] = line.split(':');
    if (name === undefined || gid === undefined || !/^\d+$/.test(gid)) continue;
    if (name === key || gid === key) {
      return { name, gid: Number(gid), members: (members ?? '').split(',').filter(Boolean) };
    }
  }
  return null;
}

/** The gid of a group given as a name or a numeric string. */
export function groupId(group: string): number | null {
  if (/^\d+$/.test(group)) return Number(group);
  return lookupGroup(group)?.gid ?? null;
}
