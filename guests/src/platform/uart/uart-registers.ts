/** 16550A register offsets from the port base (DLAB = LCR bit 7 banks offsets 0 and 1). */
export const UartOffset = {
  Data: 0, // RBR read, THR write; DLL with DLAB
  InterruptEnable: 1, // IER; DLM with DLAB
  InterruptId: 2, // IIR read, FCR write
  LineControl: 3,
  ModemControl: 4,
  LineStatus: 5,
  ModemStatus: 6,
  Scratch: 7,
} as const;

export const UartIer = { ReceivedData: 0x01, TransmitterEmpty: 0x02, ReceiverLineStatus: 0x04, ModemStatus: 0x08 } as const;

/** IIR interrupt identification, highest priority first. */
export const UartIirId = {
  None: 0x01,
  ReceiverLineStatus: 0x06,
  ReceivedData: 0x04,
  CharacterTimeout: 0x0c,
  TransmitterEmpty: 0x02,
  ModemStatus: 0x00,
} as const;
export const IIR_FIFOS_ENABLED = 0xc0;

export const UartFcr = { Enable: 0x01, ClearReceive: 0x02, ClearTransmit: 0x04, DmaMode: 0x08, TriggerMask: 0xc0 } as const;
/** Receive FIFO trigger levels selected by FCR bits 7:6. */
export const RECEIVE_TRIGGER_LEVELS = [1, 4, 8, 14] as const;
export const FIFO_DEPTH = 16;

export const UartLcr = { WordLengthMask: 0x03, TwoStopBits: 0x04, ParityEnable: 0x08, Break: 0x40, Dlab: 0x80 } as const;
export const UartMcr = { Dtr: 0x01, Rts: 0x02, Out1: 0x04, Out2: 0x08, Loopback: 0x10 } as const;
export const UartLsr = {
  DataReady: 0x01,
  Overrun: 0x02,
  Parity: 0x04,
  Framing: 0x08,
  Break: 0x10,
  TransmitHoldingEmpty: 0x20,
  TransmitterEmpty: 0x40,
  FifoError: 0x80,
} as const;
export const LSR_ERRORS = UartLsr.Overrun | UartLsr.Parity | UartLsr.Framing | UartLsr.Break;
export const UartMsr = {
  DeltaCts: 0x01,
  DeltaDsr: 0x02,
  TrailingEdgeRi: 0x04,
  DeltaDcd: 0x08,
  Cts: 0x10,
  Dsr: 0x20,
  Ri: 0x40,
  Dcd: 0x80,
} as const;

/** The 1.8432 MHz crystal divided by 16: the bit rate at divisor 1. */
export const UART_BASE_BAUD = 115_200;
