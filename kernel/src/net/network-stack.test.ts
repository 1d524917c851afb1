import { container } from "tsyringe";
import { describe, expect, it } from "vitest";
import { VirtualClock } from "../clock/virtual-clock.js";
import { KernelLog } from "../log/kernel-log.js";
import { KernelTokens, Tokens } from "../tokens.js";
import { NetworkStack } from "./network-stack.js";
import { connectRecorder, makeNetwork, registerFake, testFrame } from "./testing/network-fixture.js";

describe("NetworkStack", () => {
  it("resolves from a container through its explicit tokens", () => {
    const c = container.createChildContainer();
    c.registerInstance(Tokens.Clock, new VirtualClock());
    c.registerInstance(KernelTokens.HostConfig, { name: "esx-di", memoryBytes: 1 << 20 });
    c.registerSingleton(KernelTokens.KernelLog, KernelLog);
    c.registerSingleton(KernelTokens.Network, NetworkStack);
    const stack = c.resolve<NetworkStack>(KernelTokens.Network);
    expect(stack).toBeInstanceOf(NetworkStack);
    expect(c.resolve(KernelTokens.Network)).toBe(stack);
    stack.configureDefaults({ management: { ipAddress: "192.168.0.10", netmask: "255.255.255.0" } });
    expect(c.resolve<KernelLog>(KernelTokens.KernelLog).entries().map((e) => e.message)).toContain("vSwitch0 created (MTU 1500, 128 ports)");
  });

  it("describes switches, uplinks, ports and vmknics as plain data", () => {
    const { stack, clock } = makeNetwork("esx01");
    stack.configureDefaults({ management: { ipAddress: "192.168.0.10", netmask: "255.255.255.0", gateway: "192.168.0.1" } });
    stack.addVirtualSwitch({ mtu: 9000 });
    stack.addPortGroup("vSwitch1", "Storage", 20);
    registerFake(stack, clock, "0000:00:03.0", 1);
    const vm = connectRecorder(stack, "VM Network", "web01.eth0", "00:50:56:01:02:03");
    vm.port.transmit(testFrame("ff:ff:ff:ff:ff:ff", "00:50:56:01:02:03"));
    const view = stack.describe();
    expect(JSON.parse(JSON.stringify(view))).toEqual(view);
    expect(view.vswitches.map((s) => [s.name, s.mtu, s.uplinks, s.portGroups.map((g) => `${g.name}:${g.vlanId}:${g.activeClients}`)])).toEqual([
      ["vSwitch0", 1500, ["vmnic0"], ["VM Network:0:1", "Management Network:0:1"]],
      ["vSwitch1", 9000, [], ["Storage:20:0"]],
    ]);
    expect(view.vswitches[0]!.teaming).toEqual({ activeUplinks: ["vmnic0"], standbyUplinks: [], failback: true, notifySwitches: true });
    expect(view.uplinks).toMatchObject([{ name: "vmnic0", driver: "fake", busAddress: "0000:00:03.0", linkUp: true, open: true, role: "active", vswitch: "vSwitch0" }]);
    expect(view.ports.map((p) => [p.portId, p.clientName, p.clientType])).toEqual([
      [33554433, "vmnic0", "uplink"],
      [33554434, "vmk0", "vmknic"],
      [33554435, "web01.eth0", "vm"],
    ]);
    expect(view.ports[1]!.stats.rxBroadcast).toBe(1);
    expect(view.vmknics).toMatchObject([{ name: "vmk0", ipAddress: "192.168.0.10", gateway: "192.168.0.1", portId: 33554434 }]);
    expect(view.neighbors).toEqual([]);
  });

  it("guards configuration: unique names, ports in use, one vSwitch per uplink", () => {
    const { stack } = makeNetwork();
    stack.configureDefaults();
    stack.addVirtualSwitch();
    expect(() => stack.addPortGroup("vSwitch1", "VM Network")).toThrow(/already exists/);
    expect(() => stack.addUplink("vSwitch1", "vmnic0")).toThrow(/already an uplink of vSwitch0/);
    expect(() => stack.addPortGroup("vSwitch1", "Bad", 4096)).toThrow(/VLAN ID/);
    const vm = connectRecorder(stack, "VM Network", "vm", "00:50:56:00:00:01");
    expect(() => stack.removePortGroup("VM Network")).toThrow(/in use by vm/);
    expect(() => stack.removeVirtualSwitch("vSwitch0")).toThrow(/connected ports/);
    vm.port.disconnect();
    stack.removePortGroup("VM Network");
    stack.removeVirtualSwitch("vSwitch0");
    stack.addUplink("vSwitch1", "vmnic0");
    expect(stack.listVirtualSwitches().map((s) => s.name)).toEqual(["vSwitch1"]);
    const small = stack.addVirtualSwitch({ numPorts: 2 });
    stack.addPortGroup(small.name, "Tiny");
    connectRecorder(stack, "Tiny", "one", "00:50:56:00:00:02");
    connectRecorder(stack, "Tiny", "two", "00:50:56:00:00:03");
    expect(() => connectRecorder(stack, "Tiny", "three", "00:50:56:00:00:04")).toThrow(/no free port/);
  });
});
