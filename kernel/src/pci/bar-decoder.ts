import type { AddressSpace, IoRegion } from "../io/address-space.js";
import type { BarSpec } from "./config-space.js";
import type { PciDeviceModel } from "./pci-device-model.js";

/** The board a function sits on, as its BAR decoding needs it. */
export interface BarDecodingBoard {
  /** The address space a BAR of this kind decodes into. */
  space(kind: BarSpec["kind"]): AddressSpace;
  /** Whether the board routes this window to the bus at all (a window hidden by RAM is not). */
  reachable?(bar: BarSpec, base: number): boolean;
  /** A BAR could not be decoded (it overlaps another window): the board records why. */
  decodeFailed(bar: BarSpec, base: number, reason: string): void;
}

/**
 * Keeps a PCI function's BAR windows in step with its configuration space: a BAR decodes while its
 * kind's enable bit is set in the command register and it has an address, and it follows moves. The
 * host's bus and a guest's bus share this and differ only in their board rules.
 */
export class BarDecoder {
  private readonly decoded = new Map<number, IoRegion>();

  constructor(
    private readonly name: string,
    private readonly model: PciDeviceModel,
    private readonly board: BarDecodingBoard,
  ) {}

  /** The BAR windows decoded right now, by BAR index. */
  regions(): ReadonlyMap<number, IoRegion> {
    return this.decoded;
  }

  /** Re-evaluates every BAR after a configuration write (command bits, BAR addresses). */
  update(): void {
    const config = this.model.config;
    for (const bar of config.bars) {
      if (!bar) continue;
      const enabled = bar.kind === "io" ? config.ioSpaceEnabled : config.memorySpaceEnabled;
      const base = config.barAddress(bar.index);
      const wanted = enabled && base !== 0 && (this.board.reachable?.(bar, base) ?? true);
      const current = this.decoded.get(bar.index);
      if (current && (!wanted || current.base !== base)) {
        this.board.space(bar.kind).unmap(current);
        this.decoded.delete(bar.index);
      }
      if (wanted && !this.decoded.has(bar.index)) this.decode(bar, base);
    }
  }

  /** Drops every window (the function is unplugged). */
  release(): void {
    for (const [index, region] of this.decoded) this.board.space(this.model.config.bars[index]!.kind).unmap(region);
    this.decoded.clear();
  }

  private decode(bar: BarSpec, base: number): void {
    const index = bar.index;
    const model = this.model;
    try {
      const region = this.board.space(bar.kind).map(
        `${this.name} BAR${index}`,
        base,
        bar.size,
        { read: (offset, width) => model.barRead(index, offset, width), write: (offset, width, value) => model.barWrite(index, offset, width, value) },
        { widths: model.barAccessWidths?.(index), owner: this.name },
      );
      this.decoded.set(index, region);
    } catch (error) {
      this.board.decodeFailed(bar, base, (error as Error).message);
    }
  }
}
