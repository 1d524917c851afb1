; Idles in HLT through 20 ticks of PIT channel 0 at 100 Hz (200 ms of guest time), then exits with
; 0x22 (status 69). On real time the run must take about as long on the host: an idle guest's time
; may not run ahead of the host clock.
%include "vm-kernel.inc"

PIT_RELOAD equ 11932                ; 1193182 Hz / 11932 = 100.0 Hz
TICKS equ 20

main:
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
    EXIT 0x22

timer_interrupt:
    push eax
    inc dword [ticks]
    mov al, 0x20                    ; non-specific EOI
    out 0x20, al
    pop eax
    iret

ticks: dd 0
KERNEL_END
