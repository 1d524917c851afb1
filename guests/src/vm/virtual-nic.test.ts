import { KernelLog, NetworkStack, parseMac, VirtualClock, type VirtualPort } from "@vmk/kernel";
import { describe, expect, it } from "vitest";
import { assembleTestKernel } from "./test-kernels.js";
import { testVm } from "./test-rig.js";

const GUEST_MAC = "00:0c:29:aa:bb:01";
const HOST_MAC = "00:50:56:00:00:99";
const NIC_VMX = `
ethernet0.present = "TRUE"
ethernet0.networkName = "VM Network"
ethernet0.addressType = "static"
ethernet0.address = "${GUEST_MAC}"
`;

function hostNetwork(clock: VirtualClock) {
  const network = new NetworkStack(clock, new KernelLog(clock), { name: "esx-vm-test" });
  network.addVirtualSwitch();
  network.addPortGroup("vSwitch0", "VM Network");
  return network;
}

/** A station on the vSwitch that answers every frame with a unicast to its sender, 50 µs later. */
function echoStation(network: NetworkStack, clock: VirtualClock) {
  const received: Uint8Array[] = [];
  let port: VirtualPort | undefined;
  port = network.connectPort({
    portGroup: "VM Network",
    clientName: "echo",
    mac: parseMac(HOST_MAC),
    client: {
      receive(frame) {
        received.push(frame);
        const reply = new Uint8Array(60);
        reply.set(frame.subarray(6, 12), 0);
        reply.set(parseMac(HOST_MAC), 6);
        reply.set([0x88, 0xb5], 12);
        reply.set(new TextEncoder().encode("hello from the host"), 14);
        clock.setTimer(50_000, () => port!.transmit(reply));
        return true;
      },
    },
  });
  return { received };
}

describe("a guest's e1000 on a vSwitch port", () => {
  it("a guest driver sends a frame by DMA from its TX ring and receives the reply into its RX ring", () => {
    const clock = new VirtualClock();
    const network = hostNetwork(clock);
    const echo = echoStation(network, clock);
    const vm = testVm({ clock, network, vmx: NIC_VMX, images: { kernel: assembleTestKernel("e1000-echo.asm") } });
    vm.runtime.powerOn();
    vm.runUntilPoweredOff(2e9);

    expect(vm.com1.text()).toBe("vmk e1000 guest driver\nirq 0000000b\nlink up\nsent\nreceived: hello from the host\n");
    expect(vm.runtime.exitCode).toBe((0x10 << 1) | 1);
    expect(echo.received).toHaveLength(1);
    const frame = echo.received[0]!;
    expect(Array.from(frame.subarray(0, 6))).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    expect(Array.from(frame.subarray(6, 12))).toEqual(Array.from(parseMac(GUEST_MAC)));
    expect(new TextDecoder().decode(frame.subarray(14, 34))).toBe("hello from the guest");
    const [nic] = vm.runtime.stats().nics;
    expect(nic).toMatchObject({ name: "test-vm.ethernet0", mac: GUEST_MAC, portGroup: "VM Network", framesFromGuest: 1, framesToGuest: 1, transmitDrops: 0, dmaBlocked: 0 });
    // Powered off, the VM gives its vSwitch port back.
    expect(nic!.connected).toBe(false);
    expect(network.describe().ports.map((p) => p.clientName)).toEqual(["echo"]);
  });

  it("blocks and counts DMA the guest points outside its RAM, and keeps running", () => {
    const clock = new VirtualClock();
    const vm = testVm({ clock, network: hostNetwork(clock), vmx: NIC_VMX, images: { kernel: assembleTestKernel("timer.asm") } });
    vm.runtime.powerOn();
    const machine = vm.runtime.machine;
    const nic = machine.pciHost.bus.get({ device: 3 })!;
    const config = (offset: number) => 0x80000000 | (3 << 11) | offset;
    machine.platform.portOut(0xcf8, 4, config(0x04));
    machine.platform.portOut(0xcfc, 2, machine.platform.portIn(0xcfc, 2) | 0x4);
    const registers = nic.config.barAddress(0);
    const write = (offset: number, value: number) => machine.mmio.write(registers + offset, 4, value);
    write(0x3800, 64 << 20); // TDBAL: 64 MiB, far beyond 16 MiB of RAM
    write(0x3808, 128);
    write(0x0400, 1 << 1); // TCTL.EN
    write(0x3818, 1);
    clock.runUntil(clock.now() + 1_000_000);
    expect(vm.runtime.stats().nics[0]!.dmaBlocked).toBeGreaterThan(0);
    expect(machine.faults.entries("dma-blocked")[0]).toMatchObject({ address: 64 << 20, requester: "0000:00:03.0", detail: "DMA outside guest RAM" });
    expect(vm.runtime.powerState).toBe("poweredOn");
    vm.runUntilPoweredOff(1e9);
    expect(vm.runtime.exitCode).toBe(67);
  });

  it("leaves the NIC unplugged when the port group does not exist, and says so", () => {
    const clock = new VirtualClock();
    const vm = testVm({ clock, network: hostNetwork(clock), vmx: NIC_VMX.replace("VM Network", "Nowhere"), images: { kernel: assembleTestKernel("timer.asm") } });
    vm.runtime.powerOn();
    expect(vm.runtime.stats().nics[0]!.connected).toBe(false);
    expect(vm.log.entries().map((e) => e.message).join("\n")).toMatch(/ethernet0: not connected: .*Nowhere/);
    vm.runtime.powerOff();
  });
});
