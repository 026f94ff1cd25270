/** Fault injection points of the cellular modem (runtime/net/cellular.ts), registered on the device's fault registry. */
import { FaultError, FaultRegistry } from '../core/faults';
import type { CellularModem } from '../net/cellular';

/**
 * The modem's fault injection points:
 *   sim remove | insert;  signal none | weak | good;  network detach | attach;  flightmode on | off
 */
export function registerModemFaults(modem: CellularModem, registry: FaultRegistry): void {
  const two = (name: string, a: string, b: string, fa: () => void, fb: () => void) => (args: string[]) => {
    if (args.length === 1 && args[0] === a) return fa();
    if (args.length === 1 && args[0] === b) return fb();
    throw new FaultError(`${name}: expected ${a} | ${b}, got '${args.join(' ')}'`);
  };
  registry.register(
    {
      name: 'sim',
      usage: 'remove | insert',
      description: 'pull the SIM card out or put it back',
      actions: {
        remove: 'pull the SIM card out: SIM_IND NORDY, the device loses its IP (IP_LOSE)',
        insert: 'put the SIM card back: SIM_IND RDY, the device registers and gets its IP again',
      },
    },
    two('sim', 'remove', 'insert', () => modem.removeSim(), () => modem.insertSim()),
  );
  registry.register(
    {
      name: 'signal',
      usage: 'none | weak | good',
      description: 'the radio signal at the device',
      actions: {
        none: 'no coverage: csq 0, the device loses its registration and IP (IP_LOSE)',
        weak: 'weak signal: csq 8, rsrp -116 (registration takes twice as long)',
        good: 'good signal: the device registers again if it had lost the network',
      },
    },
    (args) => {
      const v = args[0];
      if (args.length === 1 && (v === 'none' || v === 'weak' || v === 'good')) return modem.setSignal(v);
      throw new FaultError(`signal: expected none | weak | good, got '${args.join(' ')}'`);
    },
  );
  registry.register(
    {
      name: 'network',
      usage: 'detach | attach',
      description: 'the operator detaches the device from the network or lets it attach again',
      actions: {
        detach: 'the network detaches the device: IP_LOSE, mobile.status() 0 until attach',
        attach: 'the network accepts the device again: it registers and gets its IP back',
      },
    },
    two('network', 'detach', 'attach', () => modem.detachNetwork(), () => modem.attachNetwork()),
  );
  registry.register(
    {
      name: 'flightmode',
      usage: 'on | off',
      description: "the modem's flight mode (as mobile.flymode does)",
      actions: {
        on: 'flight mode on: the radio stops, IP_LOSE',
        off: 'flight mode off: the device registers and gets its IP back',
      },
    },
    two('flightmode', 'on', 'off', () => void modem.setFlightMode(true), () => void modem.setFlightMode(false)),
  );
}
