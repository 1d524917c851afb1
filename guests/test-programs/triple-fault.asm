; An exception with an empty IDT: #GP -> #DF -> shutdown (triple fault).
%include "pm.inc"

main32:
    CHECKPOINT 1
    lidt [empty_idtr]
    mov ax, 0x1000
    mov ds, ax
    CHECKPOINT 2
    jmp finish

empty_idtr:
    dw 0
    dd 0

callgate_target:
task_b_entry:
    jmp finish
