; The AT's coprocessor-error path on the PC machine: with CR0.NE = 0 an unmasked x87 exception
; asserts FERR#, the board latches it onto IRQ13 (slave PIC input 5); the handler reads the
; status word, clears the exception, writes port 0xF0 to clear the latch and sends EOIs. Twice,
; to show the latch re-arms. Then CR0.NE = 1 must give #MF instead. Exits with status 0x13.
%include "vm-kernel.inc"

main:
    PRINT banner
    mov ecx, PIC_VECTOR_BASE + 13
    mov eax, irq13
    call set_gate
    mov ecx, 16
    mov eax, math_fault
    call set_gate
    mov eax, cr0
    and eax, ~0x2c                  ; NE, TS, EM clear: MS-DOS compatibility mode
    or eax, 0x2                     ; MP
    mov cr0, eax
    in al, 0x21
    and al, ~0x04                   ; unmask the cascade (IRQ2)
    out 0x21, al
    in al, 0xa1
    and al, ~0x20                   ; unmask IRQ13
    out 0xa1, al
    fninit
    fldcw [control]                 ; divide-by-zero unmasked
    sti
    call divide_by_zero
.first:
    cmp dword [taken], 1
    jb .first
    call divide_by_zero
.second:
    cmp dword [taken], 2
    jb .second
    fwait                           ; cleared by the handler: no #MF, no FERR#
    PRINT status_message
    movzx eax, word [status]
    call print_hex32
    mov al, 10
    call print_char
    ; Native reporting: the same exception is now #MF at the next waiting instruction.
    mov eax, cr0
    or eax, 0x20
    mov cr0, eax
    call divide_by_zero
    fwait
    PRINT no_mf_message
    EXIT 0x66

divide_by_zero:
    fninit
    fldcw [control]
    fld1
    fldz
    fdivp st1, st0
    ret

irq13:
    push eax
    fnstsw ax
    mov [status], ax
    fnclex                          ; releases FERR#
    out 0xf0, al                    ; clears the IRQ13 latch
    mov al, 0x20
    out 0xa0, al
    out 0x20, al
    inc dword [taken]
    pop eax
    iret

math_fault:
    PRINT mf_message
    mov eax, [taken]
    call print_hex32
    mov al, 10
    call print_char
    EXIT 0x13

banner: db "vmk fpu irq13 test", 10, 0
status_message: db "irq13 status ", 0
mf_message: db "#MF after irqs ", 0
no_mf_message: db "no #MF", 10, 0
control: dw 0x037b
status: dw 0
taken: dd 0
KERNEL_END
