/**
 * How the wlan/socket/netdrv bindings find the device's Wi-Fi model.
 *
 * Normally the device's network (`device.net`) IS the model (`WifiNetwork`). When a device was
 * built with another `DeviceNetwork` (e.g. `DirectNetwork` in library tests), the bindings use a
 * per-device "shadow" model for the Wi-Fi state only (traffic still goes through `device.net`).
 * The shadow lives on the device object itself, never in a module-level variable.
 */
import type { Device } from '../core/device';
import type { Vm } from '../core/vm/vm';
import { WifiNetwork } from './model';
import { createNetworkFromOptions } from './options';

const SHADOW = Symbol('luatos.wifiShadow');

type WithShadow = Device & { [SHADOW]?: WifiNetwork };

/** The Wi-Fi model of the VM's device, bound to this VM (idempotent per VM). */
export function wifiOf(vm: Vm): WifiNetwork {
  const d = vm.device as WithShadow;
  let m: WifiNetwork;
  if (d.net instanceof WifiNetwork) m = d.net;
  else {
    if (!d[SHADOW]) {
      let shadow: WifiNetwork;
      try {
        shadow = createNetworkFromOptions(d.profile);
      } catch {
        shadow = new WifiNetwork();
      }
      Object.defineProperty(d, SHADOW, { value: shadow, enumerable: false, writable: true });
    }
    m = d[SHADOW] as WifiNetwork;
  }
  m.attachVm(vm);
  return m;
}
