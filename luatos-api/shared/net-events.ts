/**
 * The bindings' side of the network model. runtime/net/ emits typed events and knows nothing of
 * Lua; this module binds the device's Wi-Fi model to each boot's VM and turns its events into
 * the firmware's topics and log lines:
 *
 *   sta-connected     WLAN_STA_INC("CONNECTED", ssid, bssid6)
 *   sta-disconnected  WLAN_STA_INC("DISCONNECTED", reason)
 *   ip-ready          IP_READY(ip, adapter)
 *   ip-lose           IP_LOSE(adapter)
 *   scan-done         WLAN_SCAN_DONE
 *   ntp-update        NTP_UPDATE(0)
 *   ntp-error         NTP_ERROR
 *   log               the device's firmware log line (`device.logRuntime`)
 *
 * Each event is handled when it is emitted, so topics and log lines keep the model's order.
 *
 * Lifetimes: the topic listener is per boot (subscribed when the first of the wlan / socket /
 * netdrv / mobile / ... bindings of a VM asks for the model, unsubscribed when that VM ends; a
 * dead VM gets nothing). The log lines are the device's, not the VM's: one forwarder per model
 * writes them to the device that last booted it, also between boots (an in-flight DNS lookup of
 * the previous boot still logs `dns all done`), as the firmware's log does. The modem's log
 * events (runtime/net/cellular.ts) are forwarded the same way; its topics are the `mobile`
 * binding's (luatos-api/mobile.ts).
 *
 * Normally the device's network (`device.net`) IS the model (`WifiNetwork`). When a device was
 * built with another `DeviceNetwork` (e.g. `DirectNetwork` in library tests), the bindings use a
 * per-device "shadow" model for the Wi-Fi state only (traffic still goes through `device.net`).
 * All of this state lives on the device (and model) objects, never in module variables.
 */
import type { Vm, VmHost } from '../../runtime/core/vm/vm';
import { modemOf } from '../../runtime/net/cellular';
import type { NetEvent, NetLogEvent } from '../../runtime/net/events';
import { WifiNetwork } from '../../runtime/net/model';
import { createNetworkFromOptions } from '../../runtime/net/options';
import type { DeviceNetwork } from '../../runtime/net/types';

// The device carries its network as `device.net` (runtime/core/vm/vm.ts DeviceParts): declared
// here, where the bindings take it, so neither the core nor the network names the other.
declare module '../../runtime/core/vm/vm' {
  interface DeviceParts {
    /** the device's network: the Wi-Fi model, the modem's, or DirectNetwork */
    net: DeviceNetwork;
  }
}

const SHADOW = Symbol('luatos.wifiShadow');
/** on the device: the VM its Wi-Fi model is bound to */
const BOUND = Symbol('luatos.netBoundVm');
/** on a model or modem: the device its log lines go to */
const LOG_ROUTE = Symbol('luatos.netLogRoute');

type WithNet = VmHost & { [SHADOW]?: WifiNetwork; [BOUND]?: Vm };
type LogRoute = { device: VmHost };
type WithLogRoute = { [LOG_ROUTE]?: LogRoute };

function setHidden(o: object, key: symbol, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: false, writable: true, configurable: true });
}

/** The device's Wi-Fi model (its network, or its shadow model). */
function modelOf(d: WithNet): WifiNetwork {
  if (d.net instanceof WifiNetwork) return d.net;
  if (!d[SHADOW]) {
    let shadow: WifiNetwork;
    try {
      shadow = createNetworkFromOptions(d.profile);
    } catch {
      shadow = new WifiNetwork();
    }
    setHidden(d, SHADOW, shadow);
  }
  return d[SHADOW] as WifiNetwork;
}

/** The Wi-Fi model of the VM's device, bound to this VM (idempotent per VM). */
export function wifiOf(vm: Vm): WifiNetwork {
  const d = vm.device as WithNet;
  const m = modelOf(d);
  if (d[BOUND] !== vm) bindBoot(vm, d, m);
  return m;
}

/** A new VM: the model (and the adapters it carries) boot, its events reach this VM. */
function bindBoot(vm: Vm, d: WithNet, m: WifiNetwork): void {
  routeLogs(m, d, (fn) => m.onEvent(fn));
  const modem = modemOf(d);
  if (modem) routeLogs(modem, d, (fn) => modem.onEvent(fn));
  setHidden(d, BOUND, vm);
  const off = m.onEvent((e) => publishNetEvent(vm, e));
  const end = m.boot(d, () => vm.uptime());
  vm.onClose(() => {
    end();
    off();
    if (d[BOUND] === vm) d[BOUND] = undefined;
  });
}

/** Write a model's log events to `d` from now on (one forwarder per model, installed once). */
function routeLogs(source: object, d: VmHost, listen: (fn: (e: { type: string }) => void) => unknown): void {
  const s = source as WithLogRoute;
  const route = s[LOG_ROUTE];
  if (route) {
    route.device = d;
    return;
  }
  const r: LogRoute = { device: d };
  setHidden(s, LOG_ROUTE, r);
  listen((e) => {
    if (e.type !== 'log') return;
    const l = e as NetLogEvent;
    r.device.logRuntime(l.level, l.module, l.text);
  });
}

/** One model event → the firmware's topic on `vm` (log events are routeLogs'). */
function publishNetEvent(vm: Vm, e: NetEvent): void {
  if (vm.isDead) return;
  switch (e.type) {
    case 'sta-connected':
      vm.publish('WLAN_STA_INC', 'CONNECTED', e.ssid, e.bssid);
      break;
    case 'sta-disconnected':
      vm.publish('WLAN_STA_INC', 'DISCONNECTED', e.reason);
      break;
    case 'ip-ready':
      vm.publish('IP_READY', e.ip, e.adapter);
      break;
    case 'ip-lose':
      vm.publish('IP_LOSE', e.adapter);
      break;
    case 'scan-done':
      vm.publish('WLAN_SCAN_DONE');
      break;
    case 'ntp-update':
      vm.publish('NTP_UPDATE', 0);
      break;
    case 'ntp-error':
      vm.publish('NTP_ERROR');
      break;
    case 'log':
      break;
  }
}
