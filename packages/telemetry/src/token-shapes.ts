/**
 * Credentials recognisable by their shape, redacted from text the daemon writes down that came
 * from somewhere else (a server's stderr): a server may print a token it was given or minted,
 * which the vault does not know. Value-based scrubbing (the vault's own secrets) runs first.
 */
const SHAPES: RegExp[] = [
  /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}\b/g, // GitHub tokens
  /\bgithub_pat_[A-Za-z0-9_]{30,}\b/g,
  /\bglpat-[A-Za-z0-9_-]{20,}\b/g, // GitLab
  /\bxox[abprs]-[A-Za-z0-9-]{10,}\b/g, // Slack
  /\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}\b/g, // OpenAI, Anthropic
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, // AWS access key ids
  /\bAIza[0-9A-Za-z_-]{35}\b/g, // Google API keys
  /\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}\b/g, // Stripe
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b/g, // JWTs
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g,
];
/** `Bearer x`, `Basic x`: HTTP authorization credentials. */
const SCHEME = /\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}/gi;
/** `token=x`, `"api_key": "x"`, `password x`: the value after a telling name. */
const NAMED =
  /\b(token|access_token|refresh_token|api[-_]?key|apikey|secret|password|passwd|authorization)(["']?\s*[:=]\s*["']?|\s+)(?!bearer\b|basic\b|\[redacted\])([^\s"'&,;]{6,})/gi;

export function redactTokenShapes(text: string): string {
  let out = text;
  for (const shape of SHAPES) out = out.replace(shape, '[redacted]');
  out = out.replace(SCHEME, (_m, scheme: string) => `${scheme} [redacted]`);
  return out.replace(NAMED, (_m, name: string, sep: string) => `${name}${sep}[redacted]`);
}
