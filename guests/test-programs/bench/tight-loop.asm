; Tight ALU loop: 3 instructions per iteration. Result (EAX): 1 + 2 + ... + n (mod 2^32).
%include "bench-kernel.inc"

main:
    xor eax, eax
    mov ecx, ebx
    test ecx, ecx
    jz .done
.loop:                              ; 3 instructions per iteration
    add eax, ecx
    dec ecx
    jnz .loop
.done:
    EXIT

image_end:

section .bss
alignb 16
stack: resb 4096
stack_top:
bss_end:
