import type { MessageBus } from '@jellybrick/dbus-next';
import type { Notice } from './message.ts';

/** Desktop Notifications Specification 1.2: the well-known name, object path and interface. */
const DESTINATION = 'org.freedesktop.Notifications';
const PATH = '/org/freedesktop/Notifications';
const INTERFACE = 'org.freedesktop.Notifications';
/** Notify(app_name, replaces_id, app_icon, summary, body, actions, hints, expire_timeout) → id. */
const NOTIFY_SIGNATURE = 'susssasa{sv}i';

export interface FreedesktopOptions {
  /** The session bus (DBUS_SESSION_BUS_ADDRESS as the daemon started with it). */
  busAddress: string;
  appName?: string;
  /** How long to wait for the bus and the notification server. */
  timeoutMs?: number;
}

/**
 * One notification over the session bus: connect, call Notify, disconnect. Approvals are rare
 * and a session bus can come and go (log out, a headless box), so no connection is kept open.
 * Resolves with the id the notification server gave; rejects when there is no bus, no server or
 * no answer in time.
 */
export async function sendFreedesktop(notice: Notice, options: FreedesktopOptions): Promise<number> {
  // dbus-next (and its XML parser) on the first notification: the daemon that imports this
  // package may never send one; eagerly it cost ~3 MiB of resident memory (issue 13).
  const { Message, sessionBus } = await import('@jellybrick/dbus-next');
  const timeoutMs = options.timeoutMs ?? 5000;
  let bus: MessageBus | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<number>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from the session bus in ${timeoutMs} ms`)), timeoutMs);
      bus = sessionBus({ busAddress: options.busAddress });
      // The connection reports a missing socket or a refused handshake as an 'error' event.
      (bus as unknown as NodeJS.EventEmitter).once('error', (e: unknown) => reject(asError(e)));
      const call = new Message({
        destination: DESTINATION,
        path: PATH,
        interface: INTERFACE,
        member: 'Notify',
        signature: NOTIFY_SIGNATURE,
        // expire_timeout -1: the server's default; urgency 1 (normal); category per the spec's list.
        body: [options.appName ?? 'Briefcase', 0, '', notice.summary, notice.body, [], {}, -1],
      });
      bus.call(call).then(
        (reply) => {
          const id = reply?.body[0];
          if (typeof id === 'number') resolve(id);
          else reject(new Error('the notification server answered without an id'));
        },
        (e: unknown) => reject(asError(e)),
      );
    });
  } finally {
    clearTimeout(timer);
    try {
      bus?.disconnect();
    } catch {
      // already gone
    }
  }
}

function asError(e: unknown): Error {
  if (e instanceof Error) return e;
  // dbus-next rejects with a DBusError or the error reply's text.
  return new Error(typeof e === 'string' ? e : JSON.stringify(e));
}
