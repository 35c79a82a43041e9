import { existsSync } from 'node:fs';
import { sendFreedesktop } from './freedesktop.ts';
import type { Notice } from './message.ts';

export { approvalNotice, escapeMarkup, operationNotice, plainName } from './message.ts';
export type { ApprovalFacts, Notice, NoticeHints, OperationFacts } from './message.ts';
export { sendFreedesktop } from './freedesktop.ts';

/** Where a notice goes on this machine, or why nowhere. */
export type DesktopNotifier =
  { available: true; channel: string; send(notice: Notice): Promise<void> } | { available: false; reason: string };

/**
 * The desktop notifier for this platform. Linux (and other freedesktop desktops): the
 * org.freedesktop.Notifications service on the session bus named by DBUS_SESSION_BUS_ADDRESS, or
 * the systemd user bus at /run/user/UID/bus. macOS and Windows are not implemented (docs/approvals.md
 * says what would be used); they report unavailable, as a Linux box without a session bus does.
 */
export function desktopNotifier(
  env: Readonly<Record<string, string | undefined>>,
  platform: NodeJS.Platform = process.platform,
  uid: number = process.getuid?.() ?? -1,
): DesktopNotifier {
  if (platform === 'darwin' || platform === 'win32') {
    return { available: false, reason: `desktop notifications are not implemented on ${platform} yet` };
  }
  const fallback = `/run/user/${uid}/bus`;
  const busAddress =
    env.DBUS_SESSION_BUS_ADDRESS || (uid >= 0 && existsSync(fallback) ? `unix:path=${fallback}` : undefined);
  if (!busAddress) {
    return { available: false, reason: 'no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)' };
  }
  return {
    available: true,
    channel: 'org.freedesktop.Notifications (D-Bus session bus)',
    send: async (notice) => {
      await sendFreedesktop(notice, { busAddress });
    },
  };
}
