import type { DhcpSettings } from "@vmk/kernel";
import type { LocalDiskSpec } from "../catalog.js";

/** A card in a slot, named by catalog model. */
export interface SlotAssignment {
  device: number;
  function?: number;
  model: string;
  mac?: string;
  /** Cable a network card to this physical switch of the host's rack (created on first use). */
  cabledTo?: string;
  /** Local disks behind a storage controller (RAID volumes); names are prefixed with the host name. */
  disks?: LocalDiskSpec[];
}

export interface HostProfile {
  name: string;
  description: string;
  memoryBytes: number;
  slots: SlotAssignment[];
  /** vmk0's address on "Management Network", as the installer sets it. */
  management?: { ipAddress: string; netmask: string; gateway?: string };
  /** DHCP servers the host runs on its port groups (net/dhcp), as configured at install time. */
  dhcp?: DhcpSettings[];
}

/**
 * The simulated server `vmk host boot` starts when nothing else is asked for: a 440BX/PIIX4 platform
 * with the network cards whose models exist. Profiles only name catalog models, so adding a card
 * model makes it available here without touching the kernel.
 */
export const hostProfiles: Record<string, HostProfile> = {
  default: {
    name: "default",
    description: "440BX server with two Intel PRO/1000 MT (82545EM) ports cabled to a top-of-rack switch and an LSI MegaRAID SAS 1078 with a 512 MiB RAID volume",
    memoryBytes: 256 * 1024 * 1024,
    // TEST-NET-1 (RFC 5737): an address that can never collide with a real network.
    management: { ipAddress: "192.0.2.10", netmask: "255.255.255.0" },
    // VMs on "VM Network" (the same untagged segment as vmk0) get addresses by DHCP, clear of the static ones.
    dhcp: [{ portGroup: "VM Network", subnet: "192.0.2.0", netmask: "255.255.255.0", rangeStart: "192.0.2.100", rangeEnd: "192.0.2.199", serverAddress: "192.0.2.2" }],
    slots: [
      { device: 0, model: "i440bx-host-bridge" },
      { device: 7, function: 0, model: "piix4-isa" },
      { device: 3, model: "e1000-82545em", mac: "00:1b:21:0a:00:01", cabledTo: "tor0" },
      { device: 4, model: "e1000-82545em", mac: "00:1b:21:0a:00:02", cabledTo: "tor0" },
      { device: 5, model: "megaraid-sas-1078", disks: [{ name: "local-raid1", sizeMb: 512 }] },
    ],
  },
  minimal: {
    name: "minimal",
    description: "440BX platform without add-in cards",
    memoryBytes: 64 * 1024 * 1024,
    slots: [
      { device: 0, model: "i440bx-host-bridge" },
      { device: 7, function: 0, model: "piix4-isa" },
    ],
  },
};
