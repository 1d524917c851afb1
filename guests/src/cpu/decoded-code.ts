/**
 * The decoded blocks of guest code by physical page and offset in the page: a directory of 1,024
 * tables of 1,024 pages each, tables and pages made as code appears. A flat array indexed by page
 * number would be sparse (the kernel's code sits tens of megabytes up), and V8 keeps a sparse
 * array as a dictionary: a hash lookup for every block the run loop looks up.
 */
import type { CodeBlock } from "./code-block.js";

/** A page's blocks by the offset of their first byte. */
export type CodePage = Array<CodeBlock | undefined>;

const PAGES_PER_TABLE = 1024;
/** Tables for the 2^20 pages of the 32-bit physical address space. */
const TABLES = (1 << 20) / PAGES_PER_TABLE;

export class DecodedCode {
  private readonly tables: Array<Array<CodePage | undefined> | undefined> = new Array<Array<CodePage | undefined> | undefined>(TABLES).fill(undefined);

  /** The blocks of physical page `physPage`, if any were decoded there. */
  page(physPage: number): CodePage | undefined {
    const table = this.tables[(physPage >>> 10) & (TABLES - 1)];
    return table === undefined ? undefined : table[physPage & (PAGES_PER_TABLE - 1)];
  }

  /** The blocks of physical page `physPage`, made empty when there are none yet. */
  pageOrNew(physPage: number): CodePage {
    let table = this.tables[(physPage >>> 10) & (TABLES - 1)];
    if (table === undefined) {
      table = new Array<CodePage | undefined>(PAGES_PER_TABLE).fill(undefined);
      this.tables[(physPage >>> 10) & (TABLES - 1)] = table;
    }
    let page = table[physPage & (PAGES_PER_TABLE - 1)];
    if (page === undefined) {
      page = new Array<CodeBlock | undefined>(4096).fill(undefined);
      table[physPage & (PAGES_PER_TABLE - 1)] = page;
    }
    return page;
  }

  /** Every block held, page by page. */
  blocks(): CodeBlock[] {
    const all: CodeBlock[] = [];
    for (const table of this.tables) {
      if (table === undefined) continue;
      for (const page of table) if (page !== undefined) for (const block of page) if (block !== undefined) all.push(block);
    }
    return all;
  }

  clear(): void {
    this.tables.fill(undefined);
  }
}
