import { mkdirSync, writeFileSync, existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { KERNEL_API_VERSION } from "@vmk/kernel";

export interface DriverTemplateOptions {
  /** npm package name, e.g. "vmk-driver-acme". */
  packageName: string;
  /** Short driver name used in logs and the driver table, e.g. "acme". */
  driverName: string;
  /** PCI IDs the driver claims. */
  pciIds: { vendor: number; device: number }[];
}

function hex(value: number): string {
  return "0x" + value.toString(16).padStart(4, "0");
}

/**
 * Writes a new third-party driver package: a manifest the loader accepts, a native-kernel driver that
 * enables its device, maps BAR0 and takes its interrupt, and a harness test. Returns the files written.
 * The generated code is plain JavaScript so it loads without a build step; authors may switch to
 * TypeScript with the same structure as the in-tree drivers.
 */
export function createDriverPackage(dir: string, options: DriverTemplateOptions): string[] {
  if (!/^(@[a-z0-9-]+\/)?[a-z0-9][a-z0-9._-]*$/.test(options.packageName)) throw new Error(`"${options.packageName}" is not a valid npm package name`);
  if (!/^[a-z][a-z0-9_]*$/.test(options.driverName)) throw new Error(`driver name "${options.driverName}" must be lower-case letters, digits and underscores`);
  if (options.pciIds.length === 0) throw new Error("a driver must claim at least one PCI ID");
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new Error(`${dir} is not empty`);
  const [major] = KERNEL_API_VERSION.split(".");
  const files: Record<string, string> = {
    "package.json":
      JSON.stringify(
        {
          name: options.packageName,
          version: "0.1.0",
          type: "module",
          description: `vmk driver ${options.driverName}`,
          main: "./index.js",
          vmk: {
            kind: "driver",
            kernelApi: `^${major}.0.0`,
            entry: "./index.js",
            claims: { pci: options.pciIds.map((id) => ({ vendor: hex(id.vendor), device: hex(id.device) })) },
          },
        },
        null,
        2,
      ) + "\n",
    "index.js": `// ${options.driverName}: a vmk PCI driver. The loader imports this file when a claimed device is present.
const IRQ_HANDLED = 1;
const IRQ_NONE = 0;

/** Per-device state, kept off the handle so remove() can undo exactly what probe() did. */
const bound = new Map();

export const ${options.driverName}_driver = {
  name: ${JSON.stringify(options.driverName)},
  idTable: ${JSON.stringify(options.pciIds.map((id) => ({ vendor: id.vendor, device: id.device })))},
  probe(dev) {
    dev.enable();
    dev.setMaster(true);
    // Map the register BAR if the device has one (a bridge may decode none).
    const regs = dev.bars().some((bar) => bar.index === 0) ? dev.mapBar(0) : undefined;
    const vector = dev.intxVector();
    const ctx = context;
    const state = { regs, interrupts: 0, freeIrq: undefined };
    if (vector !== undefined) {
      state.freeIrq = ctx.interrupts.requestIrq(vector, () => {
        // A shared line: only claim the interrupt if this device raised it (read your cause register here).
        state.interrupts++;
        return IRQ_HANDLED;
      }, { name: ${JSON.stringify(options.driverName)}, shared: true });
    }
    bound.set(dev.address, state);
    ctx.log.info(\`\${dev.address}: \${dev.modelName} bound\`);
  },
  remove(dev) {
    const state = bound.get(dev.address);
    state?.freeIrq?.();
    bound.delete(dev.address);
    dev.disable();
  },
};

let context;

export default {
  init(ctx) {
    context = ctx;
    ctx.pciDrivers.register(${options.driverName}_driver);
  },
  exit(ctx) {
    ctx.pciDrivers.unregister(${options.driverName}_driver);
  },
};
`,
    [`${options.driverName}.test.js`]: `// Run with: npx vitest run (from a project that has vitest and @vmk/test installed)
import { describe, expect, it } from "vitest";
import { simulatedHost } from "@vmk/test";

describe(${JSON.stringify(options.driverName)}, () => {
  it("binds its device on a simulated host", async () => {
    // Put the card your driver claims into slot 3; replace with your device's catalog model or withDevice(model).
    const sim = await simulatedHost().withProfile("minimal").withModules(new URL(".", import.meta.url).pathname).boot();
    expect(sim.module(${JSON.stringify(options.packageName)}).state).not.toBe("refused");
  });
});
`,
    "README.md": `# ${options.packageName}\n\nA vmk driver for PCI ${options.pciIds.map((id) => `${hex(id.vendor)}:${hex(id.device)}`).join(", ")}.\nInstall it next to vmk (\`npm install ${options.packageName}\`); the vmkernel loader finds it in node_modules and loads it when a claimed device is present.\n`,
  };
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return Object.keys(files);
}
