/**
 * True when the JSON text nests arrays and objects deeper than `max`. A single iterative pass
 * over the text, without parsing it: hostile nesting (a few MB of `[`) is refused before any
 * recursive code (JSON.stringify, schema validators) could overflow its stack on it. Brackets
 * inside strings do not count; the text need not be valid JSON (the parser says what is wrong).
 */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}
