import type { ByteSink } from "../byte-sink.js";
import { PortRegisterFile } from "../port-register-file.js";

export const DEBUG_CONSOLE_PORT = 0xe9;
/** Bochs and QEMU answer reads with the port number, which is how software detects the console. */
const PRESENCE_SIGNATURE = 0xe9;

/** The Bochs/QEMU "port E9 hack": every byte written goes straight to the host. */
export class DebugConsole {
  readonly ports: PortRegisterFile;

  constructor(sink: ByteSink) {
    this.ports = PortRegisterFile.fromTable([
      { name: "debug console", read: () => PRESENCE_SIGNATURE, write: (value) => sink.writeByte(value) },
    ]);
  }
}
