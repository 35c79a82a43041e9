import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Message, NameFlag, sessionBus, type MessageBus } from '@jellybrick/dbus-next';

/** Whether a private session bus can be started here (Debian package: dbus-daemon). */
export function dbusDaemonAvailable(): boolean {
  return spawnSync('dbus-daemon', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** A private `dbus-daemon --session` on a socket in a temp dir; nothing else is on it. */
export async function privateSessionBus(): Promise<{ address: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'bc-bus-'));
  const proc: ChildProcess = spawn(
    'dbus-daemon',
    ['--session', '--nofork', '--print-address=1', `--address=unix:path=${join(dir, 'bus')}`],
    { stdio: ['ignore', 'pipe', 'ignore'], env: { PATH: process.env.PATH ?? '' } },
  );
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]!.trim());
    });
    proc.once('exit', (code) => reject(new Error(`dbus-daemon exited with ${code}`)));
  });
  return {
    address,
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ReceivedNotification {
  sender: string;
  signature: string;
  appName: string;
  summary: string;
  body: string;
  /** Every value of the D-Bus message body, as received. */
  raw: unknown[];
}

/**
 * A notification server for tests: owns org.freedesktop.Notifications on the given bus and
 * answers Notify (Desktop Notifications Specification 1.2) as a desktop's server does, recording
 * what it was sent. It stands in for a desktop's notification daemon (GNOME Shell, dunst, mako),
 * which would need a display; the bus and the messages are real.
 */
export async function notificationServer(address: string): Promise<{
  received: ReceivedNotification[];
  close(): void;
}> {
  const bus: MessageBus = sessionBus({ busAddress: address });
  const received: ReceivedNotification[] = [];
  let next = 1;
  const reply = await bus.requestName('org.freedesktop.Notifications', NameFlag.DO_NOT_QUEUE);
  if (reply !== 1) throw new Error(`could not own org.freedesktop.Notifications (reply ${reply})`);
  bus.addMethodHandler((msg: Message) => {
    if (msg.interface !== 'org.freedesktop.Notifications') return false;
    if (msg.member === 'Notify') {
      const [appName, , , summary, body] = msg.body as [string, number, string, string, string];
      received.push({ sender: msg.sender, signature: msg.signature, appName, summary, body, raw: msg.body });
      bus.send(Message.newMethodReturn(msg, 'u', [next++]));
      return true;
    }
    if (msg.member === 'GetCapabilities') {
      bus.send(Message.newMethodReturn(msg, 'as', [['body']]));
      return true;
    }
    return false;
  });
  return { received, close: () => bus.disconnect() };
}
