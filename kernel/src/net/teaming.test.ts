import { describe, expect, it } from "vitest";
import { connectRecorder, makeNetwork, registerFake, testFrame } from "./testing/network-fixture.js";

const A = "00:50:56:00:00:0a";
const REMOTE = "00:1b:21:00:00:01";

function threeUplinks() {
  const net = makeNetwork();
  const { stack, clock } = net;
  stack.addVirtualSwitch();
  for (const n of ["vmnic0", "vmnic1", "vmnic2"]) stack.addUplink("vSwitch0", n);
  const nics = [registerFake(stack, clock, "0000:00:03.0", 1), registerFake(stack, clock, "0000:00:04.0", 2), registerFake(stack, clock, "0000:00:05.0", 3)];
  stack.setTeaming("vSwitch0", { activeUplinks: ["vmnic0", "vmnic1"], standbyUplinks: ["vmnic2"], notifySwitches: false });
  stack.addPortGroup("vSwitch0", "VM Network");
  const a = connectRecorder(stack, "VM Network", "a", A);
  const carrier = () => stack.listVirtualSwitches()[0]!.portGroups[0]!.activeUplink;
  const sendOne = () => {
    const before = nics.map((n) => n.transmitted.length);
    a.port.transmit(testFrame(REMOTE, A));
    return nics.findIndex((n, i) => n.transmitted.length > before[i]!);
  };
  return { ...net, nics, a, carrier, sendOne };
}

describe("NIC teaming (explicit failover order)", () => {
  it("fails over down the order on link loss and fails back when the link returns", () => {
    const { nics, carrier, sendOne, log } = threeUplinks();
    expect(carrier()).toBe("vmnic0");
    expect(sendOne()).toBe(0);
    nics[0]!.setLink(false);
    expect(carrier()).toBe("vmnic1");
    expect(sendOne()).toBe(1);
    nics[1]!.setLink(false);
    expect(carrier()).toBe("vmnic2"); // standby only when no active can
    expect(sendOne()).toBe(2);
    nics[2]!.setLink(false);
    expect(carrier()).toBeUndefined();
    expect(sendOne()).toBe(-1);
    nics[2]!.setLink(true);
    expect(carrier()).toBe("vmnic2");
    nics[1]!.setLink(true);
    expect(carrier()).toBe("vmnic1");
    nics[0]!.setLink(true);
    expect(carrier()).toBe("vmnic0");
    const messages = log.entries({ source: "net" }).map((e) => e.message);
    expect(messages).toContain('vSwitch0: port group "VM Network" now uses vmnic1 instead of vmnic0 (vmnic0 link down)');
    expect(messages).toContain("vmnic0: link down");
  });

  it("stays on the standby after recovery when failback is off", () => {
    const { stack, nics, carrier } = threeUplinks();
    stack.setTeaming("vSwitch0", { activeUplinks: ["vmnic0"], standbyUplinks: ["vmnic1"], failback: false });
    nics[0]!.setLink(false);
    expect(carrier()).toBe("vmnic1");
    nics[0]!.setLink(true);
    expect(carrier()).toBe("vmnic1");
    nics[1]!.setLink(false);
    expect(carrier()).toBe("vmnic0");
  });

  it("lets a port group override the vSwitch's order", () => {
    const { stack, nics, carrier } = threeUplinks();
    stack.addPortGroup("vSwitch0", "vMotion", 0);
    stack.setPortGroupTeaming("vMotion", { activeUplinks: ["vmnic2"], standbyUplinks: ["vmnic0"] });
    const groups = () => Object.fromEntries(stack.listVirtualSwitches()[0]!.portGroups.map((g) => [g.name, g.activeUplink]));
    expect(groups()).toEqual({ "VM Network": "vmnic0", vMotion: "vmnic2" });
    nics[2]!.setLink(false);
    expect(groups()).toEqual({ "VM Network": "vmnic0", vMotion: "vmnic0" });
    stack.setPortGroupTeaming("vMotion", undefined);
    nics[2]!.setLink(true);
    expect(groups()).toEqual({ "VM Network": "vmnic0", vMotion: "vmnic0" });
    expect(carrier()).toBe("vmnic0");
    expect(() => stack.setPortGroupTeaming("vMotion", { activeUplinks: ["vmnic9"] })).toThrow(/not attached/);
  });

  it("fails over when a driver unregisters its uplink and reclaims the name when it returns", () => {
    const { stack, clock, nics, carrier, sendOne } = threeUplinks();
    const gone = nics[0]!;
    stack.uplinks.unregister(gone.registered!);
    expect(carrier()).toBe("vmnic1");
    expect(sendOne()).toBe(1);
    gone.fromWire(testFrame(A, REMOTE)); // a late frame from the dying driver goes nowhere
    expect(stack.listUplinks().find((u) => u.name === "vmnic0")).toMatchObject({ present: false, vswitch: "vSwitch0", role: "active" });

    const back = registerFake(stack, clock, "0000:00:03.0", 1);
    expect(back.registered!.name).toBe("vmnic0");
    expect(carrier()).toBe("vmnic0");
    const fresh = registerFake(stack, clock, "0000:00:06.0", 4);
    expect(fresh.registered!.name).toBe("vmnic3");
  });
});

describe("UplinkRegistry", () => {
  it("names uplinks in registration order and opens them after the registering call", () => {
    const { stack, clock } = makeNetwork();
    const first = registerFake(stack, clock, "0000:00:03.0", 1);
    expect(first.registered!.name).toBe("vmnic0");
    expect(first.isOpen).toBe(true);
    expect(first.promiscuous).toBe(false); // not on any vSwitch yet
    const second = new (first.constructor as typeof import("./testing/fake-uplink.js").FakeUplink)("0000:00:04.0", [0, 0x0c, 0x29, 0, 0, 2]);
    second.registered = stack.uplinks.register(second);
    expect(second.registered.name).toBe("vmnic1");
    expect(second.isOpen).toBe(false);
    clock.runUntilIdle();
    expect(second.isOpen).toBe(true);
    expect(stack.uplinks.list().map((u) => u.name)).toEqual(["vmnic0", "vmnic1"]);
    const modules = stack.uplinks.forModules();
    expect(Object.keys(modules).sort()).toEqual(["register", "unregister"]);
    modules.unregister(second.registered);
    expect(() => modules.unregister(second.registered!)).toThrow(/not a registered uplink/);
    // A frame for an unattached uplink is counted, not forwarded.
    first.fromWire(new Uint8Array(60));
    expect(stack.uplinks.get("vmnic0")!.unclaimedFrames).toBe(1);
  });

  it("attaches an uplink configured before its driver loaded", () => {
    const { stack, clock } = makeNetwork();
    stack.configureDefaults({ management: { ipAddress: "10.0.0.1", netmask: "255.255.255.0" } });
    expect(stack.listUplinks()).toMatchObject([{ name: "vmnic0", present: false, linkUp: false }]);
    const nic = registerFake(stack, clock, "0000:00:03.0", 1);
    expect(nic.promiscuous).toBe(true);
    expect(stack.listUplinks()).toMatchObject([{ name: "vmnic0", present: true, linkUp: true, speedMbps: 1000, driver: "fake", mac: "00:0c:29:00:00:01", role: "active", carrying: ["VM Network", "Management Network"] }]);
  });
});
