/**
 * A vmknic MAC in VMware's OUI 00:50:56, derived from the host name and interface name so a host
 * keeps its addresses across reboots. The fourth byte stays in 0x40-0x7f, clear of the 0x00-0x3f
 * range ESX leaves to manually assigned VM addresses.
 */
export function vmknicMac(hostName: string, interfaceName: string, salt = 0): Uint8Array {
  const hash = fnv1a32(`${hostName}/${interfaceName}${salt === 0 ? "" : `#${salt}`}`);
  return new Uint8Array([0x00, 0x50, 0x56, 0x40 | ((hash >>> 16) & 0x3f), (hash >>> 8) & 0xff, hash & 0xff]);
}

function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
