import { createHash } from "node:crypto";

/** What a logical unit says it is. Everything not given derives from `name`, so it is the same on every path and every run. */
export interface LogicalUnitIdentity {
  /** Stable, unique name of the LU in its array, such as "array1/lun7". */
  name: string;
  /** T10 vendor identification, 8 ASCII characters (padded). */
  vendor?: string;
  /** Product identification, 16 ASCII characters (padded). */
  product?: string;
  /** Product revision level, 4 ASCII characters (padded). */
  revision?: string;
  /** Unit serial number (VPD page 80h). */
  serial?: string;
  /** The 24-bit IEEE company ID in the NAA identifier. */
  ieeeCompanyId?: number;
}

export const DEFAULT_VENDOR = "VMK";
export const DEFAULT_PRODUCT = "Virtual LUN";
export const DEFAULT_REVISION = "1.0";
/** VMware's OUI, as ESX uses for its virtual disks (naa.6000c29…): tools written for ESX recognise it. */
export const DEFAULT_IEEE_COMPANY_ID = 0x000c29;

export interface ResolvedIdentity {
  vendor: string;
  product: string;
  revision: string;
  serial: string;
  /** NAA IEEE Registered Extended designator, 16 bytes. */
  naa: Uint8Array;
}

export function resolveIdentity(identity: LogicalUnitIdentity): ResolvedIdentity {
  const digest = createHash("sha256").update(`vmk logical unit\0${identity.name}`).digest();
  return {
    vendor: identity.vendor ?? DEFAULT_VENDOR,
    product: identity.product ?? DEFAULT_PRODUCT,
    revision: identity.revision ?? DEFAULT_REVISION,
    serial: identity.serial ?? digest.subarray(16, 26).toString("hex").toUpperCase(),
    naa: naaRegisteredExtended(identity.ieeeCompanyId ?? DEFAULT_IEEE_COMPANY_ID, digest.subarray(0, 13)),
  };
}

/**
 * NAA 6 (IEEE Registered Extended, SPC-3 7.6.3.6.5): the NAA nibble, the 24-bit company ID, then a
 * 36-bit vendor-specific identifier and a 64-bit extension, taken here from `vendorBits`.
 */
export function naaRegisteredExtended(companyId: number, vendorBits: Uint8Array): Uint8Array {
  if (!Number.isInteger(companyId) || companyId < 0 || companyId > 0xffffff) throw new RangeError(`IEEE company ID must be 24 bits (got ${companyId})`);
  if (vendorBits.length < 13) throw new RangeError("NAA 6 needs 100 vendor-specific bits (13 bytes)");
  const naa = new Uint8Array(16);
  naa[0] = 0x60 | (companyId >>> 20);
  naa[1] = companyId >>> 12;
  naa[2] = companyId >>> 4;
  naa[3] = ((companyId & 0xf) << 4) | (vendorBits[0]! & 0xf);
  naa.set(vendorBits.subarray(1, 13), 4);
  return naa;
}

/** The identifier as hosts print it: "naa." and 32 lower-case hex digits. */
export function formatNaa(naa: Uint8Array): string {
  return `naa.${Buffer.from(naa).toString("hex")}`;
}
