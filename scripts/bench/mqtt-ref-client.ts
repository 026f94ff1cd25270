/**
 * A plain Node MQTT 3.1.1 client on `mqtt-packet` + `net`, with no Lua and no device model: the
 * second reference of `npm run bench:net`'s MQTT rows (the reference is MQTT.js; this is the
 * same codec with the thinnest possible client around it, the wire floor) and an independent
 * subscriber for the bench and the tests (test/mqtt).
 */
import * as net from 'node:net';
import * as mqttPacket from 'mqtt-packet';

export interface RefMessage {
  topic: string;
  payload: Buffer;
  qos: number;
  retain: boolean;
}

export class RefClient {
  readonly messages: RefMessage[] = [];
  private sock!: net.Socket;
  private nextId = 1;
  private waiters = new Map<number, () => void>();
  private msgWaiters: (() => void)[] = [];

  static async connect(port: number, clientId: string, host = '127.0.0.1'): Promise<RefClient> {
    const c = new RefClient();
    await c.open(port, clientId, host);
    return c;
  }

  private async open(port: number, clientId: string, host: string): Promise<void> {
    const s = net.connect(port, host);
    s.setNoDelay(true);
    this.sock = s;
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    let onConnack: (() => void) | null = null;
    let onFail: ((e: Error) => void) | null = null;
    parser.on('packet', (p: mqttPacket.Packet) => {
      switch (p.cmd) {
        case 'connack':
          if (p.returnCode === 0) onConnack?.();
          else onFail?.(new Error(`CONNACK ${p.returnCode}`));
          return;
        case 'publish':
          this.messages.push({ topic: p.topic, payload: Buffer.from(p.payload), qos: p.qos, retain: p.retain });
          if (p.qos === 1) s.write(mqttPacket.generate({ cmd: 'puback', messageId: p.messageId }));
          if (p.qos === 2) s.write(mqttPacket.generate({ cmd: 'pubrec', messageId: p.messageId }));
          for (const w of this.msgWaiters.splice(0)) w();
          return;
        case 'pubrel':
          s.write(mqttPacket.generate({ cmd: 'pubcomp', messageId: p.messageId }));
          return;
        case 'pubrec':
          s.write(mqttPacket.generate({ cmd: 'pubrel', messageId: p.messageId }));
          return;
        case 'puback':
        case 'pubcomp':
        case 'suback':
        case 'unsuback': {
          const w = this.waiters.get(p.messageId ?? -1);
          this.waiters.delete(p.messageId ?? -1);
          w?.();
          return;
        }
        default:
      }
    });
    s.on('data', (d) => parser.parse(d));
    s.on('error', (e) => onFail?.(e));
    await new Promise<void>((resolve, reject) => {
      onConnack = resolve;
      onFail = reject;
      s.once('connect', () => s.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId, clean: true, keepalive: 60 })));
    });
  }

  private id(): number {
    const id = this.nextId;
    this.nextId = id >= 65535 ? 1 : id + 1;
    return id;
  }

  subscribe(topic: string, qos: 0 | 1 | 2 = 1): Promise<void> {
    const id = this.id();
    return new Promise((r) => {
      this.waiters.set(id, r);
      this.sock.write(mqttPacket.generate({ cmd: 'subscribe', messageId: id, subscriptions: [{ topic, qos }] }));
    });
  }

  /** QoS 0: resolves at once (returns the write's backpressure flag); QoS 1/2: on PUBACK/PUBCOMP */
  publish(topic: string, payload: Buffer | string, qos: 0 | 1 | 2 = 0): Promise<void> | boolean {
    const p: mqttPacket.IPublishPacket = { cmd: 'publish', topic, payload, qos, retain: false, dup: false };
    if (qos === 0) return this.sock.write(mqttPacket.generate(p));
    const id = this.id();
    p.messageId = id;
    return new Promise((r) => {
      this.waiters.set(id, r);
      this.sock.write(mqttPacket.generate(p));
    });
  }

  /** wait until `n` messages arrived (or `ms` passed); resolves with whether they did */
  async waitMessages(n: number, ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    while (this.messages.length < n) {
      const left = end - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.msgWaiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return true;
  }

  drain(): Promise<void> {
    return new Promise((r) => (this.sock.writableLength === 0 ? r() : this.sock.once('drain', () => r())));
  }

  close(): void {
    if (!this.sock.destroyed) this.sock.end(mqttPacket.generate({ cmd: 'disconnect' }));
    this.sock.destroy();
  }
}
