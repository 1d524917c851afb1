/**
 * x87 register file. Registers are JS doubles, so extended precision (64-bit mantissa) is
 * approximated by 53 bits; FSAVE images carry an 80-bit encoding derived from the double.
 */
export class FpuState {
  readonly st = new Float64Array(8);
  controlWord = 0x37f;
  statusWord = 0;
  /** Two bits per physical register: 0 valid, 1 zero, 2 special, 3 empty. */
  tagWord = 0xffff;
  top = 0;
  lastIp = 0;
  lastCs = 0;
  lastOpcode = 0;
  lastDataPointer = 0;
  lastDataSelector = 0;

  reset(): void {
    this.st.fill(0);
    this.controlWord = 0x37f;
    this.statusWord = 0;
    this.tagWord = 0xffff;
    this.top = 0;
    this.lastIp = 0; this.lastCs = 0; this.lastOpcode = 0; this.lastDataPointer = 0; this.lastDataSelector = 0;
  }
}
