/** irqreturn_t */
export const IRQ_NONE = 0;
export const IRQ_HANDLED = 1;
export const IRQ_WAKE_THREAD = 2;
export type irqreturn_t = number;

/** request_irq flags */
export const IRQF_SHARED = 0x00000080;
export const IRQF_NO_SUSPEND = 0x00004000;

export type irq_handler_t = (irq: number, dev_id: any) => irqreturn_t;
