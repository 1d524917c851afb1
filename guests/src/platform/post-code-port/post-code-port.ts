import { PortRegisterFile } from "../port-register-file.js";

export const POST_CODE_PORT = 0x80;

/**
 * The POST diagnostic port. Firmware writes progress codes here and Linux writes it as an I/O delay
 * (`outb_p`), thousands of times, so it is claimed rather than left to the unclaimed-port fault record.
 * Reads float high, as on a board without a POST card reading back.
 */
export class PostCodePort {
  readonly ports: PortRegisterFile;
  /** The last code written, for diagnostics. */
  lastCode: number | undefined;
  /** Sees every code written (a POST card's display; `vmk run --post-codes`). */
  onCode: ((code: number) => void) | undefined;

  constructor() {
    this.ports = PortRegisterFile.fromTable([
      {
        name: "POST code",
        write: (value) => {
          this.lastCode = value;
          this.onCode?.(value);
        },
      },
    ]);
  }
}
