/**
 * The Wi-Fi model's fault injection points, registered on the device's fault registry:
 *   wifi down | up | password <new> [ssid]
 *   dns fail <host> | dns ok
 */
import { FaultError, FaultRegistry } from '../core/faults';
import { WifiNetwork } from './model';

export function registerNetworkFaults(model: WifiNetwork, registry: FaultRegistry): void {
  registry.register(
    {
      name: 'wifi',
      usage: 'down | up | password <new> [ssid]',
      description: 'switch the access point off/on, or change its password',
      actions: {
        down: 'switch the access point off: the device loses Wi-Fi (IP_LOSE) and keeps trying to rejoin',
        up: 'switch the access point on again: the device rejoins and gets its IP back',
        password: "change the access point's password (the joined one, or [ssid]): the device's password stops working",
      },
    },
    (args) => {
      const [what, ...rest] = args;
      if (what === 'down') return model.linkDown();
      if (what === 'up') return model.linkUp();
      if (what === 'password') {
        const pw = rest[0];
        if (pw === undefined) throw new FaultError('wifi password needs the new password');
        const ssid = rest[1] ?? model.connectedAp?.ssid ?? model.lastCredentials?.ssid;
        if (!ssid) throw new FaultError('wifi password: no access point joined yet; name the SSID');
        return model.setApPassword(ssid, pw);
      }
      throw new FaultError(`wifi: expected down | up | password <new>, got '${args.join(' ')}'`);
    },
  );
  registry.register({ name: 'dns', usage: 'fail <host> | ok', description: 'make DNS lookups of a host fail', actions: { fail: 'make DNS lookups of <host> fail from now on', ok: 'make every DNS lookup answer again' } }, (args) => {
    if (args[0] === 'fail' && args[1]) return model.failDns(args[1]);
    if (args[0] === 'ok') return model.clearDnsFailures();
    throw new FaultError(`dns: expected fail <host> | ok, got '${args.join(' ')}'`);
  });
}
