import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { main } from "./cli.js";

const VM_TEST_PROGRAMS = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "guests", "test-programs", "vm");

/**
 * A .vmx for the vm-peer test guest (its own e1000 driver in assembly) on "VM Network": about 110 ms
 * after power-on it sends one unicast frame to `peerMac`, waits 100 ms for an answer, then lingers 20 ms
 * and powers off.
 */
function peerVmx(name: string, mac: string, peerMac: string): string {
  const dir = mkdtempSync(join(tmpdir(), "vmk-cli-"));
  const kernel = join(dir, "vm-peer.bin");
  execFileSync("nasm", ["-f", "bin", "-I", `${VM_TEST_PROGRAMS}/`, "-o", kernel, join(VM_TEST_PROGRAMS, "vm-peer.asm")]);
  const image = new Uint8Array(readFileSync(kernel));
  const marker = Buffer.from("VMKPEER:");
  const at = Buffer.from(image).indexOf(marker);
  image.set(peerMac.split(":").map((h) => parseInt(h, 16)), at + marker.length);
  writeFileSync(kernel, image);
  const vmx = join(dir, `${name}.vmx`);
  writeFileSync(vmx, `displayName = "${name}"\nmemsize = "16"\nethernet0.present = "TRUE"\nethernet0.networkName = "VM Network"\nethernet0.addressType = "static"\nethernet0.address = "${mac}"\nvmk.kernel = "vm-peer.bin"\n`);
  return vmx;
}

async function run(args: string[]) {
  const lines: string[] = [];
  const code = await main(args, (text) => lines.push(text));
  return { code, text: lines.join("\n") };
}

describe("vmk CLI", () => {
  it("host boot prints the boot log then the inventory", async () => {
    const { code, text } = await run(["host", "boot", "--profile", "minimal", "--virtual-time", "--settle", "10", "--no-guest"]);
    expect(code).toBe(0);
    expect(text).toMatch(/^\[ +0\.000000\] vmkernel: vmk .* booting host esx01$/m);
    expect(text).toMatch(/pci: 0000:00:00.0 8086:7190 15ad:1976 Host bridge/);
    expect(text).toMatch(/vmkernel: host esx01 is up/);
    expect(text).toMatch(/^PCI devices\nAddress +Vendor:Dev/m);
    expect(text).toMatch(/^0000:00:07.0 +8086:7110 +15ad:1976 +ISA bridge/m);
  });

  it("shows the default profile's e1000 ports bound as vmnics with MAC and link state", async () => {
    const { code, text } = await run(["host", "boot", "--virtual-time", "--settle", "3000", "--no-guest"]);
    expect(code).toBe(0);
    expect(text).toMatch(/@vmk\/driver-e1000: probing 0000:00:03.0 \[8086:100f\]/);
    expect(text).toMatch(/net: vmnic0: e1000 0000:00:03.0 00:1b:21:0a:00:01 registered/);
    expect(text).toMatch(/^0000:00:03.0 +8086:100f +8086:1001 +Ethernet controller +19 +e1000 +@vmk\/driver-e1000/m);
    expect(text).toMatch(/^vmnic0 +0000:00:03.0 +e1000 +Up +1000Mbps +Full +00:1b:21:0a:00:01 +1500 +vSwitch0 +active$/m);
    expect(text).toMatch(/^vmnic1 +0000:00:04.0 +e1000 +Up +1000Mbps +Full +00:1b:21:0a:00:02/m);
    expect(text).toMatch(/^vmk0 +Management Network +192\.0\.2\.10 +255\.255\.255\.0 +00:50:56:/m);
    expect(text).toMatch(/^\d+ +vSwitch0 +Management Network +vmk0 +vmknic +00:50:56:\S+ +0 +vmnic0 /m);
    expect(text).toMatch(/^@vmk\/driver-e1000 +0.1.0 +driver +loaded +0000:00:03.0,0000:00:04.0/m);
    // The default profile's DHCP server on "VM Network": a station of the port group with its own port.
    expect(text).toMatch(/^DHCP servers\nPort Group +vSwitch +VLAN +Server/m);
    expect(text).toMatch(/^VM Network +vSwitch0 +0 +192\.0\.2\.2 +00:50:56:\S+ +192\.0\.2\.100-192\.0\.2\.199 +255\.255\.255\.0 +- +- +3600s +0 +0 +0 +0 +0$/m);
    expect(text).toMatch(/^\d+ +vSwitch0 +VM Network +dhcp +dhcp +00:50:56:\S+ +0 +vmnic0 +0 +0 +0 +0 +0 +0$/m);
    expect(text).toMatch(/^\d+ +vSwitch0 +- +vmnic0 +uplink +00:1b:21:0a:00:01 +0 +- /m);
  });

  it("network ports lists every vSwitch port with its client and counters, as text and JSON", async () => {
    const json = await run(["network", "vswitch", "ports", "--virtual-time", "--settle", "100", "--json"]);
    expect(json.code).toBe(0);
    const ports = JSON.parse(json.text) as Array<{ portId: number; clientName: string; clientType: string; portGroup: string; vlanId: number; stats: Record<string, number> }>;
    expect(ports.map((p) => [p.clientName, p.clientType, p.portGroup, p.vlanId])).toEqual([
      ["vmnic0", "uplink", "", 0],
      ["vmk0", "vmknic", "Management Network", 0],
      ["dhcp", "dhcp", "VM Network", 0],
    ]);
    for (const p of ports) expect(Object.keys(p.stats)).toEqual(expect.arrayContaining(["txPackets", "txBytes", "txDrops", "rxPackets", "rxBytes", "rxDrops"]));
    const text = await run(["network", "ports", "--virtual-time", "--settle", "100"]);
    expect(text.text).toMatch(/^Port ID +vSwitch +Port Group +Client +Type +MAC Address +VLAN +Uplink +Tx Pkts +Tx Bytes +Tx Drops +Rx Pkts +Rx Bytes +Rx Drops$/m);
    expect(text.text).toMatch(new RegExp(`^${ports[1]!.portId} +vSwitch0 +Management Network +vmk0 +vmknic `, "m"));
  });

  it("vm list and vm nics show a running guest's NIC, and its counters move when the guest transmits", async () => {
    const vmx = peerVmx("web01", "00:0c:29:00:00:51", "00:0c:29:00:00:99");
    const early = await run(["vm", "nics", "web01", "--vmx", vmx, "--virtual-time", "--settle", "50", "--json"]);
    expect(early.code).toBe(0);
    const [before] = JSON.parse(early.text);
    expect(before).toMatchObject({ vm: "web01", nic: "ethernet0", mac: "00:0c:29:00:00:51", portGroup: "VM Network", vswitch: "vSwitch0", vlanId: 0, connected: true });
    expect(before.port).toMatchObject({ txPackets: 0, rxPackets: 0 });
    expect(before.device).toMatchObject({ framesFromGuest: 0, counters: { registers: { GPTC: 0 } } });

    // 150 ms after power-on the guest has sent its frame (out through vmnic0: nobody here has that MAC) and waits for an answer.
    const later = await run(["vm", "nics", "web01", "--vmx", vmx, "--virtual-time", "--settle", "150", "--json"]);
    const [after] = JSON.parse(later.text);
    expect(after.port).toMatchObject({ txPackets: 1, txBytes: 60, txDrops: 0, rxPackets: 0 });
    expect(after.device).toMatchObject({ framesFromGuest: 1, framesToGuest: 0, transmitDrops: 0, counters: { registers: { GPTC: 1, GOTC: 64 } } });

    const text = await run(["vm", "nics", "--vmx", vmx, "--virtual-time", "--settle", "150"]);
    expect(text.text).toMatch(/^web01 +ethernet0 +00:0c:29:00:00:51 +VM Network +0 +\d+ +yes +- +1 +60 +0 +0 +0 +0$/m);
    expect(text.text).toMatch(/^web01 +ethernet0 +1 +0 +0 +0 +1 +0 +0 +0$/m);
    const list = await run(["vm", "list", "--vmx", vmx, "--virtual-time", "--settle", "150"]);
    expect(list.text).toMatch(/^Vmid +Name +Power +Guest OS +Memory +vCPUs +NICs +IP Address$/m);
    expect(list.text).toMatch(/^1 +web01 +poweredOn +debian10 +16 MiB +1 +1 +-$/m);
    const inventory = await run(["host", "inventory", "--vmx", vmx, "--virtual-time", "--settle", "150"]);
    expect(inventory.text).toMatch(/^Virtual machines\n/m);
    expect(inventory.text).toMatch(/^\d+ +vSwitch0 +VM Network +web01\.ethernet0 +vm +00:0c:29:00:00:51 +0 +vmnic0 +1 +60 +0 +0 +0 +0$/m);
    expect((await run(["vm", "nics", "db01", "--virtual-time", "--settle", "10"])).code).toBe(1);
  });

  it("network dhcp shows the default profile's server and, once asked, its leases", async () => {
    const { code, text } = await run(["network", "dhcp", "--virtual-time", "--settle", "10"]);
    expect(code).toBe(0);
    expect(text).toMatch(/^VM Network +vSwitch0 +0 +192\.0\.2\.2 /m);
    expect(text).toMatch(/^No DHCP leases\.$/m);
    const json = JSON.parse((await run(["network", "dhcp", "--virtual-time", "--settle", "10", "--json"])).text);
    expect(json).toEqual([expect.objectContaining({ portGroup: "VM Network", serverAddress: "192.0.2.2", rangeStart: "192.0.2.100", rangeEnd: "192.0.2.199", leases: [] })]);
  });

  it("lists the default profile's storage adapter, its RAID volume by NAA id and the path with its state", async () => {
    const { code, text } = await run(["host", "boot", "--virtual-time", "--settle", "100", "--no-guest"]);
    expect(code).toBe(0);
    expect(text).toMatch(/^0000:00:05.0 +1000:0060 +1000:1013 +RAID bus controller +\d+ +megaraid_sas +@vmk\/driver-megaraid-sas/m);
    expect(text).toMatch(/^vmhba0 +megaraid_sas +0000:00:05.0 +online +1 +MegaRAID SAS 8708EM2$/m);
    const device = /^(naa\.[0-9a-f]{32}) +VMK +Virtual LUN +512 MiB +VMW_PSP_FIXED +on$/m.exec(text);
    expect(device).not.toBeNull();
    expect(text).toMatch(new RegExp(`^vmhba0:C0:T0:L0 +${device![1]} +active +yes`, "m"));
  });

  it("host inventory --json is machine-readable and reproducible on virtual time", async () => {
    const first = await run(["host", "inventory", "--profile", "minimal", "--virtual-time", "--json", "--name", "esx-json"]);
    const second = await run(["host", "inventory", "--profile", "minimal", "--virtual-time", "--json", "--name", "esx-json"]);
    expect(first.code).toBe(0);
    const parsed = JSON.parse(first.text);
    expect(parsed.host).toMatchObject({ name: "esx-json", clock: "virtual", state: "running" });
    expect(parsed.pci.map((d: { address: string }) => d.address)).toEqual(["0000:00:00.0", "0000:00:07.0"]);
    expect(Array.isArray(parsed.modules)).toBe(true);
    expect(second.text).toBe(first.text);
  });

  it("rejects unknown commands, profiles and options with a usage message", async () => {
    expect((await run(["host", "explode"])).code).toBe(2);
    expect((await run(["host", "boot", "--profile", "mainframe", "--virtual-time"])).code).toBe(1);
    expect((await run(["host", "boot", "--settle", "soon"])).code).toBe(2);
    expect((await run(["--help"])).text).toMatch(/vmk host boot/);
  });
});
