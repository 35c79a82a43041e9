/**
 * The secret JSON-escaped three ways a server might: with `\/` (PHP's json_encode), with a mix
 * of literal characters and `\u00XX` escapes in either hex case, and that mix double-escaped
 * (JSON text inside a JSON string).
 */
export function escapedForms(secret: string): { jsonSlash: string; mixed: string; doubled: string } {
  const jsonSlash = JSON.stringify(secret).slice(1, -1).replace(/\//g, '\\/');
  const mixed = Array.from(secret, (ch, i) => {
    if (i % 3 === 2) return JSON.stringify(ch).slice(1, -1).replace('/', '\\/');
    const hex = ch.charCodeAt(0).toString(16).padStart(4, '0');
    return `\\u${i % 3 === 0 ? hex.toUpperCase() : hex}`;
  }).join('');
  return { jsonSlash, mixed, doubled: JSON.stringify(mixed).slice(1, -1) };
}
