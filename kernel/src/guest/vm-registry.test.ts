import { container } from "tsyringe";
import { describe, expect, it } from "vitest";
import { VirtualClock } from "../clock/virtual-clock.js";
import { KernelLog } from "../log/kernel-log.js";
import { NetworkStack } from "../net/network-stack.js";
import { KernelTokens, Tokens } from "../tokens.js";
import type { VmEvent } from "./virtual-machine.js";
import { parseVmConfig, type VmConfig } from "./vm-config.js";
import { VmRegistry } from "./vm-registry.js";
import type { VmConsoleLine, Vmm, VmRuntime, VmRuntimeEvent, VmRuntimePowerState, VmRuntimeServices, VmRuntimeStats } from "./vmm.js";

/**
 * A monitor whose "guest" is a script on the clock: it prints its name on COM1 a millisecond after
 * power-on and exits with the status the VM's memsize gives, so the registry's bookkeeping is tested
 * without any guest code (the kernel never imports it).
 */
class ScriptedVmm implements Vmm {
  readonly name = "scripted";
  readonly runtimes: ScriptedRuntime[] = [];
  createRuntime(config: VmConfig, services: VmRuntimeServices): ScriptedRuntime {
    const runtime = new ScriptedRuntime(config, services);
    this.runtimes.push(runtime);
    return runtime;
  }
}

class ScriptedRuntime implements VmRuntime {
  powerState: VmRuntimePowerState = "poweredOff";
  exitCode: number | undefined;
  readonly output: number[] = [];
  private readonly listeners = new Set<(event: VmRuntimeEvent) => void>();
  private resets = 0;
  constructor(
    private readonly config: VmConfig,
    private readonly services: VmRuntimeServices,
  ) {}
  powerOn(): void {
    if (!this.config.boot.kernel) {
      this.emit({ kind: "poweredOff", time: this.services.clock.now(), reason: "error", detail: "no kernel" });
      throw new Error("no kernel");
    }
    this.powerState = "poweredOn";
    this.emit({ kind: "poweredOn", time: this.services.clock.now() });
    this.services.clock.setTimer(1_000_000, () => {
      if (this.powerState !== "poweredOn") return;
      for (const ch of this.config.displayName) this.output.push(ch.charCodeAt(0));
      this.stop("guest-exit", this.config.memoryBytes >> 20);
    });
  }
  powerOff(): void {
    this.stop("requested");
  }
  reset(): void {
    this.resets++;
    this.emit({ kind: "reset", time: this.services.clock.now(), cause: "requested" });
  }
  serial(index: number): VmConsoleLine | undefined {
    if (index !== 0) return undefined;
    return { send: () => {}, onOutput: () => () => {}, scrollback: () => Uint8Array.from(this.output) };
  }
  stats(): VmRuntimeStats {
    return { instructions: 0, guestTimeNs: 0, haltedNs: 0, stalledNs: 0, slices: 0, resets: this.resets, nics: [] };
  }
  onEvent(listener: (event: VmRuntimeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  private stop(reason: "guest-exit" | "requested", exitCode?: number): void {
    this.powerState = "poweredOff";
    if (exitCode !== undefined) this.exitCode = exitCode;
    this.emit({ kind: "poweredOff", time: this.services.clock.now(), reason, ...(exitCode !== undefined ? { exitCode } : {}) });
  }
  private emit(event: VmRuntimeEvent): void {
    for (const listener of [...this.listeners]) listener(event);
  }
}

function registry() {
  const c = container.createChildContainer();
  const clock = new VirtualClock();
  const vmm = new ScriptedVmm();
  c.registerInstance(Tokens.Clock, clock);
  c.registerInstance(KernelTokens.HostConfig, { name: "esx-vms", memoryBytes: 1 << 20 });
  c.registerSingleton(KernelTokens.KernelLog, KernelLog);
  c.registerSingleton(KernelTokens.Network, NetworkStack);
  c.registerInstance(KernelTokens.Vmm, vmm);
  c.registerSingleton(KernelTokens.VirtualMachines, VmRegistry);
  return { vms: c.resolve<VmRegistry>(KernelTokens.VirtualMachines), log: c.resolve<KernelLog>(KernelTokens.KernelLog), clock, vmm };
}

const vmx = (name: string, memsize = 16, kernel = "/boot/vmlinuz") => parseVmConfig(`displayName = "${name}"\nmemsize = "${memsize}"\nvmk.kernel = "${kernel}"\n`);

describe("VmRegistry", () => {
  it("registers VMs by unique name and powers them on through the Vmm, following their power events", () => {
    const { vms, clock, log } = registry();
    const web = vms.create(vmx("web01", 24));
    expect(() => vms.create(vmx("web01"))).toThrow(/already registered/);
    const events: VmEvent[] = [];
    vms.onEvent((event) => events.push(event));
    expect(vms.state("web01")).toBe("poweredOff");
    vms.powerOn(web.id);
    expect(vms.state(web.id)).toBe("poweredOn");
    expect(() => vms.powerOn("web01")).toThrow(/already powered on/);
    clock.advance(2_000_000);
    expect(vms.state("web01")).toBe("poweredOff");
    expect(web.lastStop).toMatchObject({ reason: "guest-exit", exitCode: 24 });
    expect(new TextDecoder().decode(web.serial(0)!.scrollback())).toBe("web01");
    expect(events.map((e) => `${e.vm} ${e.kind}`)).toEqual(["web01 poweredOn", "web01 poweredOff"]);
    expect(log.entries({ source: "vmm" }).map((e) => e.message)).toEqual([
      "web01: registered as VM 1 (24 MB, 0 NICs)",
      "web01: powered on",
      "web01: powered off (guest-exit, exit code 24)",
    ]);
  });

  it("powers off and resets on request, builds a fresh runtime per power-on and refuses what the state forbids", () => {
    const { vms, vmm } = registry();
    vms.create(vmx("db01"));
    expect(() => vms.powerOff("db01")).toThrow(/already powered off/);
    expect(() => vms.reset("db01")).toThrow(/only a running VM can be reset/);
    vms.powerOn("db01");
    vms.reset("db01");
    expect(vms.get("db01").view().stats?.resets).toBe(1);
    expect(() => vms.remove("db01")).toThrow(/power it off first/);
    vms.powerOff("db01");
    expect(vms.get("db01").lastStop?.reason).toBe("requested");
    vms.powerOn("db01");
    expect(vmm.runtimes).toHaveLength(2);
    vms.powerOff("db01");
    vms.remove("db01");
    expect(vms.list()).toEqual([]);
    expect(() => vms.get("db01")).toThrow(/no VM "db01"/);
  });

  it("keeps a VM whose runtime cannot start powered off, with the reason", () => {
    const { vms } = registry();
    const vm = vms.create(parseVmConfig(`displayName = "empty"\n`));
    expect(() => vms.powerOn("empty")).toThrow(/no kernel/);
    expect(vm.powerState).toBe("poweredOff");
    expect(vm.lastStop).toMatchObject({ reason: "error", detail: "no kernel" });
  });

  it("describes VMs as plain data", () => {
    const { vms } = registry();
    vms.create(parseVmConfig(`displayName = "app"\nmemsize = "64"\nethernet0.present = "TRUE"\nethernet0.addressType = "static"\nethernet0.address = "00:50:56:aa:00:01"\n`));
    const views = vms.views();
    expect(JSON.parse(JSON.stringify(views))).toEqual(views);
    expect(views).toEqual([
      { id: 1, name: "app", guestOS: "debian10", powerState: "poweredOff", memoryBytes: 64 << 20, numVcpus: 1, nics: [{ name: "ethernet0", mac: "00:50:56:aa:00:01", networkName: "VM Network", virtualDev: "e1000" }] },
    ]);
  });
});
