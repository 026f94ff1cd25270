/**
 * Serving the console page's files: only regular files inside the static folder, only known
 * file types, never anything reached through `..`, an encoded `%2e%2e`/`%2f`/`%5c`, a
 * backslash, a NUL byte, an absolute path or a symlink that leads outside the folder.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/** The page's folder: `runtime/host/web/static` next to the sources (also when running from dist/). */
export function defaultStaticDir(): string {
  const candidates = [
    path.resolve(__dirname, 'static'), // running the .ts sources directly
    path.resolve(__dirname, '..', '..', '..', '..', 'runtime', 'host', 'web', 'static'), // path: dist/runtime/host/web -> runtime/host/web/static
  ];
  for (const c of candidates) if (fs.existsSync(path.join(c, 'index.html'))) return c;
  return candidates[1];
}

export type ResolveResult = { ok: true; file: string; type: string } | { ok: false; status: 400 | 404 };

/**
 * Map a request path (the part of the URL before `?`, still percent-encoded) to a file in `root`.
 * `/` is `index.html`.
 */
export function resolveStatic(root: string, urlPath: string): ResolveResult {
  if (!urlPath.startsWith('/')) return { ok: false, status: 400 };
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return { ok: false, status: 400 };
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return { ok: false, status: 400 };
  const segments = decoded.split('/').slice(1);
  // no empty segments inside (`//etc`), no dot segments, no drive letters: a plain relative path
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i];
    if (s === '.' || s === '..') return { ok: false, status: 404 };
    if (s === '' && i !== segments.length - 1) return { ok: false, status: 404 };
    if (s.includes(':')) return { ok: false, status: 404 };
  }
  let rel = segments.join('/');
  if (rel === '' || rel.endsWith('/')) rel += 'index.html';
  const type = CONTENT_TYPES[path.extname(rel).toLowerCase()];
  if (!type) return { ok: false, status: 404 };
  const rootReal = safeRealpath(root);
  if (!rootReal) return { ok: false, status: 404 };
  const candidate = path.resolve(rootReal, rel);
  if (!isInside(rootReal, candidate)) return { ok: false, status: 404 };
  const real = safeRealpath(candidate);
  if (!real || !isInside(rootReal, real)) return { ok: false, status: 404 };
  let st: fs.Stats;
  try {
    st = fs.statSync(real);
  } catch {
    return { ok: false, status: 404 };
  }
  if (!st.isFile()) return { ok: false, status: 404 };
  return { ok: true, file: real, type };
}

function safeRealpath(p: string): string | null {
  try {
    return fs.realpathSync(p);
  } catch {
    return null;
  }
}

function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel !== '' && rel.split(path.sep)[0] !== '..' && !path.isAbsolute(rel);
}
