import { createHash } from 'node:crypto';

/**
 * The extension's fixed ID. Chromium derives an unpacked extension's ID from `manifest.key` (a
 * base64 SubjectPublicKeyInfo): the first 16 bytes of sha256(SPKI DER), each hex digit 0–f
 * written as a letter a–p. extension-id.test.ts checks this constant against the manifest.
 *
 * The private half of the key was never kept: the key only fixes the ID (so the native host
 * can name its one allowed origin); nothing is signed with it.
 */
export const EXTENSION_ID = 'kemaioonbimlohicmddpaimgpopepipf';

/** The origin Chromium passes to the native host as its first argument, and that the host manifest allows. */
export const EXTENSION_ORIGIN = `chrome-extension://${EXTENSION_ID}/`;

/** The native messaging host's name (letters, digits, dots, underscores: Chromium's rule). */
export const HOST_NAME = 'dev.briefcase.host';

export function extensionIdFromKey(base64Spki: string): string {
  const hex = createHash('sha256').update(Buffer.from(base64Spki, 'base64')).digest('hex').slice(0, 32);
  return [...hex].map((c) => String.fromCharCode(97 + Number.parseInt(c, 16))).join('');
}
