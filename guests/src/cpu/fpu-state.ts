/**
 * x87 register file. Registers are JS doubles, so the 64-bit extended mantissa is approximated
 * by 53 bits and the extended exponent range by the double's (values below 2^-1022 are this
 * model's denormals); FSAVE/FXSAVE images carry an 80-bit encoding converted from the double.
 * Rounding control and precision control apply as fpu-rounding.ts describes.
 */
export const enum FpuStatus {
  IE = 1 << 0, DE = 1 << 1, ZE = 1 << 2, OE = 1 << 3, UE = 1 << 4, PE = 1 << 5, SF = 1 << 6, ES = 1 << 7,
  C0 = 1 << 8, C1 = 1 << 9, C2 = 1 << 10, TOP = 7 << 11, C3 = 1 << 14, B = 1 << 15,
  CONDITION = C0 | C1 | C2 | C3,
}

export class FpuState {
  /** Physical registers R0..R7; ST(i) is R[(top + i) & 7]. */
  readonly st = new Float64Array(8);
  /** 1 where the physical register is empty. */
  readonly empty = new Uint8Array(8).fill(1);
  controlWord = 0x37f;
  /** Status word without the TOP field (kept in `top`). */
  statusWord = 0;
  top = 0;
  lastIp = 0;
  lastCs = 0;
  lastOpcode = 0;
  lastDataPointer = 0;
  lastDataSelector = 0;
  /** The FERR# output pin: follows ES while CR0.NE = 0 (see updateFerr in fpu-stack.ts). */
  ferr = false;
  /** The board's side of FERR#: a PC latches it onto IRQ13 (cleared by a write to port 0xF0). */
  onFerrChange: ((asserted: boolean) => void) | null = null;

  reset(): void {
    this.st.fill(0);
    this.empty.fill(1);
    this.controlWord = 0x37f;
    this.statusWord = 0;
    this.top = 0;
    this.lastIp = 0; this.lastCs = 0; this.lastOpcode = 0; this.lastDataPointer = 0; this.lastDataSelector = 0;
    // ES is clear now, so FERR# drops (FNINIT, FNSAVE and processor reset alike).
    if (this.ferr) {
      this.ferr = false;
      this.onFerrChange?.(false);
    }
  }

  /** The architectural status word (TOP included). */
  get status(): number {
    return (this.statusWord & ~FpuStatus.TOP) | (this.top << 11);
  }

  set status(value: number) {
    this.statusWord = value & ~FpuStatus.TOP & 0xffff;
    this.top = (value >> 11) & 7;
  }

  /** Full tag word: 00 valid, 01 zero, 10 special (NaN, infinity, denormal), 11 empty. */
  get tagWord(): number {
    let tags = 0;
    for (let r = 0; r < 8; r++) {
      let tag: number;
      const v = this.st[r];
      if (this.empty[r]) tag = 3;
      else if (v === 0) tag = 1;
      else if (!Number.isFinite(v) || Math.abs(v) < 2.2250738585072014e-308) tag = 2;
      else tag = 0;
      tags |= tag << (2 * r);
    }
    return tags;
  }

  set tagWord(value: number) {
    for (let r = 0; r < 8; r++) this.empty[r] = ((value >> (2 * r)) & 3) === 3 ? 1 : 0;
  }
}
