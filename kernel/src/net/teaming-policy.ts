/**
 * NIC teaming with "use explicit failover order", as ESX: the first active uplink that is present and
 * has link carries the traffic; standby uplinks take over only when no active one can; uplinks in
 * neither list are unused.
 */
export interface TeamingPolicy {
  activeUplinks: string[];
  standbyUplinks: string[];
  /** Return to a higher-order uplink as soon as its link is back (ESX default: yes). */
  failback: boolean;
  /** Send a RARP for every port's MAC out of a newly chosen uplink so physical switches relearn. */
  notifySwitches: boolean;
}

export type TeamingRole = "active" | "standby" | "unused";

export function defaultTeamingPolicy(): TeamingPolicy {
  return { activeUplinks: [], standbyUplinks: [], failback: true, notifySwitches: true };
}

export function copyTeamingPolicy(policy: TeamingPolicy): TeamingPolicy {
  return { activeUplinks: [...policy.activeUplinks], standbyUplinks: [...policy.standbyUplinks], failback: policy.failback, notifySwitches: policy.notifySwitches };
}

export function teamingRole(policy: TeamingPolicy, uplink: string): TeamingRole {
  if (policy.activeUplinks.includes(uplink)) return "active";
  if (policy.standbyUplinks.includes(uplink)) return "standby";
  return "unused";
}

/**
 * The uplink that should carry a team's traffic: with failback off the current one is kept for as
 * long as it stays usable, otherwise the first usable uplink in order, actives before standbys.
 */
export function chooseUplink(policy: TeamingPolicy, current: string | undefined, usable: (uplink: string) => boolean): string | undefined {
  if (!policy.failback && current !== undefined && teamingRole(policy, current) !== "unused" && usable(current)) return current;
  for (const name of policy.activeUplinks) if (usable(name)) return name;
  for (const name of policy.standbyUplinks) if (usable(name)) return name;
  return undefined;
}

export function validateTeamingPolicy(policy: TeamingPolicy, attached: readonly string[]): void {
  const seen = new Set<string>();
  for (const name of [...policy.activeUplinks, ...policy.standbyUplinks]) {
    if (!attached.includes(name)) throw new Error(`uplink ${name} is not attached to this vSwitch`);
    if (seen.has(name)) throw new Error(`uplink ${name} is listed twice in the failover order`);
    seen.add(name);
  }
}
