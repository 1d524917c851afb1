/**
 * The .vmx configuration file format: one `key = "value"` per line, `#` comments, keys compared
 * without regard to case, and characters that cannot appear inside the quotes written as `|XX`
 * (two hex digits), as VMware's products write them.
 */
export interface VmxEntry {
  key: string;
  value: string;
  line: number;
}

export class VmxSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
  }
}

const ENTRY = /^\s*([A-Za-z0-9_.:-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s"#]+))\s*(?:#.*)?$/;

/** Parses .vmx text into entries (last assignment of a key wins, as in VMware's products). */
export function parseVmx(text: string): Map<string, VmxEntry> {
  const entries = new Map<string, VmxEntry>();
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  lines.forEach((raw, index) => {
    const lineNumber = index + 1;
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const match = ENTRY.exec(line);
    if (!match) throw new VmxSyntaxError(lineNumber, `expected key = "value", got ${JSON.stringify(raw.slice(0, 80))}`);
    const key = match[1]!;
    const value = decodeVmxValue(match[2] ?? match[3]!, lineNumber);
    entries.set(key.toLowerCase(), { key, value, line: lineNumber });
  });
  return entries;
}

/** Writes entries back out in a stable order, quoting and escaping every value. */
export function formatVmx(entries: Iterable<[string, string]>): string {
  const lines = ['.encoding = "UTF-8"'];
  for (const [key, value] of entries) {
    if (key === ".encoding") continue;
    lines.push(`${key} = "${encodeVmxValue(value)}"`);
  }
  return lines.join("\n") + "\n";
}

function decodeVmxValue(value: string, line: number): string {
  return value.replace(/\|([0-9A-Fa-f]{2})?/g, (whole, hex: string | undefined) => {
    if (hex === undefined) throw new VmxSyntaxError(line, `"|" must be followed by two hex digits`);
    return String.fromCharCode(parseInt(hex, 16));
  });
}

function encodeVmxValue(value: string): string {
  let out = "";
  for (const ch of value) {
    const code = ch.charCodeAt(0);
    out += ch === '"' || ch === "|" || ch === "#" || code < 0x20 ? `|${code.toString(16).toUpperCase().padStart(2, "0")}` : ch;
  }
  return out;
}
