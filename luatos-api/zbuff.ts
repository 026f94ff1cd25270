/** zbuff: placeholder until the module is implemented. */
import type { Vm } from '../runtime/vm';

export function openZbuff(_vm: Vm): void {
  /* not implemented yet */
}
