import { NOT_ARMED, PHY_REGISTERS } from "./state.js";
import { SPEED_10, SPEED_100, SPEED_1000 } from "./registers.js";

/** MDIO address of the internal PHY of the 82540/82545. */
export const PHY_ADDRESS = 1;

// IEEE 802.3 clause 22 registers and the Marvell 88E1011 vendor registers the 8254x drivers use.
export const PHY_BMCR = 0;
export const PHY_BMSR = 1;
export const PHY_ID1 = 2;
export const PHY_ID2 = 3;
export const PHY_ANAR = 4;
export const PHY_ANLPAR = 5;
export const PHY_ANER = 6;
export const PHY_NPTX = 7;
export const PHY_LPRNP = 8;
export const PHY_1000T_CTRL = 9;
export const PHY_1000T_STATUS = 10;
export const PHY_EXT_STATUS = 15;
export const M88_PHY_SPEC_CTRL = 16;
export const M88_PHY_SPEC_STATUS = 17;
export const M88_INT_ENABLE = 18;
export const M88_INT_STATUS = 19;
export const M88_EXT_PHY_SPEC_CTRL = 20;
export const M88_RX_ERR_CNTR = 21;
export const M88_LED_CTRL = 24;
export const M88_PAGE_SELECT = 29;
export const M88_PAGE_DATA = 30;

export const BMCR_SPEED_MSB = 1 << 6;
export const BMCR_FULL_DUPLEX = 1 << 8;
export const BMCR_RESTART_AN = 1 << 9;
export const BMCR_ISOLATE = 1 << 10;
export const BMCR_POWER_DOWN = 1 << 11;
export const BMCR_AN_ENABLE = 1 << 12;
export const BMCR_SPEED_LSB = 1 << 13;
export const BMCR_LOOPBACK = 1 << 14;
export const BMCR_RESET = 1 << 15;

export const BMSR_LINK = 1 << 2;
export const BMSR_AN_COMPLETE = 1 << 5;
/** Extended capability, AN ability, preamble suppression, extended status, 10/100 half/full. */
const BMSR_CAPABILITIES = 0x7949;

const M88E1011_ID1 = 0x0141;
const M88E1011_ID2 = 0x0c20;

const ANAR_10_HD = 1 << 5;
const ANAR_10_FD = 1 << 6;
const ANAR_100_HD = 1 << 7;
const ANAR_100_FD = 1 << 8;
const CTRL1000_HD = 1 << 8;
const CTRL1000_FD = 1 << 9;

/** What the far end advertises: a full-featured 1000BASE-T partner with symmetric and asymmetric pause. */
const PARTNER_ANLPAR = 0x4000 | 0x0c00 | 0x01e0 | 0x0001;
/** Local and remote receiver OK, partner 1000BASE-T full and half duplex. */
const PARTNER_1000T_STATUS = 0x3c00;

const PSSR_SPEED_SHIFT = 14;
const PSSR_DUPLEX = 1 << 13;
const PSSR_PAGE_RECEIVED = 1 << 12;
const PSSR_RESOLVED = 1 << 11;
const PSSR_LINK = 1 << 10;
const INT_STATUS_LINK_CHANGED = 1 << 10;
const INT_STATUS_AN_COMPLETED = 1 << 11;

interface PhyRegisterSpec {
  reset: number;
  writable: number;
}

const PHY_REGISTER_SPECS: Readonly<Record<number, PhyRegisterSpec>> = {
  [PHY_BMCR]: { reset: BMCR_AN_ENABLE | BMCR_FULL_DUPLEX | BMCR_SPEED_MSB, writable: 0xffc0 },
  [PHY_ID1]: { reset: M88E1011_ID1, writable: 0 },
  [PHY_ID2]: { reset: M88E1011_ID2, writable: 0 },
  [PHY_ANAR]: { reset: 0x01e1, writable: 0xbfff },
  [PHY_NPTX]: { reset: 0x2001, writable: 0xb7ff },
  [PHY_1000T_CTRL]: { reset: CTRL1000_FD | CTRL1000_HD, writable: 0xff00 },
  [PHY_EXT_STATUS]: { reset: 0x3000, writable: 0 },
  [M88_PHY_SPEC_CTRL]: { reset: 0x0068, writable: 0xffff },
  [M88_INT_ENABLE]: { reset: 0x0000, writable: 0xffff },
  [M88_EXT_PHY_SPEC_CTRL]: { reset: 0x0c60, writable: 0xffff },
  [M88_LED_CTRL]: { reset: 0x4100, writable: 0xffff },
  [M88_PAGE_SELECT]: { reset: 0x0000, writable: 0xffff },
  [M88_PAGE_DATA]: { reset: 0x0000, writable: 0xffff },
};

export interface PhyState {
  regs: Uint16Array;
  linkUp: boolean;
  /** BMSR link status latches low until read (802.3 22.2.4.2.13). */
  linkLatchedDown: boolean;
  autonegComplete: boolean;
  /** Link comes up (autonegotiation or forced-mode link pulse detection completes) at this time. */
  linkDeadline: number;
  /** Held in reset by CTRL.PHY_RST. */
  heldInReset: boolean;
  /** M88 interrupt status bits latched until read. */
  interruptStatus: number;
}

export function createPhyState(): PhyState {
  return {
    regs: new Uint16Array(PHY_REGISTERS),
    linkUp: false,
    linkLatchedDown: false,
    autonegComplete: false,
    linkDeadline: NOT_ARMED,
    heldInReset: false,
    interruptStatus: 0,
  };
}

export interface PhyHost {
  readonly carrier: boolean;
  now(): number;
  /** The stored linkDeadline changed: (re)arm or cancel the clock timer. */
  linkTimerChanged(): void;
  linkChanged(): void;
}

/** Marvell 88E1011 gigabit PHY as the 8254x's MDIO master sees it. */
export class Phy {
  constructor(
    private readonly state: PhyState,
    private readonly host: PhyHost,
    /** How long autonegotiation takes once a partner is present. */
    private readonly autonegotiationNs: number,
  ) {}

  /** Hardware or software reset: registers to defaults, link renegotiated. */
  reset(): void {
    const regs = this.state.regs;
    regs.fill(0);
    for (const [index, spec] of Object.entries(PHY_REGISTER_SPECS)) regs[Number(index)] = spec.reset;
    this.state.interruptStatus = 0;
    this.dropLink();
    this.cancelLinkTimer();
    this.state.autonegComplete = false;
    this.evaluate();
  }

  setHeldInReset(held: boolean): void {
    if (held === this.state.heldInReset) return;
    this.state.heldInReset = held;
    if (held) {
      this.dropLink();
      this.cancelLinkTimer();
    } else {
      this.reset();
    }
  }

  /** Carrier from the medium, or a register change that may bring the link up or down. */
  evaluate(): void {
    const state = this.state;
    const bmcr = state.regs[PHY_BMCR]!;
    const canLink = this.host.carrier && !state.heldInReset && !(bmcr & BMCR_POWER_DOWN) && this.resolvedSpeed() >= 0;
    if (!canLink) {
      this.dropLink();
      this.cancelLinkTimer();
      return;
    }
    if (state.linkUp || state.linkDeadline !== NOT_ARMED) return;
    state.linkDeadline = this.host.now() + (bmcr & BMCR_AN_ENABLE ? this.autonegotiationNs : this.autonegotiationNs / 4);
    this.host.linkTimerChanged();
  }

  /** The link timer expired: autonegotiation (or forced-mode link detection) completed. */
  linkTimerExpired(): void {
    const state = this.state;
    state.linkDeadline = NOT_ARMED;
    if (!this.host.carrier || state.heldInReset || state.linkUp) return;
    const autoneg = (state.regs[PHY_BMCR]! & BMCR_AN_ENABLE) !== 0;
    state.autonegComplete = autoneg;
    state.linkUp = true;
    state.interruptStatus |= INT_STATUS_LINK_CHANGED | (autoneg ? INT_STATUS_AN_COMPLETED : 0);
    this.host.linkChanged();
  }

  get linkUp(): boolean {
    return this.state.linkUp;
  }

  get loopback(): boolean {
    return (this.state.regs[PHY_BMCR]! & BMCR_LOOPBACK) !== 0;
  }

  /** STATUS.SPEED encoding of the resolved speed (1000 when nothing is resolved yet). */
  get speedCode(): number {
    const speed = this.resolvedSpeed();
    return speed < 0 ? SPEED_1000 : speed;
  }

  get fullDuplex(): boolean {
    const regs = this.state.regs;
    if (!(regs[PHY_BMCR]! & BMCR_AN_ENABLE)) return (regs[PHY_BMCR]! & BMCR_FULL_DUPLEX) !== 0;
    if (regs[PHY_1000T_CTRL]! & (CTRL1000_FD | CTRL1000_HD)) return (regs[PHY_1000T_CTRL]! & CTRL1000_FD) !== 0;
    if (regs[PHY_ANAR]! & (ANAR_100_FD | ANAR_100_HD)) return (regs[PHY_ANAR]! & ANAR_100_FD) !== 0;
    return (regs[PHY_ANAR]! & ANAR_10_FD) !== 0;
  }

  read(register: number): number {
    const state = this.state;
    const regs = state.regs;
    const negotiated = state.linkUp && state.autonegComplete;
    switch (register) {
      case PHY_BMSR: {
        const link = state.linkUp && !state.linkLatchedDown;
        state.linkLatchedDown = false;
        return BMSR_CAPABILITIES | (link ? BMSR_LINK : 0) | (state.autonegComplete ? BMSR_AN_COMPLETE : 0);
      }
      case PHY_ANLPAR:
        return negotiated ? PARTNER_ANLPAR : 0;
      case PHY_ANER:
        return negotiated ? 0x0005 : 0x0004;
      case PHY_1000T_STATUS:
        return negotiated ? PARTNER_1000T_STATUS : 0;
      case M88_PHY_SPEC_STATUS: {
        if (!state.linkUp) return 0;
        return (
          (this.speedCode << PSSR_SPEED_SHIFT) |
          (this.fullDuplex ? PSSR_DUPLEX : 0) |
          (state.autonegComplete ? PSSR_PAGE_RECEIVED : 0) |
          PSSR_RESOLVED |
          PSSR_LINK
        );
      }
      case M88_INT_STATUS: {
        const value = state.interruptStatus;
        state.interruptStatus = 0;
        return value;
      }
      default:
        return register < PHY_REGISTERS ? regs[register]! : 0;
    }
  }

  write(register: number, value: number): void {
    const spec = PHY_REGISTER_SPECS[register];
    if (!spec || spec.writable === 0) return;
    const regs = this.state.regs;
    if (register === PHY_BMCR) {
      this.writeControl(value & 0xffff);
      return;
    }
    regs[register] = (regs[register]! & ~spec.writable) | (value & spec.writable);
  }

  private writeControl(value: number): void {
    if (value & BMCR_RESET) {
      this.reset();
      return;
    }
    const regs = this.state.regs;
    const before = regs[PHY_BMCR]!;
    regs[PHY_BMCR] = value & PHY_REGISTER_SPECS[PHY_BMCR]!.writable & ~BMCR_RESTART_AN;
    const changed = before ^ regs[PHY_BMCR]!;
    const renegotiate =
      (value & BMCR_RESTART_AN && value & BMCR_AN_ENABLE) ||
      changed & (BMCR_AN_ENABLE | BMCR_POWER_DOWN) ||
      (!(value & BMCR_AN_ENABLE) && changed & (BMCR_SPEED_LSB | BMCR_SPEED_MSB | BMCR_FULL_DUPLEX));
    if (renegotiate) {
      this.dropLink();
      this.state.autonegComplete = false;
      this.cancelLinkTimer();
    }
    this.evaluate();
  }

  /** Speed code both ends agree on, or -1 when the advertisements share nothing. */
  private resolvedSpeed(): number {
    const regs = this.state.regs;
    const bmcr = regs[PHY_BMCR]!;
    if (!(bmcr & BMCR_AN_ENABLE)) {
      if (bmcr & BMCR_SPEED_MSB) return SPEED_1000;
      return bmcr & BMCR_SPEED_LSB ? SPEED_100 : SPEED_10;
    }
    if (regs[PHY_1000T_CTRL]! & (CTRL1000_FD | CTRL1000_HD)) return SPEED_1000;
    if (regs[PHY_ANAR]! & (ANAR_100_FD | ANAR_100_HD)) return SPEED_100;
    if (regs[PHY_ANAR]! & (ANAR_10_FD | ANAR_10_HD)) return SPEED_10;
    return -1;
  }

  private dropLink(): void {
    const state = this.state;
    if (!state.linkUp) return;
    state.linkUp = false;
    state.linkLatchedDown = true;
    state.autonegComplete = false;
    state.interruptStatus |= INT_STATUS_LINK_CHANGED;
    this.host.linkChanged();
  }

  private cancelLinkTimer(): void {
    if (this.state.linkDeadline === NOT_ARMED) return;
    this.state.linkDeadline = NOT_ARMED;
    this.host.linkTimerChanged();
  }
}
