import { EventEmitter } from "node:events";
import { VirtualClock } from "@vmk/kernel";
import { describe, expect, it } from "vitest";
import { UNCONNECTED_IRQ } from "../irq-line.js";
import { StreamSerialBackend } from "./serial-backend.js";
import { Uart16550 } from "./uart-16550.js";

describe("StreamSerialBackend", () => {
  it("writes guest output to the stream by line and feeds typed bytes to the port", async () => {
    const clock = new VirtualClock();
    const chunks: string[] = [];
    const stdin = new EventEmitter();
    const backend = new StreamSerialBackend({ write: (chunk) => chunks.push(Buffer.from(chunk).toString("latin1")) }, stdin);
    const uart = new Uart16550({ clock, irq: UNCONNECTED_IRQ, backend });
    uart.ports.writeByte(2, 0x07); // FIFOs on: the whole string fits
    for (const c of "login:\nok") uart.ports.writeByte(0, c.charCodeAt(0));
    clock.runUntilIdle();
    expect(chunks).toEqual(["login:\n"]);
    await Promise.resolve();
    expect(chunks).toEqual(["login:\n", "ok"]);

    stdin.emit("data", Buffer.from("r"));
    stdin.emit("data", "t");
    clock.runUntilIdle();
    expect([uart.ports.readByte(0), uart.ports.readByte(0)]).toEqual([0x72, 0x74]);
  });
});
