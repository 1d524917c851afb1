; Writes a line to the debug console port 0xE9, then spins forever with interrupts off: only the
; host (a run timeout) can stop it.
%include "vm-kernel.inc"

main:
    PRINT banner
    mov esi, debug_message
.next:
    lodsb
    test al, al
    jz .spin
    out 0xe9, al
    jmp .next
.spin:
    cli
    jmp .spin

banner: db "vmk debugcon test", 10, 0
debug_message: db "hello from port 0xe9", 10, 0
KERNEL_END
