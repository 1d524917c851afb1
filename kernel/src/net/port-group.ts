import type { SwitchUplink } from "./switch-uplink.js";
import type { TeamingPolicy } from "./teaming-policy.js";

/** VLAN ID 4095 on a port group means VGT: the guest tags, the port sees every VLAN. */
export const VLAN_TRUNK = 4095;

export function validateVlanId(vlanId: number): void {
  if (!Number.isInteger(vlanId) || vlanId < 0 || vlanId > VLAN_TRUNK) throw new Error(`VLAN ID must be 0 (none), 1-4094, or 4095 (all, guest tagging); got ${vlanId}`);
}

/** A named set of ports on one vSwitch sharing a VLAN and, optionally, their own failover order. */
export class PortGroup {
  /** Overrides the vSwitch's teaming when set (ESX's "override switch failover order"). */
  teamingOverride: TeamingPolicy | undefined;
  /** The uplink currently carrying this group's traffic; the only one that may deliver to its ports. */
  activeUplink: SwitchUplink | undefined;

  constructor(
    readonly name: string,
    public vlanId: number,
  ) {
    validateVlanId(vlanId);
  }

  get trunk(): boolean {
    return this.vlanId === VLAN_TRUNK;
  }
}
