; A double fault handled by a task gate: #GP with a not-present #GP gate escalates to #DF,
; whose IDT entry switches to TSS B; the error code lands on the new task's stack.
%include "pm.inc"

%macro REPORT 1
    mov eax, %1
    out 0xEC, eax
%endmacro

main32:
    ; IDT[8] := task gate to TSS B; IDT[13] not present.
    mov dword [IDT_BASE + 8 * 8], SEL_TSS_B << 16
    mov dword [IDT_BASE + 8 * 8 + 4], 0x8500
    and byte [IDT_BASE + 13 * 8 + 5], 0x7F
    CHECKPOINT 1
    mov ax, 0x1000
    mov ds, ax                  ; #GP(0x1000) -> #NP(13*8+2+1) on delivery -> #DF -> task B
    CHECKPOINT 0xEE             ; never reached
    jmp finish

task_b_entry:
    CHECKPOINT 2
    REPORT [esp]                ; #DF error code (0)
    str ax
    movzx eax, ax
    out 0xEC, eax
    movzx eax, word [tss_b]     ; back link to the interrupted task
    out 0xEC, eax
    pushfd
    pop eax
    and eax, 0x4000
    out 0xEC, eax
    mov eax, [tss_a + 0x20]     ; the interrupted task's saved EIP: the faulting MOV DS
    out 0xEC, eax
    jmp finish

callgate_target:
    jmp finish
