/**
 * What the parts of the Wi-Fi model (station, soft AP, TCP, UDP, DNS, SNTP) share: the device of
 * the current boot (its clock runs their timers), the boot generation that stops an older boot's
 * timers and async work, the typed event channel and the status signal.
 */
import type { TimerHandle } from '../core/clock';
import type { LogLevel } from '../core/log';
import { Listeners, type NetEvent, type NetHost } from './events';

export class NetScope {
  /** the device of the current (or the last) boot; null before the first */
  host: NetHost | null = null;
  /** bumped on every reboot: async work of an older boot checks it and stops */
  gen = 0;
  private readonly events = new Listeners<NetEvent>();

  constructor(
    /** something the status shows changed */
    readonly statusChanged: () => void,
  ) {}

  onEvent(fn: (e: NetEvent) => void): () => void {
    return this.events.on(fn);
  }

  get listenerCount(): number {
    return this.events.size;
  }

  emit(e: NetEvent): void {
    this.events.emit(e);
  }

  /** a firmware log line */
  log(level: LogLevel, module: string, text: string): void {
    this.emit({ type: 'log', level, module, text });
  }

  /** a timer of this boot: it does not fire once the device rebooted */
  setTimer(ms: number, fn: () => void): TimerHandle | null {
    const host = this.host;
    if (!host) return null;
    const gen = this.gen;
    return host.clock.setTimer(ms, () => {
      if (gen === this.gen) fn();
    });
  }

  clearTimer(h: TimerHandle | null): void {
    if (h && this.host) this.host.clock.clearTimer(h);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (!this.host) return resolve();
      this.host.clock.setTimer(ms, resolve);
    });
  }
}
