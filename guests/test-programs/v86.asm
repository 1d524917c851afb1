; Virtual-8086 mode: IRET into a V86 task, real-mode style addressing, INT n to a ring-0
; handler (which sees the V86 segment registers on its stack) and back, I/O through the TSS
; bitmap (#GP here: the TSS has none), and alignment checking at CPL 3.
%include "pm.inc"

%macro REPORT 1
    mov eax, %1
    out 0xEC, eax
%endmacro

main32:
    SET_GATE 0x45, report_v86_frame
    SET_GATE 0x46, finish
    CHECKPOINT 1
    mov eax, cr0
    or eax, 0x40000         ; CR0.AM: alignment checks for CPL 3 when EFLAGS.AC is set
    mov cr0, eax
    push dword 0            ; gs
    push dword 0            ; fs
    push dword 0x0100       ; ds
    push dword 0            ; es
    push dword 0            ; ss
    push dword 0x6000       ; sp
    push dword 0x23002      ; VM | IOPL 3
    push dword 0            ; cs
    push dword v86_code     ; ip
    iret

; Stack at entry from V86: eip cs eflags esp ss es ds fs gs
report_v86_frame:
    REPORT [esp + 8]        ; eflags (VM set)
    REPORT [esp + 24]       ; saved DS = 0x100
    mov ax, ds
    movzx eax, ax
    out 0xEC, eax           ; DS was loaded null... we reload it for our own use
    iret

    bits 16
v86_code:
    mov word [0x10], 0x4321             ; DS = 0x100: linear 0x1010
    mov dword [resume_at - 0x1000], after_out
    mov al, 1
    out 0xEB, al                        ; no I/O bitmap: #GP(0)
after_out:
    int 0x45
    xor ax, ax
    mov ds, ax
    mov ax, [0x1010]
    movzx eax, ax
    push eax
    pop ebx
    ; Alignment check: EFLAGS.AC with CR0.AM at CPL 3 (V86 is CPL 3) faults misaligned data.
    pushfd
    or dword [esp], 0x40000
    popfd
    mov dword [resume_at], after_ac
    mov eax, [0x1011]
after_ac:
    int 0x46

    bits 32
callgate_target:
task_b_entry:
    jmp finish
