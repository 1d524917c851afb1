import { describe, expect, it } from "vitest";
import { main } from "./cli.js";

async function run(args: string[]) {
  const lines: string[] = [];
  const code = await main(args, (text) => lines.push(text));
  return { code, text: lines.join("\n") };
}

describe("vmk CLI", () => {
  it("host boot prints the boot log then the inventory", async () => {
    const { code, text } = await run(["host", "boot", "--profile", "minimal", "--virtual-time", "--settle", "10"]);
    expect(code).toBe(0);
    expect(text).toMatch(/^\[ +0\.000000\] vmkernel: vmk .* booting host esx01$/m);
    expect(text).toMatch(/pci: 0000:00:00.0 8086:7190 15ad:1976 Host bridge/);
    expect(text).toMatch(/vmkernel: host esx01 is up/);
    expect(text).toMatch(/^PCI devices\nAddress +Vendor:Dev/m);
    expect(text).toMatch(/^0000:00:07.0 +8086:7110 +15ad:1976 +ISA bridge/m);
  });

  it("shows the default profile's e1000 ports bound as vmnics with MAC and link state", async () => {
    const { code, text } = await run(["host", "boot", "--virtual-time", "--settle", "3000"]);
    expect(code).toBe(0);
    expect(text).toMatch(/@vmk\/driver-e1000: probing 0000:00:03.0 \[8086:100f\]/);
    expect(text).toMatch(/net: vmnic0: e1000 0000:00:03.0 00:1b:21:0a:00:01 registered/);
    expect(text).toMatch(/^0000:00:03.0 +8086:100f +8086:1001 +Ethernet controller +19 +e1000 +@vmk\/driver-e1000/m);
    expect(text).toMatch(/^vmnic0 +0000:00:03.0 +e1000 +Up +1000Mbps +Full +00:1b:21:0a:00:01 +1500 +vSwitch0 +active$/m);
    expect(text).toMatch(/^vmnic1 +0000:00:04.0 +e1000 +Up +1000Mbps +Full +00:1b:21:0a:00:02/m);
    expect(text).toMatch(/^vmk0 +Management Network +192\.0\.2\.10 +255\.255\.255\.0 +00:50:56:/m);
    expect(text).toMatch(/^\d+ +vSwitch0 +Management Network +vmk0 +vmknic +00:50:56:\S+ +0 +vmnic0 /m);
    expect(text).toMatch(/^@vmk\/driver-e1000 +0.1.0 +driver +loaded +0000:00:03.0,0000:00:04.0/m);
  });

  it("lists the default profile's storage adapter, its RAID volume by NAA id and the path with its state", async () => {
    const { code, text } = await run(["host", "boot", "--virtual-time", "--settle", "100"]);
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
