import type { Linux } from "./linux.js";
import { netif_receive_skb, type net_device } from "./netdevice.js";
import type { sk_buff } from "./skbuff.js";

export const NAPI_POLL_WEIGHT = 64;

/** napi->state bits. */
export const NAPI_STATE_SCHED = 1 << 0;
export const NAPI_STATE_MISSED = 1 << 1;
export const NAPI_STATE_DISABLE = 1 << 2;
/** On the host's poll list (Linux: the napi is linked into softnet_data.poll_list). */
export const NAPI_STATE_LISTED = 1 << 3;

/** enum gro_result */
export const GRO_MERGED = 0;
export const GRO_MERGED_FREE = 1;
export const GRO_HELD = 2;
export const GRO_NORMAL = 3;
export const GRO_CONSUMED = 4;

/**
 * struct napi_struct. Polls run from the NET_RX softirq, which here is a callback on the module's host
 * clock: raised by __napi_schedule, it polls each scheduled napi with its weight until the budget
 * (netdev_budget) is spent, then raises itself again if work is left, letting other events in between.
 */
export class napi_struct {
  dev!: net_device;
  linux: Linux | null = null;
  poll: ((napi: napi_struct, budget: number) => number) | null = null;
  weight = NAPI_POLL_WEIGHT;
  /** Starts scheduled, i.e. disabled until napi_enable, as in Linux. */
  state = NAPI_STATE_SCHED;
}

export function netif_napi_add(dev: net_device, napi: napi_struct, poll: (napi: napi_struct, budget: number) => number, weight = NAPI_POLL_WEIGHT): void {
  napi.dev = dev;
  napi.linux = dev.linux;
  napi.poll = poll;
  napi.weight = weight;
  napi.state = NAPI_STATE_SCHED;
  dev.napi_list.push(napi);
}
export const netif_napi_add_weight = netif_napi_add;

export function netif_napi_del(napi: napi_struct): void {
  napi.linux?.napi_del(napi);
}

export function napi_enable(napi: napi_struct): void {
  napi.state = 0;
}

/** Stops polling: the napi leaves the poll list and cannot be scheduled until napi_enable. */
export function napi_disable(napi: napi_struct): void {
  if (napi.state & NAPI_STATE_LISTED) napi.linux?.napi_unlist(napi);
  napi.state = NAPI_STATE_SCHED | NAPI_STATE_DISABLE;
}

/** Claims the right to schedule; false if disabled or already scheduled (then the poll is told it missed an event). */
export function napi_schedule_prep(napi: napi_struct): boolean {
  const state = napi.state;
  if (state & NAPI_STATE_DISABLE) return false;
  if (state & NAPI_STATE_SCHED) {
    napi.state = state | NAPI_STATE_MISSED;
    return false;
  }
  napi.state = state | NAPI_STATE_SCHED;
  return true;
}

export function __napi_schedule(napi: napi_struct): void {
  if (!napi.linux) throw new Error("__napi_schedule: napi was never added with netif_napi_add()");
  napi.linux.napi_list_add(napi);
}
export const __napi_schedule_irqoff = __napi_schedule;

export function napi_schedule(napi: napi_struct): boolean {
  if (!napi_schedule_prep(napi)) return false;
  __napi_schedule(napi);
  return true;
}
export const napi_schedule_irqoff = napi_schedule;

/**
 * The poll is done: returns true when the napi is idle again (the driver re-enables its interrupt),
 * false when an event arrived during the poll, in which case it stays scheduled and is polled again.
 */
export function napi_complete_done(napi: napi_struct, _work_done: number): boolean {
  const state = napi.state;
  if (state & NAPI_STATE_DISABLE) return false;
  if (state & NAPI_STATE_MISSED) {
    napi.state = state & ~NAPI_STATE_MISSED;
    if (!(napi.state & NAPI_STATE_LISTED)) __napi_schedule(napi);
    return false;
  }
  if (state & NAPI_STATE_LISTED) napi.linux?.napi_unlist(napi);
  napi.state = 0;
  return true;
}
export function napi_complete(napi: napi_struct): boolean {
  return napi_complete_done(napi, 0);
}

/** No GRO here: every frame goes up as it is. */
export function napi_gro_receive(_napi: napi_struct, skb: sk_buff): number {
  netif_receive_skb(skb);
  return GRO_NORMAL;
}
