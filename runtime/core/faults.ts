/**
 * Fault injection through the device model. Each part of the simulated world registers the
 * faults it can produce (the Wi-Fi model: `wifi down|up|password X`; the local platform:
 * `http fail ...`, `rtmp-server kill|restart|throttle N|unthrottle`; the camera: `camera
 * unplug|plug`; the device: `reboot`). Test scenarios and the web console's buttons call them
 * by name, so a script sees exactly what it would see on a device.
 */
export type FaultHandler = (args: string[]) => void | Promise<void>;

export interface FaultInfo {
  name: string;
  /** e.g. "down | up | password <new>" */
  usage: string;
  description: string;
  /**
   * What each alternative of the usage does, by its label (the leading words: `down`,
   * `password`, `fail`; '' for a fault without arguments). The web console's buttons show it.
   */
  actions?: Record<string, string>;
}

export class FaultError extends Error {}

export class FaultRegistry {
  private readonly handlers = new Map<string, { info: FaultInfo; fn: FaultHandler }>();

  /** Register (or replace) a fault kind. Returns a function that unregisters it. */
  register(info: FaultInfo, fn: FaultHandler): () => void {
    this.handlers.set(info.name, { info, fn });
    return () => {
      if (this.handlers.get(info.name)?.fn === fn) this.handlers.delete(info.name);
    };
  }

  has(name: string): boolean {
    return this.handlers.has(name);
  }

  list(): FaultInfo[] {
    return [...this.handlers.values()].map((h) => h.info);
  }

  /** Run `name args...`, e.g. run('wifi', ['down']). Throws FaultError for unknown kinds. */
  async run(name: string, args: string[] = []): Promise<void> {
    const h = this.handlers.get(name);
    if (!h) {
      const known = [...this.handlers.keys()].join(', ') || 'none';
      throw new FaultError(`no fault '${name}' is available on this device (available: ${known})`);
    }
    await h.fn(args);
  }
}
