import type { Clock } from "../clock/clock.js";
import { describeError } from "../exec/execution-domain.js";
import type { KernelLog } from "../log/kernel-log.js";
import { MacTable } from "./mac-table.js";
import { ArpOperation, encodeArp } from "./packets/arp.js";
import { ETHERNET_HEADER_LENGTH, EtherType, buildEthernetFrame } from "./packets/ethernet.js";
import { BROADCAST_MAC, copyMac, formatMac, macHigh, macLow } from "./packets/mac-address.js";
import { VLAN_TAG_LENGTH, insertVlanTag, stripVlanTag, vlanIdOf } from "./packets/vlan-tag.js";
import { PortGroup, VLAN_TRUNK, validateVlanId } from "./port-group.js";
import { SwitchUplink, type UplinkIngress } from "./switch-uplink.js";
import { chooseUplink, copyTeamingPolicy, defaultTeamingPolicy, validateTeamingPolicy, type TeamingPolicy } from "./teaming-policy.js";
import type { UplinkHandle } from "./uplink-handle.js";
import { VirtualPort, type PortClient, type PortClientType, type PortOwner } from "./virtual-port.js";

const LOG_SOURCE = "net";
/** ESX ages MAC addresses learned from the physical network after 300 s. */
export const REMOTE_MAC_AGING_NS = 300e9;
const REMOTE_MAC_CAPACITY = 4096;

export interface VirtualSwitchOptions {
  name: string;
  /** Orders port ID ranges: vSwitch0's ports are 0x2000001..., vSwitch1's 0x3000001... */
  index: number;
  mtu?: number;
  numPorts?: number;
}

export interface RemoteMacEntry {
  mac: string;
  vlanId: number;
  uplink: string;
  ageNs: number;
}

/**
 * An ESX standard vSwitch. It knows the MAC of every port it owns and never learns them; it learns
 * only which MACs sit behind its uplinks. Frames from a port go to the addressed port, or out of the
 * port group's one active uplink; broadcasts and multicasts reach every other port in the VLAN and
 * that uplink. Frames from an uplink go only to ports (never to another uplink) and only to ports
 * whose active uplink it is: a standby uplink's traffic is ignored, so a flood returning from the
 * physical network is never delivered twice. VLAN tags are added and removed at the port group edge.
 */
export class VirtualSwitch implements PortOwner, UplinkIngress {
  readonly name: string;
  readonly index: number;
  readonly numPorts: number;
  readonly portGroups = new Map<string, PortGroup>();
  readonly uplinks: SwitchUplink[] = [];
  private mtuBytes: number;
  private maxFrameLength: number;
  private teamingPolicy: TeamingPolicy = defaultTeamingPolicy();
  /** Connected ports, replaced (never mutated) on change so a flood in progress iterates a stable list. */
  private ports: readonly VirtualPort[] = [];
  /** Indexed by slot; the MAC table stores slots. */
  private readonly portBySlot: (VirtualPort | undefined)[] = [];
  private readonly slotsInUse: boolean[] = [];
  private readonly portsByMac = new MacTable();
  /** (VLAN << 16 | MAC high, MAC low) → uplink slot, stamped with the time last seen. */
  private readonly remoteMacs = new MacTable();
  private nextUplinkId = 0;

  constructor(
    options: VirtualSwitchOptions,
    private readonly clock: Clock,
    private readonly log: KernelLog,
  ) {
    this.name = options.name;
    this.index = options.index;
    this.numPorts = options.numPorts ?? 128;
    this.mtuBytes = 1500;
    this.maxFrameLength = 0;
    this.setMtu(options.mtu ?? 1500);
  }

  get mtu(): number {
    return this.mtuBytes;
  }

  setMtu(mtu: number): void {
    if (!Number.isInteger(mtu) || mtu < 1280 || mtu > 9000) throw new Error(`MTU must be 1280-9000, got ${mtu}`);
    this.mtuBytes = mtu;
    this.maxFrameLength = mtu + ETHERNET_HEADER_LENGTH + VLAN_TAG_LENGTH;
  }

  get teaming(): TeamingPolicy {
    return copyTeamingPolicy(this.teamingPolicy);
  }

  get usedPorts(): number {
    return this.slotsInUse.filter(Boolean).length;
  }

  connectedPorts(): readonly VirtualPort[] {
    return this.ports;
  }

  // ---- configuration ----

  addPortGroup(name: string, vlanId: number): PortGroup {
    if (this.portGroups.has(name)) throw new Error(`port group "${name}" already exists on ${this.name}`);
    const group = new PortGroup(name, vlanId);
    this.portGroups.set(name, group);
    this.refreshTeams("port group added");
    return group;
  }

  removePortGroup(name: string): void {
    this.portGroupNamed(name);
    const inUse = this.ports.filter((p) => p.portGroup.name === name);
    if (inUse.length > 0) throw new Error(`port group "${name}" is in use by ${inUse.map((p) => p.clientName).join(", ")}`);
    this.portGroups.delete(name);
  }

  setPortGroupVlan(name: string, vlanId: number): void {
    validateVlanId(vlanId);
    const group = this.portGroupNamed(name);
    group.vlanId = vlanId;
    for (const port of this.ports) if (port.portGroup === group) port.adoptVlanPolicy();
  }

  portGroupNamed(name: string): PortGroup {
    const group = this.portGroups.get(name);
    if (!group) throw new Error(`no port group "${name}" on ${this.name}`);
    return group;
  }

  /** Adds an uplink by name as the last active one, as ESX does; the device may register later. */
  addUplink(name: string, handle: UplinkHandle | undefined): SwitchUplink {
    if (this.uplinks.some((u) => u.name === name)) throw new Error(`${name} is already an uplink of ${this.name}`);
    const uplink = new SwitchUplink(this, name, this.nextUplinkId++, this.allocateSlot());
    this.uplinks.push(uplink);
    this.teamingPolicy.activeUplinks.push(name);
    if (handle) this.claim(uplink, handle);
    this.refreshTeams(`${name} added`);
    return uplink;
  }

  removeUplink(name: string): void {
    const uplink = this.uplinkNamed(name);
    if (uplink.handle) this.release(uplink, true);
    this.uplinks.splice(this.uplinks.indexOf(uplink), 1);
    this.slotsInUse[uplink.slot] = false;
    const forget = (policy: TeamingPolicy) => {
      policy.activeUplinks = policy.activeUplinks.filter((n) => n !== name);
      policy.standbyUplinks = policy.standbyUplinks.filter((n) => n !== name);
    };
    forget(this.teamingPolicy);
    for (const group of this.portGroups.values()) if (group.teamingOverride) forget(group.teamingOverride);
    this.refreshTeams(`${name} removed`);
  }

  uplinkNamed(name: string): SwitchUplink {
    const uplink = this.uplinks.find((u) => u.name === name);
    if (!uplink) throw new Error(`${name} is not an uplink of ${this.name}`);
    return uplink;
  }

  hasUplink(name: string): boolean {
    return this.uplinks.some((u) => u.name === name);
  }

  setTeaming(policy: TeamingPolicy): void {
    validateTeamingPolicy(policy, this.uplinks.map((u) => u.name));
    this.teamingPolicy = copyTeamingPolicy(policy);
    this.refreshTeams("teaming policy changed");
  }

  /** Undefined restores the vSwitch's policy for the group. */
  setPortGroupTeaming(name: string, policy: TeamingPolicy | undefined): void {
    const group = this.portGroupNamed(name);
    if (policy) validateTeamingPolicy(policy, this.uplinks.map((u) => u.name));
    group.teamingOverride = policy ? copyTeamingPolicy(policy) : undefined;
    this.refreshTeams(`teaming of "${name}" changed`);
  }

  effectiveTeaming(group: PortGroup): TeamingPolicy {
    return group.teamingOverride ?? this.teamingPolicy;
  }

  /** The device behind a configured uplink registered. */
  claim(uplink: SwitchUplink, handle: UplinkHandle): void {
    uplink.handle = handle;
    handle.consumer = uplink;
    this.guardDriverCall(handle, "set promiscuous mode", () => handle.uplink.setPromiscuous(true));
    this.refreshTeams(`${uplink.name} present`);
  }

  /** The device behind an uplink went away (or the uplink is being removed from the switch). */
  release(uplink: SwitchUplink, stillRegistered: boolean): void {
    const handle = uplink.handle;
    if (!handle) return;
    uplink.handle = undefined;
    handle.consumer = undefined;
    if (stillRegistered && handle.registered) this.guardDriverCall(handle, "clear promiscuous mode", () => handle.uplink.setPromiscuous(false));
    this.remoteMacs.deleteWhere((_h, _l, slot) => slot === uplink.slot);
    this.refreshTeams(`${uplink.name} ${stillRegistered ? "removed" : "gone"}`);
  }

  connectPort(groupName: string, clientName: string, clientType: PortClientType, mac: Uint8Array, client: PortClient): VirtualPort {
    const group = this.portGroupNamed(groupName);
    const bytes = copyMac(mac);
    if (bytes[0]! & 1) throw new Error(`${formatMac(bytes)} is a group address, not a station MAC`);
    this.assertMacFree(bytes, undefined);
    const slot = this.allocateSlot();
    const port = new VirtualPort(this, group, this.portId(slot), slot, clientName, clientType, bytes, client);
    this.portBySlot[slot] = port;
    this.portsByMac.set(port.macHigh, port.macLow, slot);
    this.ports = [...this.ports, port];
    this.log.debug(LOG_SOURCE, `${this.name}: port ${port.id} connected to "${group.name}" for ${clientName} (${port.macText})`);
    return port;
  }

  disconnectPort(port: VirtualPort): void {
    if (!port.connected || this.portBySlot[port.slot] !== port) return;
    port.connected = false;
    this.portsByMac.delete(port.macHigh, port.macLow);
    this.portBySlot[port.slot] = undefined;
    this.slotsInUse[port.slot] = false;
    this.ports = this.ports.filter((p) => p !== port);
    this.log.debug(LOG_SOURCE, `${this.name}: port ${port.id} (${port.clientName}) disconnected`);
  }

  changePortMac(port: VirtualPort, mac: Uint8Array): void {
    const bytes = copyMac(mac);
    if (bytes[0]! & 1) throw new Error(`${formatMac(bytes)} is a group address, not a station MAC`);
    this.assertMacFree(bytes, port);
    this.portsByMac.delete(port.macHigh, port.macLow);
    port.adoptMac(bytes);
    this.portsByMac.set(port.macHigh, port.macLow, port.slot);
  }

  remoteMacTable(): RemoteMacEntry[] {
    const now = this.clock.now();
    this.ageRemoteMacs(now);
    const entries: RemoteMacEntry[] = [];
    this.remoteMacs.forEach((high, low, slot, seen) => {
      const uplink = this.uplinks.find((u) => u.slot === slot);
      const mac = new Uint8Array([(high >>> 8) & 0xff, high & 0xff, low >>> 24, (low >>> 16) & 0xff, (low >>> 8) & 0xff, low & 0xff]);
      entries.push({ mac: formatMac(mac), vlanId: high >>> 16, uplink: uplink?.name ?? "?", ageNs: now - seen });
    });
    return entries.sort((a, b) => a.vlanId - b.vlanId || a.mac.localeCompare(b.mac));
  }

  // ---- forwarding ----

  forwardFromPort(port: VirtualPort, frame: Uint8Array): boolean {
    const stats = port.stats;
    const length = frame.length;
    if (!port.connected || length < ETHERNET_HEADER_LENGTH || length > this.maxFrameLength) {
      stats.txDrops++;
      return false;
    }
    let tagged = frame[12] === 0x81 && frame[13] === 0x00;
    let vlan: number;
    if (port.trunk) {
      vlan = tagged ? vlanIdOf(frame) : 0;
      if (vlan === VLAN_TRUNK) {
        stats.txDrops++;
        return false;
      }
      if (tagged && vlan === 0) {
        frame = stripVlanTag(frame);
        tagged = false;
      }
    } else {
      // Outside VGT the switch owns tagging: a guest-tagged frame is dropped, as ESX does.
      if (tagged) {
        stats.txDrops++;
        return false;
      }
      vlan = port.vlanId;
    }

    if ((frame[0]! & 1) !== 0) {
      stats.txPackets++;
      stats.txBytes += length;
      if (frame[0] === 0xff && macHigh(frame, 0) === 0xffff && macLow(frame, 0) === 0xffffffff) stats.txBroadcast++;
      else stats.txMulticast++;
      this.floodFromPort(port, frame, vlan, tagged);
      return true;
    }

    const slot = this.portsByMac.get(macHigh(frame, 0), macLow(frame, 0));
    if (slot >= 0) {
      const target = this.portBySlot[slot]!;
      if (target === port) {
        stats.txDrops++;
        return false;
      }
      if (target.trunk || target.vlanId === vlan) {
        stats.txPackets++;
        stats.txBytes += length;
        this.deliver(target, target.trunk && vlan !== 0 ? (tagged ? frame : insertVlanTag(frame, vlan)) : tagged ? stripVlanTag(frame) : frame);
        return true;
      }
    }

    const uplink = port.portGroup.activeUplink;
    if (uplink === undefined || !this.sendToUplink(uplink, vlan !== 0 && !tagged ? insertVlanTag(frame, vlan) : frame)) {
      stats.txDrops++;
      return false;
    }
    stats.txPackets++;
    stats.txBytes += length;
    return true;
  }

  receiveFromUplink(uplink: SwitchUplink, frame: Uint8Array): void {
    const wire = uplink.stats;
    const length = frame.length;
    if (length < ETHERNET_HEADER_LENGTH || length > this.maxFrameLength) {
      wire.rxDrops++;
      return;
    }
    wire.rxPackets++;
    wire.rxBytes += length;
    const group = (frame[0]! & 1) !== 0;
    if (group) {
      if (macHigh(frame, 0) === 0xffff && macLow(frame, 0) === 0xffffffff) wire.rxBroadcast++;
      else wire.rxMulticast++;
    }

    let tagged = frame[12] === 0x81 && frame[13] === 0x00;
    let vlan = 0;
    if (tagged) {
      vlan = vlanIdOf(frame);
      if (vlan === VLAN_TRUNK) {
        wire.rxDrops++;
        return;
      }
      if (vlan === 0) {
        frame = stripVlanTag(frame);
        tagged = false;
      }
    }

    const sourceHigh = macHigh(frame, 6);
    const sourceLow = macLow(frame, 6);
    if (this.portsByMac.get(sourceHigh, sourceLow) >= 0) {
      uplink.loopDrops++;
      wire.rxDrops++;
      return;
    }
    if ((frame[6]! & 1) === 0) this.learnRemote(((vlan << 16) | sourceHigh) >>> 0, sourceLow, uplink.slot);

    if (group) {
      this.floodFromUplink(uplink, frame, vlan, tagged);
      return;
    }
    const slot = this.portsByMac.get(macHigh(frame, 0), macLow(frame, 0));
    if (slot < 0) {
      uplink.unknownUnicast++;
      return;
    }
    const target = this.portBySlot[slot]!;
    if (target.portGroup.activeUplink !== uplink) {
      uplink.standbyIgnored++;
      return;
    }
    if (target.trunk) this.deliver(target, frame);
    else if (target.vlanId === vlan) this.deliver(target, tagged ? stripVlanTag(frame) : frame);
    else wire.rxDrops++;
  }

  private floodFromPort(source: VirtualPort, frame: Uint8Array, vlan: number, tagged: boolean): void {
    let untaggedForm = tagged ? undefined : frame;
    let taggedForm = tagged ? frame : undefined;
    const ports = this.ports;
    for (let i = 0; i < ports.length; i++) {
      const port = ports[i]!;
      if (port === source || !(port.trunk || port.vlanId === vlan)) continue;
      if (port.trunk && vlan !== 0) this.deliver(port, (taggedForm ??= insertVlanTag(untaggedForm!, vlan)));
      else this.deliver(port, (untaggedForm ??= stripVlanTag(taggedForm!)));
    }
    const uplink = source.portGroup.activeUplink;
    if (uplink !== undefined) this.sendToUplink(uplink, vlan !== 0 ? (taggedForm ??= insertVlanTag(untaggedForm!, vlan)) : untaggedForm!);
  }

  private floodFromUplink(uplink: SwitchUplink, frame: Uint8Array, vlan: number, tagged: boolean): void {
    let untaggedForm = tagged ? undefined : frame;
    const ports = this.ports;
    let heard = false;
    for (let i = 0; i < ports.length; i++) {
      const port = ports[i]!;
      if (!(port.trunk || port.vlanId === vlan)) continue;
      if (port.portGroup.activeUplink !== uplink) continue;
      heard = true;
      this.deliver(port, port.trunk ? frame : (untaggedForm ??= stripVlanTag(frame)));
    }
    if (!heard && this.anyPortInVlanElsewhere(uplink, vlan)) uplink.standbyIgnored++;
  }

  private anyPortInVlanElsewhere(uplink: SwitchUplink, vlan: number): boolean {
    for (const port of this.ports) if ((port.trunk || port.vlanId === vlan) && port.portGroup.activeUplink !== uplink) return true;
    return false;
  }

  private deliver(port: VirtualPort, frame: Uint8Array): void {
    const stats = port.stats;
    if (port.client.receive(frame) === false) {
      stats.rxDrops++;
      return;
    }
    stats.rxPackets++;
    stats.rxBytes += frame.length;
    if ((frame[0]! & 1) !== 0) {
      if (macHigh(frame, 0) === 0xffff && macLow(frame, 0) === 0xffffffff) stats.rxBroadcast++;
      else stats.rxMulticast++;
    }
  }

  private sendToUplink(uplink: SwitchUplink, frame: Uint8Array): boolean {
    const wire = uplink.stats;
    const handle = uplink.handle;
    if (handle === undefined || !handle.uplink.transmit(frame)) {
      wire.txDrops++;
      return false;
    }
    wire.txPackets++;
    wire.txBytes += frame.length;
    if ((frame[0]! & 1) !== 0) {
      if (macHigh(frame, 0) === 0xffff && macLow(frame, 0) === 0xffffffff) wire.txBroadcast++;
      else wire.txMulticast++;
    }
    return true;
  }

  private learnRemote(high: number, low: number, slot: number): void {
    const now = this.clock.now();
    if (this.remoteMacs.size >= REMOTE_MAC_CAPACITY && this.remoteMacs.get(high, low) < 0) {
      this.ageRemoteMacs(now);
      if (this.remoteMacs.size >= REMOTE_MAC_CAPACITY) return;
    }
    this.remoteMacs.set(high, low, slot, now);
  }

  private ageRemoteMacs(now: number): void {
    this.remoteMacs.deleteWhere((_h, _l, _slot, seen) => now - seen > REMOTE_MAC_AGING_NS);
  }

  // ---- teaming ----

  /** Chooses each port group's carrying uplink again after anything that could change it. */
  refreshTeams(reason: string): void {
    for (const group of this.portGroups.values()) {
      const previous = group.activeUplink;
      const chosenName = chooseUplink(this.effectiveTeaming(group), previous?.name, (name) => this.uplinks.find((u) => u.name === name)?.handle?.usable === true);
      const chosen = chosenName === undefined ? undefined : this.uplinkNamed(chosenName);
      if (chosen === previous) continue;
      group.activeUplink = chosen;
      if (chosen) {
        this.log.info(LOG_SOURCE, `${this.name}: port group "${group.name}" now uses ${chosen.name}${previous ? ` instead of ${previous.name}` : ""} (${reason})`);
        if (this.effectiveTeaming(group).notifySwitches) this.notifySwitches(group, chosen);
      } else if (previous) {
        this.log.warn(LOG_SOURCE, `${this.name}: port group "${group.name}" lost its last uplink ${previous.name} (${reason})`);
      }
    }
  }

  /** RARPs from every port of the group out of its new uplink, so the physical switches move their entries. */
  private notifySwitches(group: PortGroup, uplink: SwitchUplink): void {
    for (const port of this.ports) {
      if (port.portGroup !== group) continue;
      const mac = port.mac;
      const rarp = buildEthernetFrame(BROADCAST_MAC, mac, EtherType.RARP, encodeArp({ operation: ArpOperation.ReverseRequest, senderMac: mac, senderIp: 0, targetMac: mac, targetIp: 0 }));
      this.sendToUplink(uplink, group.vlanId !== 0 && !group.trunk ? insertVlanTag(rarp, group.vlanId) : rarp);
    }
  }

  // ---- helpers ----

  private allocateSlot(): number {
    let slot = this.slotsInUse.indexOf(false);
    if (slot < 0) slot = this.slotsInUse.length;
    if (slot >= this.numPorts) throw new Error(`${this.name} has no free port (${this.numPorts} in use)`);
    this.slotsInUse[slot] = true;
    return slot;
  }

  /** ESX numbering: the switch index plus 2 in the top byte, the slot plus 1 below. */
  portId(slot: number): number {
    return (this.index + 2) * 0x1000000 + slot + 1;
  }

  private assertMacFree(mac: Uint8Array, except: VirtualPort | undefined): void {
    const slot = this.portsByMac.get(macHigh(mac, 0), macLow(mac, 0));
    if (slot >= 0 && this.portBySlot[slot] !== except) throw new Error(`MAC ${formatMac(mac)} is already in use on ${this.name} by ${this.portBySlot[slot]!.clientName}`);
  }

  private guardDriverCall(handle: UplinkHandle, what: string, call: () => void): void {
    try {
      call();
    } catch (error) {
      this.log.error(LOG_SOURCE, `${handle.name}: ${what} failed: ${describeError(error)}`);
    }
  }
}
