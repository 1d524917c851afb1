import "reflect-metadata";
import { parseArgs } from "node:util";
import { KERNEL_API_VERSION, KERNEL_RELEASE } from "@vmk/kernel";
import { hostProfiles } from "@vmk/hardware";
import { hostBoot, hostInventory, type HostCommandOptions } from "./commands/host.js";
import { networkDhcp, networkPorts } from "./commands/network.js";
import { runCommand } from "./commands/run.js";
import { vmList, vmNics } from "./commands/vm.js";

const USAGE = `vmk ${KERNEL_RELEASE} — a hypervisor modelled on VMware ESX

Usage:
  vmk host boot       [options]   boot a simulated host (boot log), then the default guest on it: Debian's
                                  i386 kernel with busybox on "VM Network" to its prompt, a ping of vmk0,
                                  the inventory with the VM in it, the guest powered off
  vmk host inventory  [options]   boot quietly and print the PCI devices and modules
  vmk run            [options]   boot the host and a VM with its serial console on this terminal
                                  (Ctrl-] then q powers off, d detaches, r resets)
  vmk vm list         [options]   the VMs (--vmx FILE ..., powered on after boot): power state, addresses
  vmk vm nics [VM]    [options]   each virtual NIC: port group, VLAN, vSwitch port and device counters
  vmk network ports   [options]   every vSwitch port (also: vmk network vswitch ports): client, MAC,
                                  port group, VLAN, tx/rx packets, bytes and drops
  vmk network dhcp    [options]   the port groups' DHCP servers and their leases (dhcp leases: leases only)
  vmk version                     print versions

Options:
  --profile NAME   hardware profile (${Object.keys(hostProfiles).join(", ")}; default: default)
  --name NAME      host name (default: esx01)
  --json           machine-readable output
  --virtual-time   run on the deterministic virtual clock (reproducible output)
  --settle MS      let the host run this long after boot before reporting (default: 500)
  --vmx FILE       the VM's .vmx configuration (run: one; host and vm commands: repeatable, the VMs
                   are registered and powered on after boot and run for --settle before the report)
  --no-guest       (host boot) no default guest: the host alone, as host inventory
  --no-fetch       (host boot) skip the default guest when its images are not cached instead of
                   running scripts/fetch-guest-images.mjs
  --guest-console  (host boot) print every line of the guest's console (default: the kernel's
                   messages cut to a few landmarks; everything the shell and /init print)
  --bios FILE      (run) a firmware ROM (a multiple of 64 KiB) started at F000:FFF0 instead of a kernel
  --kernel FILE    (run, host boot) a bzImage or multiboot kernel to boot (default: the cached Debian guest)
  --initrd FILE    (run, host boot) its initramfs
  --append TEXT    (run) the kernel command line
  --memory MB      (run, host boot) guest memory (host boot: 128)
  --debugcon FILE  (run) write the bytes the guest sends to port 0xE9 to FILE (stdio: stdout)
  --debugcon-port PORT
                   (run) the debug port instead of 0xE9 (0x402: SeaBIOS's log)
  --serial DEST    (run) where COM1 goes: stdio (default: this terminal, raw), none, or [file:]PATH
  --post-codes     (run) print the bytes the guest writes to the POST port 0x80 (repeats once)
  --timeout S      (run) power the VM off after S seconds (wall time; guest time with --virtual-time)
  --until-prompt   (run) power the VM off once COM1 shows a shell prompt ("# " or "$ ")
  --no-jit         (run) interpret every instruction (no translation to JavaScript)
                   A guest's write of V to port 0xF4 ends the run with exit status (V << 1) | 1.
                   --json prints a boot timing report: seconds from power-on to the first COM1
                   byte, the kernel banner, the shell prompt and power-off, instructions, exit.
  -h, --help       this text
`;

export async function main(argv: string[], out: (text: string) => void = (t) => process.stdout.write(t + "\n")): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        profile: { type: "string", default: "default" },
        name: { type: "string", default: "esx01" },
        json: { type: "boolean", default: false },
        "virtual-time": { type: "boolean", default: false },
        settle: { type: "string", default: "500" },
        vmx: { type: "string", multiple: true },
        bios: { type: "string" },
        kernel: { type: "string" },
        initrd: { type: "string" },
        append: { type: "string" },
        memory: { type: "string" },
        debugcon: { type: "string" },
        "debugcon-port": { type: "string" },
        timeout: { type: "string" },
        serial: { type: "string" },
        "post-codes": { type: "boolean", default: false },
        "until-prompt": { type: "boolean", default: false },
        "no-jit": { type: "boolean", default: false },
        "no-guest": { type: "boolean", default: false },
        "no-fetch": { type: "boolean", default: false },
        "guest-console": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    process.stderr.write(`vmk: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const command = positionals.join(" ");
  if (values.help || command === "" || command === "help") {
    out(USAGE);
    return command === "" && !values.help ? 2 : 0;
  }
  const settleMs = Number(values.settle);
  if (!Number.isFinite(settleMs) || settleMs < 0) {
    process.stderr.write(`vmk: --settle wants a number of milliseconds, not "${values.settle}"\n`);
    return 2;
  }
  const memoryMb = values.memory === undefined ? undefined : Number(values.memory);
  if (memoryMb !== undefined && (!Number.isInteger(memoryMb) || memoryMb <= 0)) {
    process.stderr.write(`vmk: --memory wants a whole number of MiB, not "${values.memory}"\n`);
    return 2;
  }
  const options: HostCommandOptions = {
    profile: values.profile!,
    name: values.name!,
    json: values.json!,
    virtual: values["virtual-time"]!,
    settleMs,
    out,
    ...(values.vmx && command !== "run" ? { vmxFiles: values.vmx } : {}),
  };
  try {
    switch (command) {
      case "host boot":
        await hostBoot({
          ...options,
          ...(values["no-guest"]
            ? {}
            : { guest: { kernel: values.kernel, initrd: values.initrd, fetch: !values["no-fetch"], fullConsole: values["guest-console"]!, memoryMb } }),
        });
        return 0;
      case "host inventory":
        await hostInventory(options);
        return 0;
      case "vm list":
        await vmList(options);
        return 0;
      case "network ports":
      case "network vswitch ports":
        await networkPorts(options);
        return 0;
      case "network dhcp":
      case "network dhcp leases":
        await networkDhcp(options, command === "network dhcp leases");
        return 0;
      case "run": {
        if ((values.vmx?.length ?? 0) > 1) {
          process.stderr.write("vmk: run takes one --vmx\n");
          return 2;
        }
        const timeoutSeconds = values.timeout === undefined ? undefined : Number(values.timeout);
        if (timeoutSeconds !== undefined && !(timeoutSeconds > 0)) {
          process.stderr.write(`vmk: --timeout wants a positive number of seconds, not "${values.timeout}"\n`);
          return 2;
        }
        const debugconPort = values["debugcon-port"] === undefined ? undefined : Number(values["debugcon-port"]);
        if (debugconPort !== undefined && (!Number.isInteger(debugconPort) || debugconPort < 0 || debugconPort > 0xffff)) {
          process.stderr.write(`vmk: --debugcon-port wants an I/O port (0x402, 233), not "${values["debugcon-port"]}"\n`);
          return 2;
        }
        return await runCommand({
          ...options,
          vmx: values.vmx?.[0],
          bios: values.bios,
          kernel: values.kernel,
          initrd: values.initrd,
          append: values.append,
          memoryMb,
          debugcon: values.debugcon,
          debugconPort,
          timeoutMs: timeoutSeconds === undefined ? undefined : timeoutSeconds * 1000,
          jit: !values["no-jit"],
          serial: values.serial,
          postCodes: values["post-codes"],
          untilPrompt: values["until-prompt"],
        });
      }
      case "version":
        out(values.json ? JSON.stringify({ release: KERNEL_RELEASE, kernelApi: KERNEL_API_VERSION }) : `vmk ${KERNEL_RELEASE}, kernel API ${KERNEL_API_VERSION}`);
        return 0;
      default:
        if (positionals[0] === "vm" && positionals[1] === "nics" && positionals.length <= 3) {
          await vmNics(options, positionals[2]);
          return 0;
        }
        process.stderr.write(`vmk: unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    process.stderr.write(`vmk: ${(error as Error).message}\n`);
    return 1;
  }
}
