import { formatIpv4, parseIpv4, parseNetmask, sameSubnet } from "../packets/ipv4-address.js";
import { formatMac, parseMac } from "../packets/mac-address.js";

/** A fixed address for one MAC (ESX admins' "static DHCP"); the client still asks for it by DHCP. */
export interface DhcpReservation {
  mac: string;
  ipAddress: string;
  hostName?: string;
}

/** What an administrator configures for the DHCP server of one port group. Addresses are dotted quads. */
export interface DhcpSettings {
  portGroup: string;
  /** The network number ("192.168.50.0") and its mask. */
  subnet: string;
  netmask: string;
  /** The dynamic pool, inclusive. */
  rangeStart: string;
  rangeEnd: string;
  /** The server's own address (its server identifier); default the subnet's last usable address. */
  serverAddress?: string;
  router?: string;
  dnsServers?: string[];
  domainName?: string;
  /** Default 3600 s. */
  leaseTimeS?: number;
  /** T1 and T2; default half and seven eighths of the lease (RFC 2131 4.4.5). */
  renewalTimeS?: number;
  rebindingTimeS?: number;
  reservations?: DhcpReservation[];
  /** The server's station MAC; default one derived from the host and port group names. */
  mac?: string;
}

/** Settings checked and turned into numbers, as the server uses them. */
export interface DhcpPool {
  portGroup: string;
  subnet: number;
  netmask: number;
  rangeStart: number;
  rangeEnd: number;
  serverAddress: number;
  router: number | undefined;
  dnsServers: number[];
  domainName: string | undefined;
  leaseTimeS: number;
  renewalTimeS: number;
  rebindingTimeS: number;
  reservations: Array<{ mac: string; ip: number; hostName: string | undefined }>;
  mac: Uint8Array | undefined;
}

const MAX_POOL_SIZE = 65536;
const MIN_LEASE_S = 60;
const MAX_LEASE_S = 0xfffffffe;
export const DEFAULT_LEASE_TIME_S = 3600;

export class DhcpSettingsError extends Error {
  constructor(
    readonly portGroup: string,
    readonly problems: string[],
  ) {
    super(`invalid DHCP settings for "${portGroup}":\n  - ${problems.join("\n  - ")}`);
  }
}

/** Validates everything at once, so an administrator sees every problem in one go. */
export function validateDhcpSettings(settings: DhcpSettings): DhcpPool {
  const problems: string[] = [];
  const address = (label: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    try {
      return parseIpv4(text);
    } catch {
      problems.push(`${label} "${text}" is not an IPv4 address`);
      return undefined;
    }
  };
  let netmask: number | undefined;
  try {
    netmask = parseNetmask(settings.netmask);
    if (netmask === 0 || netmask === 0xffffffff || netmask === 0xfffffffe) problems.push(`netmask ${settings.netmask} leaves no room for hosts`);
  } catch {
    problems.push(`netmask "${settings.netmask}" is not a contiguous mask`);
  }
  const subnet = address("subnet", settings.subnet);
  const start = address("rangeStart", settings.rangeStart);
  const end = address("rangeEnd", settings.rangeEnd);
  const router = address("router", settings.router);
  const dns = (settings.dnsServers ?? []).map((d, i) => address(`dnsServers[${i}]`, d));
  let server = address("serverAddress", settings.serverAddress);

  if (subnet !== undefined && netmask !== undefined) {
    if ((subnet & ~netmask) >>> 0 !== 0) problems.push(`subnet ${settings.subnet} has host bits set for netmask ${settings.netmask}`);
    const broadcast = (subnet | ~netmask) >>> 0;
    const usable = (label: string, ip: number | undefined) => {
      if (ip === undefined) return;
      if (!sameSubnet(ip, subnet, netmask!)) problems.push(`${label} ${formatIpv4(ip)} is outside ${settings.subnet}/${settings.netmask}`);
      else if (ip === subnet || ip === broadcast) problems.push(`${label} ${formatIpv4(ip)} is the subnet's network or broadcast address`);
    };
    usable("rangeStart", start);
    usable("rangeEnd", end);
    usable("router", router);
    server ??= (broadcast - 1) >>> 0;
    usable("serverAddress", server);
    if (start !== undefined && end !== undefined) {
      if (start > end) problems.push(`rangeStart ${settings.rangeStart} is above rangeEnd ${settings.rangeEnd}`);
      else if (end - start + 1 > MAX_POOL_SIZE) problems.push(`the range holds ${end - start + 1} addresses; at most ${MAX_POOL_SIZE}`);
      if (server >= start && server <= end) problems.push(`serverAddress ${formatIpv4(server)} lies inside the range ${settings.rangeStart}-${settings.rangeEnd}`);
    }
  }

  const lease = settings.leaseTimeS ?? DEFAULT_LEASE_TIME_S;
  if (!Number.isInteger(lease) || lease < MIN_LEASE_S || lease > MAX_LEASE_S) problems.push(`leaseTimeS ${lease} must be a whole number of seconds from ${MIN_LEASE_S} to ${MAX_LEASE_S}`);
  const renewal = settings.renewalTimeS ?? Math.floor(lease / 2);
  const rebinding = settings.rebindingTimeS ?? Math.floor((lease * 7) / 8);
  if (!Number.isInteger(renewal) || !Number.isInteger(rebinding) || !(renewal > 0 && renewal < rebinding && rebinding < lease)) {
    problems.push(`renewal (${renewal} s) and rebinding (${rebinding} s) times must satisfy 0 < T1 < T2 < lease (${lease} s)`);
  }

  let mac: Uint8Array | undefined;
  if (settings.mac !== undefined) {
    try {
      mac = parseMac(settings.mac);
      if (mac[0]! & 1) problems.push(`mac ${settings.mac} is a group address`);
    } catch {
      problems.push(`mac "${settings.mac}" is not a MAC address`);
    }
  }
  if (settings.domainName !== undefined && !/^[A-Za-z0-9.-]{1,253}$/.test(settings.domainName)) problems.push(`domainName "${settings.domainName}" is not a DNS name`);

  const reservations: DhcpPool["reservations"] = [];
  const reservedIps = new Set<number>();
  for (const [i, r] of (settings.reservations ?? []).entries()) {
    let reservedMac: string | undefined;
    try {
      reservedMac = formatMac(parseMac(r.mac));
    } catch {
      problems.push(`reservations[${i}].mac "${r.mac}" is not a MAC address`);
    }
    const ip = address(`reservations[${i}].ipAddress`, r.ipAddress);
    if (ip !== undefined && subnet !== undefined && netmask !== undefined && !sameSubnet(ip, subnet, netmask)) problems.push(`reservations[${i}].ipAddress ${r.ipAddress} is outside the subnet`);
    if (ip !== undefined && ip === server) problems.push(`reservations[${i}].ipAddress ${r.ipAddress} is the server's own address`);
    if (ip !== undefined && reservedIps.has(ip)) problems.push(`reservations[${i}].ipAddress ${r.ipAddress} is reserved twice`);
    if (reservedMac !== undefined && reservations.some((x) => x.mac === reservedMac)) problems.push(`reservations[${i}].mac ${reservedMac} is reserved twice`);
    if (reservedMac !== undefined && ip !== undefined) {
      reservedIps.add(ip);
      reservations.push({ mac: reservedMac, ip, hostName: r.hostName });
    }
  }

  if (problems.length > 0) throw new DhcpSettingsError(settings.portGroup, problems);
  return {
    portGroup: settings.portGroup,
    subnet: subnet!,
    netmask: netmask!,
    rangeStart: start!,
    rangeEnd: end!,
    serverAddress: server!,
    router,
    dnsServers: dns as number[],
    domainName: settings.domainName,
    leaseTimeS: lease,
    renewalTimeS: renewal,
    rebindingTimeS: rebinding,
    reservations,
    mac,
  };
}
