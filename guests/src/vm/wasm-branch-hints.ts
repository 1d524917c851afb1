/**
 * The WebAssembly JIT tier marks the slow paths of its memory accesses and its exits as unlikely
 * (branch hints, see FunctionBuilder.hint in cpu/wasm/wasm-module.ts). V8 reads such hints only
 * behind a flag before version 13.6; with them TurboFan lays those paths out of line and keeps
 * guest state in registers along the fast ones (the XZ decompressor of a Debian kernel: 3.15 s
 * without, 2.69 s with). The hints change no behaviour. This is Node-only; the CPU itself
 * imports no Node modules, so whoever runs machines on Node turns it on.
 */
import { setFlagsFromString } from "node:v8";

let enabled = false;

/** Lets V8 use WebAssembly branch hints; call before the first region is compiled (harmless later, and twice). */
export function enableWasmBranchHints(): void {
  if (enabled) return;
  enabled = true;
  // Later engines read the hints without the flag (and may no longer know it).
  const major = Number(process.versions.v8.split(".")[0]);
  if (major <= 13) setFlagsFromString("--experimental-wasm-branch-hinting");
}
