import { hex } from "../address-arithmetic.js";

export const PT_LOAD = 1;
const ELF_MAGIC = 0x464c457f;
const ELFCLASS32 = 1;
const ELFDATA2LSB = 1;
const ET_EXEC = 2;
const EM_386 = 3;

export interface Elf32ProgramHeader {
  type: number;
  offset: number;
  virtualAddress: number;
  physicalAddress: number;
  fileSize: number;
  memorySize: number;
  flags: number;
}

export interface Elf32Executable {
  entry: number;
  programHeaders: Elf32ProgramHeader[];
}

export function isElf(image: Uint8Array): boolean {
  return image.length >= 4 && new DataView(image.buffer, image.byteOffset, 4).getUint32(0, true) === ELF_MAGIC;
}

/** Reads the program headers of a little-endian i386 ELF executable (System V ABI, ELF32). */
export function parseElf32Executable(image: Uint8Array): Elf32Executable {
  if (!isElf(image) || image.length < 52) throw new Error("not an ELF file");
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  if (view.getUint8(4) !== ELFCLASS32) throw new Error("ELF file is not 32-bit (ELFCLASS32)");
  if (view.getUint8(5) !== ELFDATA2LSB) throw new Error("ELF file is not little-endian");
  const type = view.getUint16(16, true);
  if (type !== ET_EXEC) throw new Error(`ELF file is not an executable (e_type ${type})`);
  const machine = view.getUint16(18, true);
  if (machine !== EM_386) throw new Error(`ELF file is not for i386 (e_machine ${machine})`);
  const entry = view.getUint32(24, true);
  const phoff = view.getUint32(28, true);
  const phentsize = view.getUint16(42, true);
  const phnum = view.getUint16(44, true);
  if (phentsize < 32 || phoff + phnum * phentsize > image.length) throw new Error(`ELF program header table at ${hex(phoff)} lies outside the file`);
  const programHeaders: Elf32ProgramHeader[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    const header = {
      type: view.getUint32(at, true),
      offset: view.getUint32(at + 4, true),
      virtualAddress: view.getUint32(at + 8, true),
      physicalAddress: view.getUint32(at + 12, true),
      fileSize: view.getUint32(at + 16, true),
      memorySize: view.getUint32(at + 20, true),
      flags: view.getUint32(at + 24, true),
    };
    if (header.type === PT_LOAD) {
      if (header.offset + header.fileSize > image.length) throw new Error(`ELF segment ${i} [${hex(header.offset)}, +${hex(header.fileSize)}) lies outside the file`);
      if (header.fileSize > header.memorySize) throw new Error(`ELF segment ${i} has more file bytes than memory bytes`);
    }
    programHeaders.push(header);
  }
  return { entry, programHeaders };
}
