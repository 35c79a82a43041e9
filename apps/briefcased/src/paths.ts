import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Everything the Briefcase keeps, under one directory (mode 0700, files 0600). */
export interface DataPaths {
  home: string;
  config: string;
  policy: string;
  connectors: string;
  db: string;
  socket: string;
  agentToken: string;
  adminToken: string;
  gatewayHttpToken: string;
  logs: string;
  notes: string;
  pidFile: string;
  /** The identity key's signed statement of the receipts keys (public; exports carry it). */
  deviceStatement: string;
  /** The last receipts checkpoint the daemon signed, kept outside the database (receipts-guard.ts). */
  receiptsAnchor: string;
}

/** `--home` beats `BRIEFCASE_HOME` beats `~/.briefcase`. */
export function resolveHome(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(flag ?? env.BRIEFCASE_HOME ?? join(homedir(), '.briefcase'));
}

export function dataPaths(home: string): DataPaths {
  return {
    home,
    config: join(home, 'config.json'),
    policy: join(home, 'policy.cedar'),
    connectors: join(home, 'connectors'),
    db: join(home, 'briefcase.db'),
    socket: join(home, 'daemon.sock'),
    agentToken: join(home, 'agent.token'),
    adminToken: join(home, 'admin.token'),
    gatewayHttpToken: join(home, 'gateway-http.token'),
    logs: join(home, 'logs'),
    notes: join(home, 'notes.jsonl'),
    pidFile: join(home, 'daemon.pid'),
    deviceStatement: join(home, 'keys', 'device-statement.jws'),
    receiptsAnchor: join(home, 'receipts.anchor'),
  };
}

/** Does a daemon answer on this socket? (A stale socket file from a crash does not.) */
export function daemonAnswers(socket: string): Promise<boolean> {
  if (!existsSync(socket)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const s = connect(socket);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** A remote stdio server's stderr log (`briefcase logs --server NAME`); names are RemoteName-checked. */
export function serverLogFile(home: string, server: string): string {
  return join(home, 'logs', 'servers', `${server}.log`);
}
