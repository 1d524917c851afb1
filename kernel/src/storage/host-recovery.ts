import { NS_PER_MS, type Clock } from "../clock/clock.js";
import { describeError, runInDomain } from "../exec/execution-domain.js";
import type { KernelLog } from "../log/kernel-log.js";
import { describeCdb } from "./scsi-cdb.js";
import type { TaskManagementResult } from "./scsi-adapter.js";
import { SCSI_LOG, type ScsiHost } from "./scsi-host.js";
import { CommandState, type InFlightCommand } from "./scsi-request.js";
import type { StorageSettings } from "./storage-settings.js";

/**
 * Error handling for one adapter, as Linux's SCSI EH thread and ESX escalate: abort the timed-out
 * command, else reset its LUN, else reset the adapter, else take the adapter offline. While it runs
 * the adapter takes no new commands (devices use other paths or wait). Every step is logged.
 */
export class HostRecovery {
  private readonly queue: InFlightCommand[] = [];
  private running = false;

  constructor(
    private readonly host: ScsiHost,
    private readonly clock: Clock,
    private readonly log: KernelLog,
    private readonly settings: StorageSettings,
  ) {}

  commandTimedOut(command: InFlightCommand): void {
    this.queue.push(command);
    if (!this.running) void this.run();
  }

  private async run(): Promise<void> {
    this.running = true;
    this.host.enterRecovery();
    try {
      while (this.queue.length > 0 && this.host.state === "recovering") {
        const command = this.queue.shift()!;
        if (command.state === CommandState.TIMED_OUT) await this.recover(command);
      }
    } catch (error) {
      this.log.error(SCSI_LOG, `${this.host.name}: error handler failed: ${describeError(error)}`);
      this.host.goOffline("error handler failed");
    } finally {
      this.queue.length = 0;
      this.running = false;
      this.host.leaveRecovery();
    }
  }

  private async recover(command: InFlightCommand): Promise<void> {
    const host = this.host;
    const adapter = host.adapter;
    const where = command.path.runtimeName;
    const waited = ((this.clock.now() - (command.deadline - command.timeoutNs)) / NS_PER_MS).toFixed(0);
    this.log.warn(SCSI_LOG, `${where}: ${describeCdb(command.cdb)} timed out after ${waited} ms; aborting the command`);
    host.stats.aborts++;
    if (await this.taskManagement("abort", () => adapter.abort(command))) {
      this.log.info(SCSI_LOG, `${where}: abort succeeded; the command will be retried`);
      host.reclaim(command);
      return;
    }
    this.log.warn(SCSI_LOG, `${where}: abort failed; resetting the logical unit`);
    host.stats.lunResets++;
    if (await this.taskManagement("LUN reset", () => adapter.resetDevice(command.target, command.lun))) {
      const affected = host.commands(command.target, command.lun);
      this.log.warn(SCSI_LOG, `${where}: LUN reset succeeded; retrying ${affected.length} command${affected.length === 1 ? "" : "s"}`);
      for (const each of affected) host.reclaim(each);
      return;
    }
    this.log.warn(SCSI_LOG, `${where}: LUN reset failed; resetting adapter ${host.name}`);
    host.stats.hostResets++;
    if (await this.taskManagement("host reset", () => adapter.resetHost())) {
      const affected = host.commands();
      this.log.warn(SCSI_LOG, `${host.name}: host reset succeeded; retrying ${affected.length} command${affected.length === 1 ? "" : "s"}`);
      for (const each of affected) host.reclaim(each);
      return;
    }
    this.log.error(SCSI_LOG, `${host.name}: host reset failed`);
    host.goOffline("host reset failed");
  }

  /** Runs one task management function in the driver's domain; a throw, a rejection or no answer in time is a failure. */
  private taskManagement(what: string, call: () => TaskManagementResult): Promise<boolean> {
    const host = this.host;
    return new Promise<boolean>((resolve) => {
      let settled = false;
      let timer: { cancel(): void } | undefined;
      const settle = (ok: boolean) => {
        if (settled) return;
        settled = true;
        timer?.cancel();
        resolve(ok);
      };
      const outcome = runInDomain(host.domain, `${host.name} ${what}`, () => ({ result: call() }));
      const result = outcome?.result;
      if (result === undefined) {
        settle(false);
        return;
      }
      if (typeof result === "boolean") {
        settle(result);
        return;
      }
      timer = this.clock.setTimer(
        this.settings.taskManagementTimeoutNs,
        () => {
          this.log.warn(SCSI_LOG, `${host.name}: ${what} got no answer in ${(this.settings.taskManagementTimeoutNs / NS_PER_MS).toFixed(0)} ms`);
          settle(false);
        },
        { label: `${host.name} ${what} timeout` },
      );
      result.then(
        (ok) => settle(ok === true),
        (error: unknown) => {
          this.log.warn(SCSI_LOG, `${host.name}: ${what} failed: ${describeError(error)}`);
          settle(false);
        },
      );
    });
  }
}
