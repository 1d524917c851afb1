// The cpio "newc" (SVR4 without CRC) archive format the Linux kernel unpacks as an initramfs
// (Documentation/driver-api/early-userspace/buffer-format.rst): a 110-byte ASCII header of
// "070701" and 13 eight-digit hex fields, the NUL-terminated name, the data, each padded to 4 bytes,
// and a final entry named "TRAILER!!!".

export const NEWC_MAGIC = "070701";
export const NEWC_HEADER_SIZE = 110;
export const TRAILER_NAME = "TRAILER!!!";

export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const S_IFCHR = 0o020000;

const FIELDS = ["ino", "mode", "uid", "gid", "nlink", "mtime", "filesize", "devmajor", "devminor", "rdevmajor", "rdevminor", "namesize", "check"];

const pad4 = (n) => (4 - (n % 4)) % 4;

/**
 * Writes a newc archive in memory. Entries keep the order they are added in: the kernel creates each
 * path as it reads it, so parents must come before their children.
 */
export class CpioNewcWriter {
  #chunks = [];
  #nextInode = 1;
  #finished = false;

  /** @param {{ mtime?: number }} [options] mtime in seconds, 0 by default for reproducible archives */
  constructor(options = {}) {
    this.mtime = options.mtime ?? 0;
  }

  directory(path, mode = 0o755) {
    return this.#entry(path, S_IFDIR | mode, new Uint8Array(0), { nlink: 2 });
  }

  /** @param {Uint8Array | string} data */
  file(path, data, mode = 0o644) {
    return this.#entry(path, S_IFREG | mode, typeof data === "string" ? new TextEncoder().encode(data) : data);
  }

  symlink(path, target) {
    return this.#entry(path, S_IFLNK | 0o777, new TextEncoder().encode(target));
  }

  characterDevice(path, major, minor, mode = 0o600) {
    return this.#entry(path, S_IFCHR | mode, new Uint8Array(0), { rdevmajor: major, rdevminor: minor });
  }

  /** Appends the trailer and returns the archive. */
  finish() {
    if (!this.#finished) {
      this.#entry(TRAILER_NAME, 0, new Uint8Array(0), { ino: 0, nlink: 1 });
      this.#finished = true;
    }
    const total = this.#chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    const archive = new Uint8Array(total);
    let offset = 0;
    for (const chunk of this.#chunks) {
      archive.set(chunk, offset);
      offset += chunk.length;
    }
    return archive;
  }

  #entry(path, mode, data, overrides = {}) {
    if (this.#finished) throw new Error("cpio archive already finished");
    const name = path.replace(/^\/+/, "");
    if (name === "" || name.split("/").includes("..")) throw new Error(`cpio entry name ${JSON.stringify(path)} is not a relative path inside the archive`);
    const nameBytes = new TextEncoder().encode(name + "\0");
    const values = {
      ino: this.#nextInode++,
      mode,
      uid: 0,
      gid: 0,
      nlink: 1,
      mtime: this.mtime,
      filesize: data.length,
      devmajor: 0,
      devminor: 0,
      rdevmajor: 0,
      rdevminor: 0,
      namesize: nameBytes.length,
      check: 0,
      ...overrides,
    };
    const header = NEWC_MAGIC + FIELDS.map((field) => (values[field] >>> 0).toString(16).padStart(8, "0")).join("");
    this.#chunks.push(new TextEncoder().encode(header), nameBytes, new Uint8Array(pad4(NEWC_HEADER_SIZE + nameBytes.length)), data, new Uint8Array(pad4(data.length)));
    return this;
  }
}

/**
 * Reads a newc archive back: every entry up to the trailer, with its header fields, name and data.
 * @param {Uint8Array} archive
 */
export function parseCpioNewc(archive) {
  const entries = [];
  const decoder = new TextDecoder();
  let offset = 0;
  for (;;) {
    if (offset + NEWC_HEADER_SIZE > archive.length) throw new Error(`cpio archive ends inside a header at offset ${offset}`);
    const header = decoder.decode(archive.subarray(offset, offset + NEWC_HEADER_SIZE));
    if (!header.startsWith(NEWC_MAGIC)) throw new Error(`no newc magic at offset ${offset}`);
    const fields = {};
    FIELDS.forEach((field, index) => {
      const text = header.slice(6 + index * 8, 14 + index * 8);
      if (!/^[0-9a-fA-F]{8}$/.test(text)) throw new Error(`bad ${field} field ${JSON.stringify(text)} at offset ${offset}`);
      fields[field] = parseInt(text, 16);
    });
    const nameStart = offset + NEWC_HEADER_SIZE;
    const name = decoder.decode(archive.subarray(nameStart, nameStart + fields.namesize - 1));
    if (archive[nameStart + fields.namesize - 1] !== 0) throw new Error(`cpio name at offset ${nameStart} is not NUL-terminated`);
    const dataStart = nameStart + fields.namesize + pad4(NEWC_HEADER_SIZE + fields.namesize);
    if (dataStart + fields.filesize > archive.length) throw new Error(`cpio entry ${name} runs past the end of the archive`);
    if (name === TRAILER_NAME) return entries;
    entries.push({ name, ...fields, data: archive.subarray(dataStart, dataStart + fields.filesize) });
    offset = dataStart + fields.filesize + pad4(fields.filesize);
  }
}
