/**
 * `--board air780epm` and its variants `air780ehm`, `air780ehv`, `air780egh`: the 4G Cat.1
 * modules of the Air780E* family. What the boards bring:
 *
 * - Profile: `rtos.bsp()` = the module name ("Air780EPM", ...), `hmeta.model()` the same. Older
 *   EC618 firmware returned the chip name ("EC618", test/fixtures/logs/ec7xx.txt); the Air780E*
 *   firmware of the V2002 era reports the module name (a choice: unsure). Memory figures are
 *   choices too (the firmware facts have none for these modules).
 * - The cellular modem (runtime/net/cellular.ts) as network adapter `LWIP_GP` (1), the default
 *   adapter at every boot (`socket.dft()` → 1); `mobile.*` with `SIM_IND` / `IP_READY(ip, 1)` /
 *   `IP_LOSE(1)`. Identities (IMEI, IMSI, ICCID) from the profile (`imei`, `mobile.*`), else
 *   derived from the device name. The Wi-Fi model stays underneath as the traffic carrier; its
 *   station exists but no script of these modules joins Wi-Fi.
 * - Faults: `sim remove|insert`, `signal none|weak|good`, `network detach|attach`,
 *   `flightmode on|off` (scenario steps, the web console's buttons); the Wi-Fi model's `wifi`
 *   fault is removed (no access point to switch off), `dns fail|ok` stays.
 *
 * The variants differ in hardware this runtime does not model (EHV: audio codec, EGH: GNSS),
 * so they share everything but their names.
 */
import type { Device } from '../core/device';
import { attachModem, CellularModem, modemOptionsFromProfile, registerModemFaults } from '../net/cellular';
import { WifiNetwork } from '../net/model';
import type { Board } from './index';

function air780(module: string, what: string): Board {
  return {
    name: module.toLowerCase(),
    description: `${module} (4G Cat.1${what}): cellular adapter 1, IP_READY after SIM and registration, mobile.*, SIM/signal faults`,
    profile: {
      name: module.toLowerCase(),
      bsp: module,
      model: module,
      memory: { lua: 1048568, sys: 1048576, sysUsed: 262144, psram: 0, psramUsed: 0 },
    },
    setup(device: Device) {
      const carrier = device.net;
      if (!(carrier instanceof WifiNetwork)) throw new Error('the modem needs the default network model (no custom network)');
      const modem = new CellularModem(carrier, modemOptionsFromProfile(device.profile));
      carrier.addAdapter(modem, { makeDefault: true });
      attachModem(device, modem);
      registerModemFaults(modem, device.faults);
      // no Wi-Fi station on these modules: drop the Wi-Fi model's `wifi` fault (and its console
      // buttons); registering a kind replaces it and its returned function unregisters it
      device.faults.register({ name: 'wifi', usage: '', description: '' }, () => undefined)();
    },
  };
}

export const AIR780EPM_BOARD = air780('Air780EPM', '');
export const AIR780EHM_BOARD = air780('Air780EHM', '');
export const AIR780EHV_BOARD = air780('Air780EHV', ', audio codec not modelled');
export const AIR780EGH_BOARD = air780('Air780EGH', ', GNSS not modelled');
