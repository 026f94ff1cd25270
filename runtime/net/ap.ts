/**
 * The soft AP (`LWIP_AP`, 3), minimal: registered at every boot, ready only after
 * `wlan.createAP` (its address is the gateway given there); no clients are simulated.
 * `wlan.stopAP` closes the connections opened through it.
 */
import { NO_IP, type IpInfo } from './wifi-types';

interface ApConfig {
  ssid: string;
  password: string;
  gw: string;
  mask: string;
  channel: number;
}

export class SoftAp {
  private active: ApConfig | null = null;

  constructor(
    /** destroy the connections of the AP adapter */
    private readonly closeConnections: () => void,
    private readonly statusChanged: () => void,
  ) {}

  resetForBoot(): void {
    this.active = null;
  }

  get ready(): boolean {
    return this.active !== null;
  }

  ipInfo(): IpInfo {
    return this.active ? { ip: this.active.gw, mask: this.active.mask, gw: this.active.gw } : { ...NO_IP };
  }

  create(ssid: string, password: string, gw: string, mask: string, channel: number): void {
    this.active = { ssid, password, gw, mask, channel };
    this.statusChanged();
  }

  stop(): void {
    this.closeConnections();
    this.active = null;
    this.statusChanged();
  }
}
