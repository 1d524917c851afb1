import type { DeviceIdentifiers } from "./scsi-responses.js";

/**
 * The device name ESX gives a LUN: its NAA identifier when it has one (naa.<16 or 32 hex>), else its
 * EUI-64 or T10 vendor identifier. A LUN with no identifier at all cannot be recognised on a second
 * path, so it is named after its one path (mpx.vmhbaN:C0:Tt:Ll) and never multipathed.
 */
export function deviceNameFor(ids: DeviceIdentifiers, runtimeName: string): string {
  if (ids.naa !== undefined) return `naa.${ids.naa}`;
  if (ids.eui !== undefined) return `eui.${ids.eui}`;
  if (ids.t10 !== undefined) return `t10.${ids.t10.replace(/[^A-Za-z0-9_.-]+/g, "_")}`;
  return `mpx.${runtimeName}`;
}
