/**
 * vmklinux: the Linux driver API on the vmkernel's native interfaces. Names are Linux's, so a Linux
 * driver reads the same here; where C uses out-parameters or pointer arithmetic the TypeScript form is
 * documented at the function (config reads return the value; `readl(hw_addr, reg)` takes the offset).
 */
export * from "./errno.js";
export * from "./printk.js";
export * from "./time.js";
export * from "./workqueue.js";
export * from "./device.js";
export * from "./io.js";
export * from "./dma.js";
export * from "./interrupt.js";
export * from "./pci.js";
export * from "./slab.js";
export * from "./skbuff.js";
export * from "./etherdevice.js";
export * from "./netdevice.js";
export * from "./napi.js";
export * from "./ethtool.js";
export * from "./uplink.js";
export * from "./scatterlist.js";
export * from "./sched.js";
export * from "./tasklet.js";
export * from "./scsi/scsi_proto.js";
export * from "./scsi/scsi_common.js";
export * from "./scsi/scsi_cmnd.js";
export * from "./scsi/scsi_host.js";
export * from "./scsi/host_adapter.js";
export * from "./linux.js";
export * from "./module.js";
