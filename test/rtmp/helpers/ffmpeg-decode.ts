/** Decode a recording with ffmpeg's showinfo filter and parse stderr (no ffprobe in this checkout). */
import { spawn } from 'node:child_process';
import { ffmpegPath } from './h264-source';

export interface DecodeReport {
  frames: number;
  width?: number;
  height?: number;
  /** pts_time of each decoded frame, seconds */
  ptsTimes: number[];
  keyframes: number;
  /** decoder complaints (lines mentioning errors / missing references) */
  errors: string[];
  exitCode: number | null;
  stderr: string;
}

export function decodeWithFfmpeg(file: string, timeoutMs = 60_000): Promise<DecodeReport> {
  return new Promise((resolve, reject) => {
    const p = spawn(ffmpegPath(), ['-hide_banner', '-nostdin', '-i', file, '-vf', 'showinfo', '-f', 'null', '-'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    p.on('close', (code) => {
      clearTimeout(timer);
      const ptsTimes: number[] = [];
      let width: number | undefined;
      let height: number | undefined;
      let keyframes = 0;
      const errors: string[] = [];
      for (const line of err.split('\n')) {
        const m = /\] n:\s*(\d+) .*pts_time:([-0-9.e]+).* s:(\d+)x(\d+).* iskey:(\d)/.exec(line);
        if (m) {
          ptsTimes.push(Number(m[2]));
          width = Number(m[3]);
          height = Number(m[4]);
          if (m[5] === '1') keyframes++;
          continue;
        }
        if (/error|non-existing|missing|corrupt|concealing|invalid|decode_slice/i.test(line) && !/^\s*Input #/.test(line)) {
          errors.push(line.trim());
        }
      }
      resolve({ frames: ptsTimes.length, width, height, ptsTimes, keyframes, errors, exitCode: code, stderr: err });
    });
  });
}
