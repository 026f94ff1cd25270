/**
 * `--board air8101` (the default): the Air8101 as the reference device log shows it — the
 * profile defaults of runtime/core/profile.ts (`AIR8101_PROFILE`), the Wi-Fi model with the station
 * (adapter 2) and soft AP (3), VM exits reboot after 15 s, and no `os.exit` (the device has
 * none: a script calling it crashes as on the device).
 */
import type { Board } from './index';

export const AIR8101_BOARD: Board = {
  name: 'air8101',
  description: 'Air8101 (Wi-Fi): Wi-Fi station adapter 2, reboots on VM exit, no os.exit',
  profile: {},
};
