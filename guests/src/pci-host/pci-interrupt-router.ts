/**
 * Where the host bridge's INTx wires go: the board routes each slot's INTA#..INTD# onto one of four
 * PIRQ lines, and the south bridge steers each PIRQ to an ISA IRQ on the 8259s.
 */
export interface PciInterruptRouter {
  /**
   * A function drives its interrupt pin. `source` names the function ("0000:00:03.0"); several
   * functions may share a PIRQ, which is a wired-OR of all of them.
   */
  setIntx(source: string, device: number, pin: number, asserted: boolean): void;
}

/**
 * The i440FX board's slot swizzle, as QEMU's piix and SeaBIOS's routing tables have it: device d's
 * INTx# (pin 1..4) lands on PIRQ (d - 1 + pin - 1) mod 4, so slot 1 INTA# is PIRQA and slot 3 INTA#
 * is PIRQC. Firmware tables ($PIR, ACPI _PRT) written for this board assume exactly this wiring.
 */
export function i440fxPirqForSlot(device: number, pin: number): number {
  if (!(pin >= 1 && pin <= 4)) throw new RangeError(`interrupt pin ${pin} is not INTA#..INTD#`);
  return (device - 1 + pin - 1) & 3;
}
