; Programs PIT channel 0 at about 1 kHz, takes ten IRQ0s through the PIC while idling in HLT,
; prints a dot per tick and the time-stamp counter ticks between the first and the tenth interrupt,
; then exits with status 0x21 (the VM reports (0x21 << 1) | 1 = 67).
%include "vm-kernel.inc"

PIT_RELOAD equ 1193                 ; 1193182 Hz / 1193 = 1000.15 Hz
TICKS equ 10

main:
    PRINT banner
    mov ecx, PIC_VECTOR_BASE
    mov eax, timer_interrupt
    call set_gate
    mov al, 0x34                    ; channel 0, lobyte/hibyte, mode 2 (rate generator)
    out 0x43, al
    mov al, PIT_RELOAD & 0xff
    out 0x40, al
    mov al, PIT_RELOAD >> 8
    out 0x40, al
    in al, 0x21
    and al, 0xfe                    ; unmask IRQ0
    out 0x21, al
    sti
.idle:
    hlt
    cmp dword [ticks], TICKS
    jb .idle
    cli
    PRINT tsc_message
    mov eax, [tsc_last]
    sub eax, [tsc_first]
    call print_hex32
    mov al, 10
    call print_char
    EXIT 0x21

timer_interrupt:
    push eax
    push edx
    rdtsc
    cmp dword [ticks], 0
    jne .not_first
    mov [tsc_first], eax
.not_first:
    mov [tsc_last], eax
    inc dword [ticks]
    mov al, '.'
    call print_char
    mov al, 0x20                    ; non-specific EOI
    out 0x20, al
    pop edx
    pop eax
    iret

banner: db "vmk timer test", 10, 0
tsc_message: db 10, "tsc ", 0

ticks: dd 0
tsc_first: dd 0
tsc_last: dd 0
KERNEL_END
