import { readFile, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';
import { sendHtml } from './http.ts';

/** Where `npm run build -w @briefcase/console` (run by the root postinstall) puts the page. */
export const DEFAULT_DIST = resolve(import.meta.dirname, '../web/dist');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Console not built</title></head>
<body><main><h1>The console page is not built</h1>
<p>Run <code>npm run build -w @briefcase/console</code> in the Briefcase checkout (npm install
runs it for you), then reload this page.</p></main></body></html>
`;

const NOT_FOUND = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Not found</title></head>
<body><main><h1>Not found</h1><p><a href="/">Back to the console</a></p></main></body></html>
`;

/**
 * The raw request path (before any URL normalisation) is decoded and checked segment by segment:
 * no `..`, no backslash, no NUL, no dot-files; the resolved file must lie inside `root`.
 */
export function resolveStatic(root: string, rawPath: string): string | undefined {
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    return undefined;
  }
  if (path === '/' || path === '') path = '/index.html';
  if (path.includes('\0') || path.includes('\\')) return undefined;
  const segments = path.split('/').slice(1);
  if (segments.some((s) => s === '' || s === '.' || s === '..' || s.startsWith('.'))) return undefined;
  const file = resolve(root, ...segments);
  return file.startsWith(root + sep) ? file : undefined;
}

export async function serveStatic(res: ServerResponse, root: string, rawPath: string, head: boolean): Promise<void> {
  try {
    await stat(resolve(root, 'index.html'));
  } catch {
    sendHtml(res, 503, NOT_BUILT);
    return;
  }
  const file = resolveStatic(root, rawPath);
  const type = file ? TYPES[extname(file)] : undefined;
  let body: Buffer | undefined;
  if (file && type) {
    try {
      body = await readFile(file);
    } catch {
      body = undefined;
    }
  }
  if (!body || !type) {
    sendHtml(res, 404, NOT_FOUND);
    return;
  }
  // Vite names assets by content hash, so they may be cached; index.html must not be.
  const immutable = rawPath.startsWith('/assets/');
  res.writeHead(200, {
    'content-type': type,
    'content-length': body.length,
    'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-store',
  });
  res.end(head ? undefined : body);
}
