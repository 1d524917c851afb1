import { PortRegisterFile } from "../port-register-file.js";

export const DEBUG_EXIT_PORT = 0xf4;

/**
 * QEMU's isa-debug-exit device: a write of `v` ends the VM with exit status `(v << 1) | 1`, so a
 * guest's status can never be mistaken for a clean 0 from the VMM itself. Reads return 0.
 */
export class IsaDebugExit {
  readonly ports: PortRegisterFile;

  constructor(onExit: (exitCode: number) => void) {
    this.ports = PortRegisterFile.fromTable([
      { name: "debug exit", read: () => 0, write: (value) => onExit(((value << 1) | 1) >>> 0) },
    ]);
  }
}
