; Ring transitions: IRET to ring 3, #GP from a privileged instruction, INT n and exceptions from
; ring 3 through the TSS stack, a call gate with a parameter, RETF to the outer level, a data
; segment the ring may not load, and SYSENTER/SYSEXIT.
%include "pm.inc"

%macro REPORT 1
    mov eax, %1
    out 0xEC, eax
%endmacro

main32:
    SET_GATE 0x44, finish
    ; SYSENTER MSRs: CS=0x08 (so SS=0x10, and SYSEXIT uses 0x1B/0x23).
    mov ecx, 0x174
    mov eax, SEL_CODE0
    xor edx, edx
    wrmsr
    mov ecx, 0x175
    mov eax, 0x88000
    wrmsr
    mov ecx, 0x176
    mov eax, sysenter_target
    wrmsr
    CHECKPOINT 1
    ; Enter ring 3 with IOPL 3 so it can report through ports.
    push dword SEL_DATA3
    push dword STACK3_TOP
    push dword 0x3002
    push dword SEL_CODE3
    push dword ring3
    iret

ring3:
    mov ax, SEL_DATA3
    mov ds, ax
    mov es, ax
    CHECKPOINT 2
    mov ax, cs
    movzx eax, ax
    out 0xEC, eax
    ; A privileged instruction faults with #GP(0).
    EXPECT_FAULT r3_after_hlt
    hlt
r3_after_hlt:
    ; Loading a DPL 0 data segment faults with #GP(selector).
    EXPECT_FAULT r3_after_ds
    mov ax, SEL_DATA0
    mov ds, ax
r3_after_ds:
    ; INT n from ring 3 switches to the ring-0 stack and comes back.
    int 0x41
    REPORT esp
    ; Call gate with one parameter.
    push dword 0x1234
    call SEL_CALLGATE:0
    REPORT esp
    mov ax, ss
    movzx eax, ax
    out 0xEC, eax
    ; SYSENTER to ring 0 and SYSEXIT back.
    mov ecx, esp
    mov edx, r3_after_sysexit
    sysenter
r3_after_sysexit:
    mov ax, cs
    movzx eax, ax
    out 0xEC, eax
    CHECKPOINT 3
    int 0x44

callgate_target:
    ; Stack: return EIP, CS, parameter, old ESP, old SS
    mov ax, cs
    movzx eax, ax
    out 0xEC, eax
    REPORT [esp + 8]
    REPORT [esp + 4]
    REPORT [esp + 12]
    retf 4

sysenter_target:
    mov ax, cs
    movzx eax, ax
    out 0xEC, eax
    REPORT esp
    sysexit

task_b_entry:
    jmp finish
