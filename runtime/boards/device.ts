/**
 * Putting a device together: the core's Device (runtime/core/device.ts) knows neither the
 * network nor the LuatOS modules; this is where they meet. `createDevice` gives it the network
 * (the profile's Wi-Fi model unless one is passed), the network's fault points, the LuatOS
 * API (luatos-api `installApi`) to open at every boot and its catalog for --coverage
 * (luatos-api/catalog.ts).
 */
import { Device, type DeviceOptions } from '../core/device';
import { makeProfile } from '../core/profile';
import { installApi } from '../../luatos-api';
import { API_CATALOG } from '../../luatos-api/catalog';
import type { DeviceNetwork } from '../net/types';
import { createNetworkFromOptions } from '../net/options';
import { WifiNetwork } from '../net/model';
import { registerNetworkFaults } from './wifi-faults';

export interface CreateDeviceOptions extends Omit<DeviceOptions, 'parts' | 'install'> {
  /** the network the device uses (default: the profile's Wi-Fi model) */
  network?: DeviceNetwork;
}

export function createDevice(opts: CreateDeviceOptions): Device {
  const { network, ...rest } = opts;
  const profile = rest.profile ?? makeProfile();
  const device = new Device({ apiCatalog: API_CATALOG, ...rest, profile, parts: { net: network ?? createNetworkFromOptions(profile) }, install: [installApi] });
  if (device.net instanceof WifiNetwork) registerNetworkFaults(device.net, device.faults);
  return device;
}
