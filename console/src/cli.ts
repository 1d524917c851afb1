import "reflect-metadata";
import { parseArgs } from "node:util";
import { KERNEL_API_VERSION, KERNEL_RELEASE } from "@vmk/kernel";
import { hostProfiles } from "@vmk/hardware";
import { hostBoot, hostInventory, type HostCommandOptions } from "./commands/host.js";
import { runCommand } from "./commands/run.js";

const USAGE = `vmk ${KERNEL_RELEASE} — a hypervisor modelled on VMware ESX

Usage:
  vmk host boot       [options]   boot a simulated host: boot log, then its inventory
  vmk host inventory  [options]   boot quietly and print the PCI devices and modules
  vmk run            [options]   boot the host and a VM with its serial console on this terminal
                                  (Ctrl-] then q powers off, d detaches, r resets)
  vmk version                     print versions

Options:
  --profile NAME   hardware profile (${Object.keys(hostProfiles).join(", ")}; default: default)
  --name NAME      host name (default: esx01)
  --json           machine-readable output
  --virtual-time   run on the deterministic virtual clock (reproducible output)
  --settle MS      let the host run this long after boot before reporting (default: 500)
  --vmx FILE       (run) the VM's .vmx configuration
  --kernel FILE    (run) a bzImage or multiboot kernel to boot (default: the cached Debian guest)
  --initrd FILE    (run) its initramfs
  --append TEXT    (run) the kernel command line
  --memory MB      (run) guest memory
  --debugcon FILE  (run) write the bytes the guest sends to port 0xE9 to FILE
  --timeout S      (run) power the VM off after S seconds of guest time
  --no-jit         (run) interpret every instruction (no translation to JavaScript)
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
        vmx: { type: "string" },
        kernel: { type: "string" },
        initrd: { type: "string" },
        append: { type: "string" },
        memory: { type: "string" },
        debugcon: { type: "string" },
        timeout: { type: "string" },
        "no-jit": { type: "boolean", default: false },
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
  const options: HostCommandOptions = {
    profile: values.profile!,
    name: values.name!,
    json: values.json!,
    virtual: values["virtual-time"]!,
    settleMs,
    out,
  };
  try {
    switch (command) {
      case "host boot":
        await hostBoot(options);
        return 0;
      case "host inventory":
        await hostInventory(options);
        return 0;
      case "run": {
        const memoryMb = values.memory === undefined ? undefined : Number(values.memory);
        if (memoryMb !== undefined && (!Number.isInteger(memoryMb) || memoryMb <= 0)) {
          process.stderr.write(`vmk: --memory wants a whole number of MiB, not "${values.memory}"\n`);
          return 2;
        }
        const timeoutSeconds = values.timeout === undefined ? undefined : Number(values.timeout);
        if (timeoutSeconds !== undefined && !(timeoutSeconds > 0)) {
          process.stderr.write(`vmk: --timeout wants a positive number of seconds, not "${values.timeout}"\n`);
          return 2;
        }
        return await runCommand({
          ...options,
          vmx: values.vmx,
          kernel: values.kernel,
          initrd: values.initrd,
          append: values.append,
          memoryMb,
          debugcon: values.debugcon,
          timeoutMs: timeoutSeconds === undefined ? undefined : timeoutSeconds * 1000,
          jit: !values["no-jit"],
        });
      }
      case "version":
        out(values.json ? JSON.stringify({ release: KERNEL_RELEASE, kernelApi: KERNEL_API_VERSION }) : `vmk ${KERNEL_RELEASE}, kernel API ${KERNEL_API_VERSION}`);
        return 0;
      default:
        process.stderr.write(`vmk: unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    process.stderr.write(`vmk: ${(error as Error).message}\n`);
    return 1;
  }
}
