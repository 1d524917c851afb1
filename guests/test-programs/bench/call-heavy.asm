; Call-heavy loop: a call to a function with a frame (push/mov/add/pop/ret) per iteration,
; 8 instructions per iteration. Result (EAX): n.
%include "bench-kernel.inc"

main:
    xor eax, eax
    mov ecx, ebx
    test ecx, ecx
    jz .done
.loop:                              ; 8 instructions per iteration
    call function
    dec ecx
    jnz .loop
.done:
    EXIT

function:
    push ebp
    mov ebp, esp
    add eax, 1
    pop ebp
    ret

image_end:

section .bss
alignb 16
stack: resb 4096
stack_top:
bss_end:
