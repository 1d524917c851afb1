/**
 * printk's format language, the part drivers use: %d %i %u %x %X %o %s %c %p %pM %pm %pI4 %%, with
 * flags (-, 0, +, space, #), width, precision and length modifiers (h, hh, l, ll, z, t), which are
 * accepted and ignored since every number here is a JavaScript number.
 */
export const KERN_SOH = "\x01";
export const KERN_EMERG = "\x010";
export const KERN_ALERT = "\x011";
export const KERN_CRIT = "\x012";
export const KERN_ERR = "\x013";
export const KERN_WARNING = "\x014";
export const KERN_NOTICE = "\x015";
export const KERN_INFO = "\x016";
export const KERN_DEBUG = "\x017";
export const KERN_CONT = "\x01c";

/** Linux's default message level (CONFIG_MESSAGE_LOGLEVEL_DEFAULT) for a printk without a level. */
export const MESSAGE_LOGLEVEL_DEFAULT = 4;

export type KernelLogLevel = "error" | "warn" | "info" | "debug";

/** Maps a Linux level (0 emerg .. 7 debug) onto the kernel log's four. */
export function kernelLogLevel(level: number): KernelLogLevel {
  if (level <= 3) return "error";
  if (level === 4) return "warn";
  if (level <= 6) return "info";
  return "debug";
}

/** Splits a leading KERN_* prefix off a message: [level, rest]. */
export function printk_get_level(message: string): [number, string] {
  if (message.length >= 2 && message[0] === KERN_SOH) {
    const code = message[1]!;
    if (code >= "0" && code <= "7") return [code.charCodeAt(0) - 48, message.slice(2)];
    if (code === "c") return [MESSAGE_LOGLEVEL_DEFAULT, message.slice(2)];
  }
  return [MESSAGE_LOGLEVEL_DEFAULT, message];
}

const SPEC = /%([-+ 0#]*)(\*|\d+)?(?:\.(\*|\d+))?(hh|h|ll|l|z|t|j)?([diuxXoscp%])([MmI]4?|I4)?/g;

export function vsprintf(format: string, args: readonly unknown[]): string {
  let next = 0;
  const take = () => args[next++];
  return format.replace(SPEC, (whole, flags: string, width: string | undefined, precision: string | undefined, _length: string | undefined, conversion: string, ext: string | undefined) => {
    if (conversion === "%") return "%";
    const w = width === "*" ? Number(take()) : width !== undefined ? Number(width) : 0;
    const p = precision === "*" ? Number(take()) : precision !== undefined ? Number(precision) : undefined;
    const value = take();
    let text: string;
    switch (conversion) {
      case "d":
      case "i": {
        const n = Math.trunc(Number(value));
        text = Math.abs(n).toString();
        if (p !== undefined) text = text.padStart(p, "0");
        text = (n < 0 ? "-" : flags.includes("+") ? "+" : flags.includes(" ") ? " " : "") + text;
        break;
      }
      case "u":
        text = unsigned(value).toString();
        break;
      case "x":
      case "X":
        text = unsigned(value).toString(16);
        if (p !== undefined) text = text.padStart(p, "0");
        if (flags.includes("#") && text !== "0") text = "0x" + text;
        if (conversion === "X") text = text.toUpperCase();
        break;
      case "o":
        text = unsigned(value).toString(8);
        break;
      case "c":
        text = typeof value === "number" ? String.fromCharCode(value) : String(value).slice(0, 1);
        break;
      case "s":
        text = String(value);
        if (p !== undefined) text = text.slice(0, p);
        break;
      case "p":
        return pad(formatPointer(value, ext), w, flags);
      default:
        return whole;
    }
    return pad(text, w, flags, conversion !== "s" && conversion !== "c");
  });
}

function unsigned(value: unknown): number {
  const n = Math.trunc(Number(value));
  return n < 0 && n >= -0x80000000 ? n >>> 0 : Math.abs(n);
}

function pad(text: string, width: number, flags: string, numeric = false): string {
  if (text.length >= width) return text;
  if (flags.includes("-")) return text.padEnd(width, " ");
  if (numeric && flags.includes("0")) {
    const sign = /^[-+ ]/.test(text) ? text[0]! : "";
    const prefix = text.startsWith("0x", sign.length) ? "0x" : "";
    const body = text.slice(sign.length + prefix.length);
    return sign + prefix + body.padStart(width - sign.length - prefix.length, "0");
  }
  return text.padStart(width, " ");
}

function formatPointer(value: unknown, ext: string | undefined): string {
  if (ext === "M" || ext === "m") {
    const bytes = value instanceof Uint8Array ? value : new Uint8Array(0);
    const parts = Array.from(bytes.subarray(0, 6), (b) => b.toString(16).padStart(2, "0"));
    return parts.join(ext === "M" ? ":" : "");
  }
  if (ext === "I4") {
    const bytes = value instanceof Uint8Array ? value : new Uint8Array(0);
    return Array.from(bytes.subarray(0, 4)).join(".");
  }
  if (typeof value === "number") return "0x" + value.toString(16).padStart(8, "0");
  return value === null || value === undefined ? "(null)" : `[${(value as object).constructor?.name ?? typeof value}]`;
}
