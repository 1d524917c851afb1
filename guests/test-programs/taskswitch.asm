; Hardware task switches: CALL through a task gate (nested, NT and back link), IRET back,
; JMP to a TSS and back, CR0.TS after a switch.
%include "pm.inc"

%macro REPORT 1
    mov eax, %1
    out 0xEC, eax
%endmacro

main32:
    CHECKPOINT 1
    mov ebx, 0xAAAA
    call SEL_TASKGATE:0
    CHECKPOINT 3
    REPORT ebx                          ; task A's registers were restored
    str ax
    movzx eax, ax
    out 0xEC, eax
    mov eax, cr0
    and eax, 8
    out 0xEC, eax                       ; TS set by the switch
    clts
    ; TSS B is no longer busy, so a JMP can enter it again.
    jmp SEL_TSS_B:0
    CHECKPOINT 5
    str ax
    movzx eax, ax
    out 0xEC, eax
    jmp finish

task_b_entry:
    CHECKPOINT 2
    pushfd
    pop eax
    and eax, 0x4000
    out 0xEC, eax                       ; NT set by the CALL
    str ax
    movzx eax, ax
    out 0xEC, eax
    movzx eax, word [tss_b]             ; back link = TSS A
    out 0xEC, eax
    mov ebx, 0xBBBB
    iret
    ; Resumed here by the JMP.
    CHECKPOINT 4
    pushfd
    pop eax
    and eax, 0x4000
    out 0xEC, eax                       ; NT clear after a JMP
    jmp SEL_TSS_A:0

callgate_target:
    jmp finish
