/**
 * One interrupt request wire from a device to the interrupt controller. Devices drive a level and
 * hold it until the cause is serviced; the controller decides whether it samples edges or levels.
 */
export interface IrqLine {
  setLevel(asserted: boolean): void;
}

/** A line that goes nowhere (an IRQ the board leaves unconnected, or a device tested alone). */
export const UNCONNECTED_IRQ: IrqLine = { setLevel() {} };
