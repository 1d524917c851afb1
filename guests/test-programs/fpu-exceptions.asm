; x87 exception reporting in real mode: an unmasked exception asserts FERR#, which the board
; latches onto IRQ13 (vector 0x75) while CR0.NE = 0; with CR0.NE = 1 the next waiting
; instruction raises #MF (vector 16) instead. Both handlers read the 16-bit real-mode FNSTENV
; image: FIP as a linear address, FIP[19:16] beside the 11-bit FOP, FDP linear.
; Reports: 0xE9 vectors taken, 0xEB checkpoints, 0xEC values (pairs to compare in the test).
    bits 16
    org 0x7C00
%macro REPORT16 1
    movzx eax, word %1
    out 0xEC, eax
%endmacro
%macro REPORTADDR 1
    mov eax, %1
    out 0xEC, eax
%endmacro
start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7000
    mov word [0x75 * 4], irq13
    mov word [0x75 * 4 + 2], 0
    mov word [0x10 * 4], math_fault
    mov word [0x10 * 4 + 2], 0
    fninit
    mov word [cw], 0x037B       ; unmask divide-by-zero only
    fldcw [cw]
    fld1
    fldz
    mov byte [done], 0
    sti
fault1:
    fdivp st1, st0              ; #Z: the quotient is withheld, ES set, FERR# asserted
.wait:
    cmp byte [done], 1          ; IRQ13 is taken at the next interrupt window
    jne .wait
    fwait                       ; the handler cleared ES: nothing pending
    mov al, 1
    out 0xEB, al

    cli
    mov eax, cr0
    or eax, 0x20                ; CR0.NE: native #MF reporting
    mov cr0, eax
    fninit
    fldcw [cw]
    fld1
fault2:
    fdiv dword [zero]           ; #Z again
wait2:
    fwait                       ; #MF here; the handler returns to this FWAIT, which then passes
    mov al, 2
    out 0xEB, al
    hlt

irq13:
    mov al, 0x75
    out 0xE9, al
    fnstenv [env]               ; a no-wait form runs with the exception pending
    REPORT16 [env + 2]          ; status word
    REPORT16 [env + 6]          ; FIP[15:0]
    REPORTADDR fault1
    REPORT16 [env + 8]          ; FIP[19:16] << 12 | FOP
    o32 fnstenv [env32]         ; the 32-bit real-mode image
    REPORT16 [env32 + 12]       ; FIP[15:0]
    mov eax, [env32 + 16]       ; FIP[31:16] << 12 | FOP
    out 0xEC, eax
    fnclex                      ; releases FERR#
    out 0xF0, al                ; clears the IRQ13 latch
    mov byte [done], 1
    iret

math_fault:
    mov al, 0x10
    out 0xE9, al
    mov bp, sp
    REPORT16 [bp]               ; the saved IP
    REPORTADDR wait2
    fnstenv [env]
    REPORT16 [env + 6]          ; FIP: the FDIV, not the FWAIT
    REPORTADDR fault2
    REPORT16 [env + 8]          ; FOP D8 36 (FDIV m32, disp16)
    REPORT16 [env + 10]         ; FDP
    REPORTADDR zero
    fnclex
    iret

    align 4
zero: dd 0
cw: dw 0
done: db 0
    align 2
env: times 14 db 0
    align 4
env32: times 28 db 0
