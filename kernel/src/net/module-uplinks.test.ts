import { describe, expect, it } from "vitest";
import { VirtualClock } from "../clock/virtual-clock.js";
import type { ExecutionDomain } from "../exec/execution-domain.js";
import { KernelLog } from "../log/kernel-log.js";
import type { UplinkRegistry } from "./uplink.js";
import { netUplinksProvider } from "./module-uplinks.js";
import { NetUplinkRegistry } from "./uplink-registry.js";
import { FakeUplink } from "./testing/fake-uplink.js";

/** A module's fault domain that records what it was charged with and dies on the first fault. */
class RecordingDomain implements ExecutionDomain {
  readonly name = "driver-x";
  alive = true;
  readonly faults: { error: unknown; activity: string }[] = [];
  fault(error: unknown, activity: string): void {
    this.faults.push({ error, activity });
    this.alive = false;
  }
}

function moduleRegistry() {
  const clock = new VirtualClock();
  const registry = new NetUplinkRegistry(clock, new KernelLog(clock));
  const domain = new RecordingDomain();
  const forModule = netUplinksProvider(registry).create({ name: domain.name, domain, onRelease: () => {} }) as UplinkRegistry;
  return { clock, registry, domain, forModule };
}

describe("uplinks registered by a module", () => {
  it("transmit through the module's fault domain: a throw is charged to it, never to the vSwitch", () => {
    const { clock, registry, domain, forModule } = moduleRegistry();
    const device = new FakeUplink("0000:00:03.0", [2, 0, 0, 0, 0, 1]);
    const handle = forModule.register(device);
    const guarded = registry.get(handle.name)!.uplink;
    clock.runUntilIdle();
    expect(device.isOpen).toBe(true);
    const frame = new Uint8Array(60);
    expect(guarded.transmit(frame)).toBe(true);
    expect(device.transmitted).toEqual([frame]);
    const bug = new Error("ndo_start_xmit bug");
    device.transmit = () => {
      throw bug;
    };
    expect(guarded.transmit(frame)).toBe(false);
    expect(domain.faults).toEqual([{ error: bug, activity: "fake 0000:00:03.0 transmit" }]);
    // A quarantined module's device is not called again.
    let calls = 0;
    device.transmit = () => ++calls > 0;
    expect(guarded.transmit(frame)).toBe(false);
    expect(calls).toBe(0);
  });
});
