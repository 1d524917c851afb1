import { StreamByteSink, type ChunkWriter } from "../byte-sink.js";

/** The modem status inputs (CTS, DSR, RI, DCD) as the far end drives them. */
export interface ModemInputs {
  cts: boolean;
  dsr: boolean;
  ri: boolean;
  dcd: boolean;
}

/** What a backend may do to the port's receive side. */
export interface SerialInput {
  /** Bytes put on the wire towards the guest; they arrive one character time apart. */
  receive(bytes: Iterable<number> | string): void;
  /** A line break (the data line held low for longer than a character). */
  receiveBreak(): void;
  setModemInputs(inputs: ModemInputs): void;
}

/** The host end of a serial line. */
export interface SerialBackend {
  /** A character the guest sent, delivered when its stop bit leaves the transmitter. */
  transmit(byte: number): void;
  /** Called once when the backend is attached, with the port's receive side. */
  connect?(input: SerialInput): void;
}

/** A readable byte stream (process.stdin, a socket). */
export interface ByteSource {
  on(event: "data", listener: (chunk: Uint8Array | string) => void): unknown;
}

/** A serial line to a terminal: guest output to `output`, what the user types from `input`. */
export class StreamSerialBackend implements SerialBackend {
  private readonly sink: StreamByteSink;

  constructor(
    output: ChunkWriter,
    private readonly input?: ByteSource,
  ) {
    this.sink = new StreamByteSink(output);
  }

  transmit(byte: number): void {
    this.sink.writeByte(byte);
  }

  connect(port: SerialInput): void {
    this.input?.on("data", (chunk) => port.receive(chunk));
  }
}
