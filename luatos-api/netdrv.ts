/** netdrv: placeholder until the module is implemented. */
import type { Vm } from '../runtime/vm';

export function openNetdrv(_vm: Vm): void {
  /* not implemented yet */
}
