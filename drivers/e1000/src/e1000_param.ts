/**
 * Tunables (Linux's e1000_param.c). Linux takes them as module parameters; vmk has no parameter
 * channel for modules yet, so each value is its default, range-checked and logged exactly as a
 * parameter would be, ready for a channel to feed `e1000_options`.
 */
import { dev_info, type pci_dev } from "@vmk/vmklinux";
import type { e1000_adapter } from "./e1000.js";

interface e1000_range_option {
  readonly name: string;
  readonly err: string;
  readonly def: number;
  readonly min: number;
  readonly max: number;
}

export const TX_DESCRIPTORS: e1000_range_option = { name: "Transmit Descriptors", err: "using default of 256", def: 256, min: 80, max: 4096 };
export const RX_DESCRIPTORS: e1000_range_option = { name: "Receive Descriptors", err: "using default of 256", def: 256, min: 80, max: 4096 };
export const TX_INT_DELAY: e1000_range_option = { name: "Transmit Interrupt Delay", err: "using default of 8", def: 8, min: 0, max: 0xffff };
export const TX_ABS_INT_DELAY: e1000_range_option = { name: "Transmit Absolute Interrupt Delay", err: "using default of 32", def: 32, min: 0, max: 0xffff };
export const RX_INT_DELAY: e1000_range_option = { name: "Receive Interrupt Delay", err: "using default of 0", def: 0, min: 0, max: 0xffff };
export const RX_ABS_INT_DELAY: e1000_range_option = { name: "Receive Absolute Interrupt Delay", err: "using default of 8", def: 8, min: 0, max: 0xffff };
export const INTERRUPT_THROTTLE_RATE: e1000_range_option = { name: "Interrupt Throttling Rate (ints/sec)", err: "using default of 8000", def: 8000, min: 100, max: 100000 };

/** Values given for this load; an absent one takes its default. */
export interface e1000_options {
  TxDescriptors?: number;
  RxDescriptors?: number;
  TxIntDelay?: number;
  TxAbsIntDelay?: number;
  RxIntDelay?: number;
  RxAbsIntDelay?: number;
  InterruptThrottleRate?: number;
}

function e1000_validate_option(value: number | undefined, opt: e1000_range_option, pdev: pci_dev): number {
  if (value === undefined) return opt.def;
  if (value === 0 && opt === INTERRUPT_THROTTLE_RATE) {
    dev_info(pdev.dev, "%s turned off\n", opt.name);
    return 0;
  }
  if (Number.isInteger(value) && value >= opt.min && value <= opt.max) {
    dev_info(pdev.dev, "%s set to %d\n", opt.name, value);
    return value;
  }
  dev_info(pdev.dev, "Invalid %s value specified (%d) %s\n", opt.name, value, opt.err);
  return opt.def;
}

/** Descriptor counts are rounded up to a multiple of 8 (the ring length must be a multiple of 128 bytes). */
function round_up_8(n: number): number {
  return (n + 7) & ~7;
}

export function e1000_check_options(adapter: e1000_adapter, options: e1000_options = {}): void {
  const pdev = adapter.pdev;
  adapter.tx_ring.count = round_up_8(e1000_validate_option(options.TxDescriptors, TX_DESCRIPTORS, pdev));
  adapter.rx_ring.count = round_up_8(e1000_validate_option(options.RxDescriptors, RX_DESCRIPTORS, pdev));
  adapter.tx_int_delay = e1000_validate_option(options.TxIntDelay, TX_INT_DELAY, pdev);
  adapter.tx_abs_int_delay = e1000_validate_option(options.TxAbsIntDelay, TX_ABS_INT_DELAY, pdev);
  adapter.rx_int_delay = e1000_validate_option(options.RxIntDelay, RX_INT_DELAY, pdev);
  adapter.rx_abs_int_delay = e1000_validate_option(options.RxAbsIntDelay, RX_ABS_INT_DELAY, pdev);
  adapter.itr = e1000_validate_option(options.InterruptThrottleRate, INTERRUPT_THROTTLE_RATE, pdev);
}
