/**
 * Putting a device together: the core's Device (runtime/core/device.ts) knows neither the
 * network nor the LuatOS modules; this is where they meet. `createDevice` gives it the network
 * (the profile's Wi-Fi model unless one is passed), the network's fault points, the LuatOS
 * API (luatos-api `installApi`) to open at every boot and its catalog for --coverage
 * (luatos-api/catalog.ts). `createBoardDevice` does the same for a board preset: the board's
 * network model for the profile and the network flags, then the board's own setup (the one
 * path the CLI's device worker and the scenario runner share).
 */
import { Device, type DeviceOptions } from '../core/device';
import { makeProfile } from '../core/profile';
import { installApi } from '../../luatos-api';
import { API_CATALOG } from '../../luatos-api/catalog';
import type { DeviceNetwork } from '../net/types';
import { createNetworkFromOptions } from '../net/options';
import { WifiNetwork } from '../net/model';
import { registerNetworkFaults } from './wifi-faults';
import type { NetworkCliOptions } from '../net/options';
import type { DeviceProfile } from '../core/profile';
import type { Board } from './board';
import { boardNetwork, setupBoard } from './index';

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

export interface CreateBoardDeviceOptions extends Omit<CreateDeviceOptions, 'network' | 'profile'> {
  /** the profile, built for this board (`boardProfile`) */
  profile: DeviceProfile;
  /** the network flags (--wifi, --map, ...) for the board's network model */
  net?: NetworkCliOptions;
}

/**
 * A device on a board: the board's network model for `profile` and `net` (the board checks the
 * profile first: its error names the board), then the board's setup on the new device.
 */
export function createBoardDevice(board: Board, opts: CreateBoardDeviceOptions): Device {
  const { net, ...rest } = opts;
  const device = createDevice({ ...rest, network: boardNetwork(board, rest.profile, net) });
  setupBoard(board, device);
  return device;
}
