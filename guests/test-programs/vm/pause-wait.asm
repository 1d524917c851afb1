; Waits 10 ms of PIT channel 2 (gated on through port 0x61, mode 0) in a spin loop with PAUSE, as
; Linux's delay loops spin, counting the turns. Prints the time-stamp counter's advance over the
; wait and the turns, then exits with 0x12 (the VM reports 37).
%include "vm-kernel.inc"

main:
    PRINT banner
    PIT2_START_10MS
    rdtsc
    mov ebx, eax
    xor edi, edi
.spin:
    inc edi
    pause
    in al, 0x61
    test al, 0x20                   ; OUT2: terminal count reached
    jz .spin
    rdtsc
    sub eax, ebx
    PRINT delta_message
    call print_hex32
    PRINT turns_message
    mov eax, edi
    call print_hex32
    mov al, 10
    call print_char
    EXIT 0x12

banner: db "vmk pause wait", 10, 0
delta_message: db "tsc/10ms ", 0
turns_message: db " turns ", 0
KERNEL_END
