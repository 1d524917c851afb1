/** Sense data helpers of Linux's scsi_common.c. */

/** Bytes of sense data a scsi_cmnd carries (SCSI_SENSE_BUFFERSIZE). */
export const SCSI_SENSE_BUFFERSIZE = 96;

/**
 * Writes sense data with `key`/`asc`/`ascq` into `buf`: descriptor format (response code 0x72) when
 * `desc` is set, else fixed format (0x70).
 */
export function scsi_build_sense_buffer(desc: number | boolean, buf: Uint8Array, key: number, asc: number, ascq: number): void {
  buf.fill(0, 0, Math.min(buf.length, 18));
  if (desc) {
    buf[0] = 0x72;
    buf[1] = key & 0x0f;
    buf[2] = asc & 0xff;
    buf[3] = ascq & 0xff;
    buf[7] = 0;
  } else {
    buf[0] = 0x70;
    buf[2] = key & 0x0f;
    buf[7] = 0x0a;
    buf[12] = asc & 0xff;
    buf[13] = ascq & 0xff;
  }
}

/**
 * How many bytes of `buf` hold sense data: the header plus the additional length byte (both formats
 * keep it at byte 7), 0 when the response code is not a sense response.
 */
export function scsi_sense_length(buf: Uint8Array): number {
  const code = buf[0]! & 0x7f;
  if (code < 0x70 || code > 0x73) return 0;
  return Math.min(buf.length, 8 + buf[7]!);
}
