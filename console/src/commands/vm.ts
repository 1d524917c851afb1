import { renderVmList, renderVmNicDevices, renderVmNics } from "../format/network-tables.js";
import { bootHost, shutdownHost, type HostCommandOptions } from "./host.js";

/** `vmk vm list`: the host's VMs with power state and the addresses its DHCP servers gave them. */
export async function vmList(options: HostCommandOptions): Promise<void> {
  const host = await bootHost(options, false);
  try {
    const api = host.management;
    const vms = api.vms();
    const nics = api.vmNics();
    if (options.json) options.out(JSON.stringify({ vms, nics }, null, 2));
    else options.out(vms.length > 0 ? renderVmList(vms, nics) : "No virtual machines registered (give .vmx files with --vmx).");
  } finally {
    await shutdownHost(host);
  }
}

/** `vmk vm nics [VM]`: each virtual NIC's vSwitch port and device counters. */
export async function vmNics(options: HostCommandOptions, vm: string | undefined): Promise<void> {
  const host = await bootHost(options, false);
  try {
    const nics = host.management.vmNics(vm === undefined ? undefined : /^\d+$/.test(vm) ? Number(vm) : vm);
    if (options.json) options.out(JSON.stringify(nics, null, 2));
    else if (nics.length === 0) options.out("No virtual NICs.");
    else {
      const sections = ["Virtual NICs\n" + renderVmNics(nics)];
      if (nics.some((n) => n.device !== undefined)) sections.push("Virtual NIC devices\n" + renderVmNicDevices(nics));
      options.out(sections.join("\n\n"));
    }
  } finally {
    await shutdownHost(host);
  }
}
