/**
 * Host mapping rules from a platform (the local stand-in for the video platform) added to the
 * network flags: shared by `luatos run` and the scenario runner, so both send the scripts'
 * platform hosts the same way.
 */
import type { HostMapRule } from '../../net/direct';
import type { NetworkCliOptions } from '../../net/options';

/** A rule in the `--map HOST[:PORT]=ADDR[:PORT]` text form (a string stays as it is). */
export function mapRuleText(r: string | HostMapRule): string {
  if (typeof r === 'string') return r;
  return `${r.host}${r.port !== undefined ? `:${r.port}` : ''}=${r.toHost}${r.toPort !== undefined ? `:${r.toPort}` : ''}`;
}

/** `net` with `rules` after its own --map rules (a new object; `net` is not changed). */
export function withMapRules(net: NetworkCliOptions, rules: readonly (string | HostMapRule)[]): NetworkCliOptions {
  return { ...net, map: [...(net.map ?? []), ...rules.map(mapRuleText)] };
}
