; Prints what a booting Linux shows on its console at the moments a boot is timed by, a banner line
; and a shell prompt with busybox's cursor-position query after it, then waits for input forever
; (interrupts off, halted), as a shell at its prompt does.
%include "vm-kernel.inc"

main:
    PRINT boot_message
    PRINT banner
    PRINT prompt
.wait:
    hlt
    jmp .wait

boot_message: db "decompressing...", 10, 0
banner: db "[    0.000000] Linux version 6.1.0-vmk-test (fake)", 10, 0
prompt: db 10, "vmk-guest:/# ", 27, "[6n", 0
KERNEL_END
