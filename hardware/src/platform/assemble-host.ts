import { Host, type HostOptions, type PciDeviceModel } from "@vmk/kernel";
import { createCard } from "../catalog.js";
import { hostProfiles, type HostProfile, type SlotAssignment } from "./host-profiles.js";

export interface AssembledHost {
  host: Host;
  /** The model in each slot, by PCI address ("0000:00:03.0"). */
  cards: Map<string, PciDeviceModel>;
}

/** Builds a Host and plugs the profile's cards into their slots (not booted yet). */
export function assembleHost(profile: HostProfile | string, options: HostOptions = {}): AssembledHost {
  const chosen = typeof profile === "string" ? hostProfiles[profile] : profile;
  if (!chosen) throw new Error(`unknown host profile "${String(profile)}" (known: ${Object.keys(hostProfiles).join(", ")})`);
  const host = new Host({ memoryBytes: chosen.memoryBytes, ...options });
  const cards = new Map<string, PciDeviceModel>();
  for (const slot of chosen.slots) plugCard(host, slot, cards);
  return { host, cards };
}

export function plugCard(host: Host, slot: SlotAssignment, cards?: Map<string, PciDeviceModel>): PciDeviceModel {
  const model = createCard(slot.model, { mac: slot.mac });
  const fn = host.attachPci({ device: slot.device, function: slot.function ?? 0 }, model);
  cards?.set(fn.name, model);
  return model;
}
