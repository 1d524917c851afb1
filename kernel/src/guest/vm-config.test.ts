import { describe, expect, it } from "vitest";
import { formatVmx, parseVmx, VmxSyntaxError } from "./vmx-file.js";
import { generatedMac, parseVmConfig, VmConfigError } from "./vm-config.js";

const DEBIAN = `.encoding = "UTF-8"
config.version = "8"
displayName = "debian-01"
guestOS = "debian10"
memsize = "128"
numvcpus = "1"
# the NIC on the VM network
ethernet0.present = "TRUE"
ethernet0.virtualDev = "e1000"
ethernet0.networkName = "VM Network"
ethernet0.addressType = "static"
ethernet0.address = "00:50:56:01:02:03"
ethernet1.present = "true"
ethernet1.networkName = "Isolated"
serial0.present = "TRUE"
serial0.fileType = "file"
serial0.fileName = "console.log"
vmk.kernel = "vmlinuz"
vmk.initrd = "/images/initrd.gz"
vmk.cmdline = "console=ttyS0 ip=192.0.2.20::::::off quiet"
annotation = "web server|0Asecond line|22quoted|22"
`;

describe(".vmx configuration", () => {
  it("parses a VM configuration the way VMware's files are written", () => {
    const config = parseVmConfig(DEBIAN, { baseDir: "/vms/debian-01" });
    expect(config).toMatchObject({ displayName: "debian-01", guestOS: "debian10", memoryBytes: 128 << 20, numVcpus: 1 });
    expect(config.nics.map((n) => [n.index, n.networkName, Array.from(n.mac), n.addressType])).toEqual([
      [0, "VM Network", [0x00, 0x50, 0x56, 0x01, 0x02, 0x03], "static"],
      [1, "Isolated", Array.from(generatedMac("debian-01", 1)), "generated"],
    ]);
    expect(config.serials).toEqual([{ index: 0, backend: { kind: "file", path: "/vms/debian-01/console.log" } }]);
    expect(config.boot).toEqual({ kernel: "/vms/debian-01/vmlinuz", initrd: "/images/initrd.gz", cmdline: "console=ttyS0 ip=192.0.2.20::::::off quiet" });
    expect(config.raw.get("annotation")!.value).toBe('web server\nsecond line"quoted"');
  });

  it("treats keys case-insensitively and lets the last assignment win", () => {
    const entries = parseVmx('MemSize = "64"\nmemsize = "96"\nunquoted = TRUE\n');
    expect(entries.get("memsize")).toMatchObject({ value: "96", line: 2 });
    expect(entries.get("unquoted")!.value).toBe("TRUE");
  });

  it("round-trips values that need escaping", () => {
    const text = formatVmx([["annotation", 'a "b" | c # d\nline']]);
    expect(text).toBe('.encoding = "UTF-8"\nannotation = "a |22b|22 |7C c |23 d|0Aline"\n');
    expect(parseVmx(text).get("annotation")!.value).toBe('a "b" | c # d\nline');
  });

  it("reports syntax errors with their line", () => {
    expect(() => parseVmx('memsize = "64"\nthis is not a setting\n')).toThrow(VmxSyntaxError);
    expect(() => parseVmx('memsize = "64"\nthis is not a setting\n')).toThrow(/line 2/);
    expect(() => parseVmx('a = "bad |Z escape"')).toThrow(/two hex digits/);
  });

  it("collects every configuration problem in one error", () => {
    const bad = `memsize = "lots"
numvcpus = "4"
ethernet0.present = "TRUE"
ethernet0.virtualDev = "vmxnet3"
ethernet0.addressType = "static"
ethernet0.address = "01:00:5e:00:00:01"
serial0.present = "yes"
serial0.fileType = "file"
vmk.initrd = "initrd.gz"
`;
    try {
      parseVmConfig(bad);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(VmConfigError);
      const problems = (error as VmConfigError).problems;
      expect(problems).toEqual([
        'memsize = "lots" must be a whole number from 4 to 3584 MB',
        'numvcpus = "4" must be a whole number from 1 to 1 (this VMM runs one vCPU per VM)',
        'ethernet0.virtualDev = "vmxnet3" is not supported (supported: e1000)',
        "ethernet0.address 01:00:5e:00:00:01 is a multicast address",
        'serial0.fileType = "file" needs serial0.fileName',
        "vmk.initrd is set but vmk.kernel is not",
      ]);
    }
  });

  it("generates stable MACs in VMware's 00:0c:29 range", () => {
    expect(Array.from(generatedMac("web", 0))).toEqual(Array.from(generatedMac("web", 0)));
    expect(Array.from(generatedMac("web", 0).subarray(0, 3))).toEqual([0x00, 0x0c, 0x29]);
    expect(Array.from(generatedMac("web", 0))).not.toEqual(Array.from(generatedMac("web", 1)));
  });
});
