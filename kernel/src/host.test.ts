import { describe, expect, it } from "vitest";
import { Host } from "./host.js";
import { KernelTokens, Tokens } from "./tokens.js";
import { VirtualClock } from "./clock/virtual-clock.js";

describe("Host", () => {
  it("wires its services through its own container", async () => {
    const host = new Host({ name: "esx-test", memoryBytes: 16 << 20 });
    expect(host.container.resolve(Tokens.Clock)).toBeInstanceOf(VirtualClock);
    expect(host.container.resolve(KernelTokens.PciBus)).toBe(host.pci);
    const other = new Host({ name: "other" });
    expect(other.pci === host.pci).toBe(false);
    await host.boot();
    expect(host.management.hostInfo()).toMatchObject({ name: "esx-test", state: "running", kernelApi: "1.0.0" });
    expect(host.log.entries().map((e) => e.message).join("\n")).toContain("booting host esx-test");
  });

  it("keeps internal tokens out of the public container", () => {
    const host = new Host();
    expect(host.publicContainer.isRegistered(KernelTokens.PciBus, true)).toBe(false);
    expect(host.publicContainer.isRegistered(Tokens.Clock, true)).toBe(true);
  });
});
