// The worker side of the `children` message: the pids of the tracked child processes (and their
// watchdogs), sent again only when the list changed.
import { trackedChildren } from '../../media/ffmpeg/child-registry';

/** A function that, on each call, sends the current child pids if they differ from the last sent. */
export function childPidsReporter(send: (pids: number[]) => void): () => void {
  let lastKids = '';
  return () => {
    const pids: number[] = [];
    for (const c of trackedChildren()) {
      if (c.pid !== undefined) pids.push(c.pid);
      if (c.watchdogPid !== undefined) pids.push(c.watchdogPid);
    }
    const s = pids.join(',');
    if (s !== lastKids) {
      lastKids = s;
      send(pids);
    }
  };
}
