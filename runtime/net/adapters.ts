/**
 * Network adapter numbering and event constants, as the firmware of the reference device log
 * numbers them (luatos-api.md §6.1).
 *
 * Era choice: the reference log (2026-01-22, Air8101 V2002 firmware) comes from the Jan/Feb 2026
 * firmware, so we use that column: no `LWIP_USB`, `ETH0 = 16`, `NW_ADAPTER_QTY = 21`
 * (HEAD firmware from July 2026 on has USB = 16, ETH0 = 17, QTY = 19).
 */

export const LWIP_GP = 1;
export const LWIP_STA = 2;
export const LWIP_AP = 3;
export const LWIP_ETH = 4;
export const LWIP_SPI = 5;
/** the UART netif (6) exists but is not exported to Lua */
export const LWIP_USER0 = 7;
export const LWIP_GP_GW = 15;
export const ETH0 = 16;
/** NW_ADAPTER_QTY of the Jan/Feb 2026 firmware */
export const ADAPTER_QTY = 21;

/** Every adapter constant the `socket` module exports, by name. */
export function adapterConstants(): Record<string, number> {
  const c: Record<string, number> = { LWIP_GP, LWIP_STA, LWIP_AP, LWIP_ETH, LWIP_SPI, LWIP_GP_GW, ETH0 };
  for (let i = 0; i < 8; i++) c[`LWIP_USER${i}`] = LWIP_USER0 + i;
  return c;
}

/** Short names for log lines and errors. */
export function adapterName(id: number): string {
  for (const [k, v] of Object.entries(adapterConstants())) if (v === id) return k;
  return `adapter ${id}`;
}

/**
 * Network event ids (luat_network_adapter.h:51): EV_NW_RESET = USER_EVENT_ID_START + 0x1000000,
 * with USER_EVENT_ID_START = 0xf1000000 (components/common/c_common.h:223, unchanged since
 * 2022), followed by STATE, TIMEOUT, DNS_RESULT, TX_OK, RX_NEW, RX_FULL, CLOSE_OK,
 * REMOTE_CLOSE, CONNECT_OK, ERROR, LISTEN, NEW_CONNECT, BREAK_WAIT, END; then the "result"
 * events EV_NW_RESULT_BASE = END + 1 plus NW_WAIT_LINK_UP(1) / ON_LINE(2) / TX_OK(3) /
 * OFF_LINE(4) / EVENT(5). The socket module exports the result events masked with 0x0fffffff:
 * LINK = 0x02000010 = 33554448 ... EVENT = 0x02000014 (luatos-api-2.md §2.1).
 */
const EV_NW_RESET_MASKED = (0xf1000000 + 0x1000000) & 0x0fffffff;
const EV_NW_END = EV_NW_RESET_MASKED + 14;
const EV_NW_RESULT_BASE = EV_NW_END + 1;
export const SOCKET_EVENTS = {
  LINK: EV_NW_RESULT_BASE + 1,
  ON_LINE: EV_NW_RESULT_BASE + 2,
  TX_OK: EV_NW_RESULT_BASE + 3,
  CLOSED: EV_NW_RESULT_BASE + 4,
  EVENT: EV_NW_RESULT_BASE + 5,
} as const;

/**
 * Wi-Fi disconnect reasons of the Beken (BK7258) SDK the Air8101 runs on: IEEE 802.11 reason
 * codes below 256, SDK-specific ones from 256. The official PC mock uses the same 257/258.
 */
export const WIFI_REASON = {
  BEACON_LOST: 256,
  NO_AP_FOUND: 257,
  WRONG_PASSWORD: 258,
  DISCONNECT_BY_APP: 259,
  DHCP_TIMEOUT: 260,
} as const;
