import { Host, type HostOptions, type PciDeviceModel } from "@vmk/kernel";
import { createCard } from "../catalog.js";
import { EthernetSwitch } from "../backends/ethernet-switch.js";
import type { EthernetPort } from "../net/ethernet.js";
import { hostProfiles, type HostProfile, type SlotAssignment } from "./host-profiles.js";

export interface AssembledHost {
  host: Host;
  /** The model in each slot, by PCI address ("0000:00:03.0"). */
  cards: Map<string, PciDeviceModel>;
  /** Physical switches the cards are cabled to, by name. */
  switches: Map<string, EthernetSwitch>;
}

/** Builds a Host and plugs the profile's cards into their slots (not booted yet). */
export function assembleHost(profile: HostProfile | string, options: HostOptions = {}): AssembledHost {
  const chosen = typeof profile === "string" ? hostProfiles[profile] : profile;
  if (!chosen) throw new Error(`unknown host profile "${String(profile)}" (known: ${Object.keys(hostProfiles).join(", ")})`);
  const network = options.network ?? (chosen.management ? { management: chosen.management } : undefined);
  const host = new Host({ memoryBytes: chosen.memoryBytes, ...options, network });
  const cards = new Map<string, PciDeviceModel>();
  const switches = new Map<string, EthernetSwitch>();
  for (const slot of chosen.slots) plugCard(host, slot, cards, switches);
  for (const settings of chosen.dhcp ?? []) host.dhcp.configure(settings);
  return { host, cards, switches };
}

export function plugCard(host: Host, slot: SlotAssignment, cards?: Map<string, PciDeviceModel>, switches?: Map<string, EthernetSwitch>): PciDeviceModel {
  const model = createCard(slot.model, { mac: slot.mac, disks: slot.disks?.map((disk) => ({ ...disk, name: `${host.name}/${disk.name}` })) });
  const fn = host.attachPci({ device: slot.device, function: slot.function ?? 0 }, model);
  cards?.set(fn.name, model);
  if (slot.cabledTo !== undefined) {
    if (!isEthernetPort(model)) throw new Error(`${slot.model} in slot ${fn.name} has no Ethernet port to cable to ${slot.cabledTo}`);
    let tor = switches?.get(slot.cabledTo);
    if (!tor) {
      tor = new EthernetSwitch(slot.cabledTo);
      switches?.set(slot.cabledTo, tor);
    }
    tor.plug(model);
  }
  return model;
}

function isEthernetPort(model: object): model is PciDeviceModel & EthernetPort {
  const port = model as Partial<EthernetPort>;
  return typeof port.connect === "function" && typeof port.receiveFrame === "function" && typeof port.carrierChanged === "function";
}
