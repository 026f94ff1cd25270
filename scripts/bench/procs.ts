/** Child processes of the benchmark: spawn (tracked, so none outlives us), IPC waits, stop. */
import type { ChildProcess } from 'node:child_process';
import { spawnTracked, killTree } from '../../runtime/media/ffmpeg/child-registry';
import { nowMs } from './util';

export class IpcChild {
  readonly proc: ChildProcess;
  private waiters: { ev: string; resolve: (m: any) => void }[] = [];
  private inbox: any[] = [];
  stderr = '';
  exited = false;

  constructor(entry: string, args: string[], name: string) {
    this.proc = spawnTracked(process.execPath, [entry, ...args], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], name });
    this.proc.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-20_000);
    });
    this.proc.on('error', (e) => {
      this.stderr += String(e);
    });
    this.proc.on('message', (m: any) => {
      const i = this.waiters.findIndex((w) => w.ev === m?.ev || (m?.ev === 'fail' && w.ev !== 'sync'));
      if (i >= 0) this.waiters.splice(i, 1)[0].resolve(m);
      else this.inbox.push(m);
    });
    this.proc.once('exit', () => {
      this.exited = true;
      for (const w of this.waiters.splice(0)) w.resolve({ ev: 'exit', error: `child exited (${this.proc.exitCode ?? this.proc.signalCode}): ${this.stderr.slice(-2000)}` });
    });
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  send(m: unknown): void {
    if (!this.exited && this.proc.connected) this.proc.send(m as any);
  }

  /** Next message with `ev` (or a failure/exit), or {ev:'timeout'}. */
  wait(ev: string, timeoutMs: number): Promise<any> {
    const i = this.inbox.findIndex((m) => m?.ev === ev || m?.ev === 'fail');
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0]);
    if (this.exited) return Promise.resolve({ ev: 'exit', error: `child exited: ${this.stderr.slice(-2000)}` });
    return new Promise((resolve) => {
      const w = {
        ev,
        resolve: (m: any) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        const k = this.waiters.indexOf(w);
        if (k >= 0) this.waiters.splice(k, 1);
        resolve({ ev: 'timeout', error: `no '${ev}' from the child within ${timeoutMs} ms; stderr: ${this.stderr.slice(-2000)}` });
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /**
   * Clock offset child − parent (ms), NTP style over IPC: the sample with the smallest round
   * trip wins; the error is at most half that round trip (typically < 0.1 ms here).
   */
  async syncClock(samples = 15): Promise<{ offset: number; rtt: number }> {
    let best = { offset: 0, rtt: Infinity };
    for (let i = 0; i < samples; i++) {
      const t1 = nowMs();
      this.send({ cmd: 'sync', t1 });
      const m = await this.wait('sync', 5000);
      const t3 = nowMs();
      if (m.ev !== 'sync') throw new Error(m.error ?? 'clock sync failed');
      const rtt = t3 - t1;
      if (rtt < best.rtt) best = { offset: m.t2 - (t1 + t3) / 2, rtt };
    }
    return best;
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    await killTree(this.proc, 'SIGTERM', 1000);
  }
}
