import type { TaskAbortSignal } from "./scsi-command.js";

/**
 * ABORT TASK for one command: a plain object with the AbortSignal behaviour targets rely on (listeners
 * run once, in the order added, when the abort comes; one added after it never runs), without an
 * EventTarget behind it.
 */
export class TaskAbort implements TaskAbortSignal {
  aborted = false;
  private listeners: (() => void)[] | undefined = undefined;

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners !== undefined) for (const listener of listeners) listener();
  }

  addEventListener(_type: "abort", listener: () => void): void {
    if (this.aborted) return;
    const listeners = (this.listeners ??= []);
    // As with EventTarget, the same listener twice is one listener.
    if (!listeners.includes(listener)) listeners.push(listener);
  }

  removeEventListener(_type: "abort", listener: () => void): void {
    const listeners = this.listeners;
    if (listeners === undefined) return;
    const index = listeners.indexOf(listener);
    if (index >= 0) listeners.splice(index, 1);
  }
}
