/**
 * Finding an ffmpeg binary.
 *
 * Order (first that exists and is executable wins):
 *   1. the `LUATOS_FFMPEG` environment variable, or an explicit path (the device profile's);
 *   2. the `ffmpeg-static` package (optional dependency: its install downloads a binary,
 *      which fails without internet, so it is often absent);
 *   3. the `@ffmpeg-installer/ffmpeg` package (the binary ships inside the npm package);
 *   4. `ffmpeg` on PATH.
 * When none is found, the error names all four places.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface FfmpegLocation {
  path: string;
  /** which of the four sources it came from */
  source: 'env' | 'profile' | 'ffmpeg-static' | '@ffmpeg-installer/ffmpeg' | 'PATH';
}

export class FfmpegNotFoundError extends Error {
  constructor(tried: string[]) {
    super(
      'ffmpeg not found. Tried, in order: ' +
        tried.join('; ') +
        '. Install one: set LUATOS_FFMPEG=/path/to/ffmpeg, `npm install ffmpeg-static` (needs internet), ' +
        '`npm install @ffmpeg-installer/ffmpeg`, or put ffmpeg on PATH (e.g. `apt-get install ffmpeg`).',
    );
    this.name = 'FfmpegNotFoundError';
  }
}

function isExecutable(p: string): boolean {
  try {
    const st = fs.statSync(p);
    if (!st.isFile()) return false;
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function fromPackage(name: string): string | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(name);
    const p: unknown = typeof mod === 'string' ? mod : mod && (mod.path ?? mod.default);
    return typeof p === 'string' ? p : undefined;
  } catch {
    return undefined;
  }
}

function onPath(exe: string, envPath = process.env.PATH ?? ''): string | undefined {
  const exts = process.platform === 'win32' ? ['.exe', '.cmd', ''] : [''];
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const p = path.join(dir, exe + ext);
      if (isExecutable(p)) return p;
    }
  }
  return undefined;
}

export interface LocateOptions {
  /** explicit path from the device profile */
  profilePath?: string;
  /** environment to read LUATOS_FFMPEG and PATH from (default process.env) */
  env?: NodeJS.ProcessEnv;
  /** skip the npm packages (tests use this to simulate "no ffmpeg anywhere") */
  skipPackages?: boolean;
}

/** Locate ffmpeg; throws FfmpegNotFoundError naming every place tried. */
export function locateFfmpeg(opts: LocateOptions = {}): FfmpegLocation {
  const env = opts.env ?? process.env;
  const tried: string[] = [];
  const envPath = env.LUATOS_FFMPEG;
  if (envPath) {
    if (isExecutable(envPath)) return { path: envPath, source: 'env' };
    tried.push(`LUATOS_FFMPEG=${envPath} (not an executable file)`);
  } else {
    tried.push('LUATOS_FFMPEG (not set)');
  }
  if (opts.profilePath) {
    if (isExecutable(opts.profilePath)) return { path: opts.profilePath, source: 'profile' };
    tried.push(`profile ffmpeg path ${opts.profilePath} (not an executable file)`);
  }
  if (!opts.skipPackages) {
    const s = fromPackage('ffmpeg-static');
    if (s && isExecutable(s)) return { path: s, source: 'ffmpeg-static' };
    tried.push(s ? `ffmpeg-static (${s} missing: its download probably failed)` : 'ffmpeg-static (not installed)');
    const i = fromPackage('@ffmpeg-installer/ffmpeg');
    if (i && isExecutable(i)) return { path: i, source: '@ffmpeg-installer/ffmpeg' };
    tried.push(i ? `@ffmpeg-installer/ffmpeg (${i} not executable)` : '@ffmpeg-installer/ffmpeg (not installed)');
  } else {
    tried.push('ffmpeg-static (skipped)', '@ffmpeg-installer/ffmpeg (skipped)');
  }
  const p = onPath('ffmpeg', env.PATH ?? '');
  if (p) return { path: p, source: 'PATH' };
  tried.push('ffmpeg on PATH (not found)');
  throw new FfmpegNotFoundError(tried);
}

/** ffprobe is optional (only tests use it): on PATH or next to the located ffmpeg. */
export function locateFfprobe(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.LUATOS_FFPROBE && isExecutable(env.LUATOS_FFPROBE)) return env.LUATOS_FFPROBE;
  return onPath('ffprobe', env.PATH ?? '');
}
