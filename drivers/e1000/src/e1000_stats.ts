/** e1000_update_stats: the chip's counters clear when read, so each read is added to the running totals. */
import { er32 } from "./e1000_hw.js";
import * as H from "./e1000_hw.js";
import type { e1000_adapter } from "./e1000.js";

/** Reads a 64-bit octet counter: low dword first, which latches the high dword. */
function read64(adapter: e1000_adapter, low: number, high: number): number {
  const lo = er32(adapter.hw, low);
  return lo + er32(adapter.hw, high) * 0x100000000;
}

export function e1000_update_stats(adapter: e1000_adapter): void {
  const hw = adapter.hw;
  const s = adapter.stats;
  s.crcerrs += er32(hw, H.E1000_CRCERRS);
  s.gprc += er32(hw, H.E1000_GPRC);
  s.gorc += read64(adapter, H.E1000_GORCL, H.E1000_GORCH);
  s.bprc += er32(hw, H.E1000_BPRC);
  s.mprc += er32(hw, H.E1000_MPRC);
  s.roc += er32(hw, H.E1000_ROC);
  s.prc64 += er32(hw, H.E1000_PRC64);
  s.prc127 += er32(hw, H.E1000_PRC127);
  s.prc255 += er32(hw, H.E1000_PRC255);
  s.prc511 += er32(hw, H.E1000_PRC511);
  s.prc1023 += er32(hw, H.E1000_PRC1023);
  s.prc1522 += er32(hw, H.E1000_PRC1522);
  s.symerrs += er32(hw, H.E1000_SYMERRS);
  s.mpc += er32(hw, H.E1000_MPC);
  s.scc += er32(hw, H.E1000_SCC);
  s.ecol += er32(hw, H.E1000_ECOL);
  s.mcc += er32(hw, H.E1000_MCC);
  s.latecol += er32(hw, H.E1000_LATECOL);
  s.dc += er32(hw, H.E1000_DC);
  s.sec += er32(hw, H.E1000_SEC);
  s.rlec += er32(hw, H.E1000_RLEC);
  s.xonrxc += er32(hw, H.E1000_XONRXC);
  s.xontxc += er32(hw, H.E1000_XONTXC);
  s.xoffrxc += er32(hw, H.E1000_XOFFRXC);
  s.xofftxc += er32(hw, H.E1000_XOFFTXC);
  s.fcruc += er32(hw, H.E1000_FCRUC);
  s.gptc += er32(hw, H.E1000_GPTC);
  s.gotc += read64(adapter, H.E1000_GOTCL, H.E1000_GOTCH);
  s.rnbc += er32(hw, H.E1000_RNBC);
  s.ruc += er32(hw, H.E1000_RUC);
  s.rfc += er32(hw, H.E1000_RFC);
  s.rjc += er32(hw, H.E1000_RJC);
  s.tor += read64(adapter, H.E1000_TORL, H.E1000_TORH);
  s.tot += read64(adapter, H.E1000_TOTL, H.E1000_TOTH);
  s.tpr += er32(hw, H.E1000_TPR);
  s.ptc64 += er32(hw, H.E1000_PTC64);
  s.ptc127 += er32(hw, H.E1000_PTC127);
  s.ptc255 += er32(hw, H.E1000_PTC255);
  s.ptc511 += er32(hw, H.E1000_PTC511);
  s.ptc1023 += er32(hw, H.E1000_PTC1023);
  s.ptc1522 += er32(hw, H.E1000_PTC1522);
  s.mptc += er32(hw, H.E1000_MPTC);
  s.bptc += er32(hw, H.E1000_BPTC);
  s.algnerrc += er32(hw, H.E1000_ALGNERRC);
  s.rxerrc += er32(hw, H.E1000_RXERRC);
  s.tncrs += er32(hw, H.E1000_TNCRS);
  s.cexterr += er32(hw, H.E1000_CEXTERR);
  s.tsctc += er32(hw, H.E1000_TSCTC);
  s.tsctfc += er32(hw, H.E1000_TSCTFC);
  s.colc += er32(hw, H.E1000_COLC);
  s.tpt += er32(hw, H.E1000_TPT);

  // What the stack reports comes from these totals (packet and byte counts stay the driver's own).
  const net = adapter.netdev.stats;
  net.multicast = s.mprc;
  net.collisions = s.colc;
  net.rx_errors = s.rxerrc + s.crcerrs + s.algnerrc + s.ruc + s.roc + s.cexterr;
  net.rx_length_errors = s.ruc + s.roc;
  net.rx_crc_errors = s.crcerrs;
  net.rx_frame_errors = s.algnerrc;
  net.rx_missed_errors = s.mpc;
  net.rx_fifo_errors = s.mpc;
  net.tx_errors = s.ecol + s.latecol;
  net.tx_aborted_errors = s.ecol;
  net.tx_window_errors = s.latecol;
  net.tx_carrier_errors = s.tncrs;
}
