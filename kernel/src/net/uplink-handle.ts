import type { NetUplink, RegisteredUplink, UplinkEvents, UplinkLinkState } from "./uplink.js";

/** Whatever consumes an uplink's traffic: the vSwitch it is attached to. */
export interface UplinkConsumer {
  receiveFromUplink(frame: Uint8Array): void;
}

/**
 * A registered uplink (vmnicN). The driver calls `events` from its receive path and link interrupt;
 * frames go straight to the consuming vSwitch without any lookup.
 */
export class UplinkHandle implements RegisteredUplink, UplinkEvents {
  readonly events: UplinkEvents = this;
  consumer: UplinkConsumer | undefined;
  registered = true;
  /** Frames received while no vSwitch consumed the uplink (or after it was unregistered). */
  unclaimedFrames = 0;
  private linkState: UplinkLinkState;

  constructor(
    readonly name: string,
    readonly uplink: NetUplink,
    private readonly onLinkChange: (handle: UplinkHandle, previous: UplinkLinkState) => void,
  ) {
    this.linkState = readLink(uplink);
  }

  get link(): UplinkLinkState {
    return this.linkState;
  }

  /** Present, open, and its PHY reports link: the uplink can carry a team's traffic. */
  get usable(): boolean {
    return this.registered && this.linkState.up && this.uplink.isOpen;
  }

  receive(frame: Uint8Array): void {
    const consumer = this.consumer;
    if (consumer !== undefined && this.registered) consumer.receiveFromUplink(frame);
    else this.unclaimedFrames++;
  }

  linkChanged(state: UplinkLinkState): void {
    if (!this.registered) return;
    this.applyLink({ up: state.up, speedMbps: state.up ? state.speedMbps : 0, fullDuplex: state.fullDuplex });
  }

  /** Re-reads the link from the device, for drivers that report link only through link(). */
  refreshLink(): void {
    if (this.registered) this.applyLink(readLink(this.uplink));
  }

  private applyLink(next: UplinkLinkState): void {
    const previous = this.linkState;
    if (previous.up === next.up && previous.speedMbps === next.speedMbps && previous.fullDuplex === next.fullDuplex) return;
    this.linkState = next;
    this.onLinkChange(this, previous);
  }
}

function readLink(uplink: NetUplink): UplinkLinkState {
  const state = uplink.link();
  return { up: state.up, speedMbps: state.up ? state.speedMbps : 0, fullDuplex: state.fullDuplex };
}
