; Memory copy: each iteration copies a 64 KiB block dword by dword with a load/store loop,
; 5 + 6 * 16384 = 98309 instructions per iteration. The source holds a pattern written before the
; measured loop; afterwards the destination is summed, so the result (EAX: the sum of
; its dwords, mod 2^32) shows the copy happened: 0 for no iterations.
%include "bench-kernel.inc"

BLOCK_DWORDS equ 16384
PATTERN_START equ 0x12345678
PATTERN_STEP equ 0x9e3779b9

main:
    mov edi, source                 ; source[i] = PATTERN_START + i * PATTERN_STEP
    mov ecx, BLOCK_DWORDS
    mov eax, PATTERN_START
.fill:
    mov [edi], eax
    add edi, 4
    add eax, PATTERN_STEP
    dec ecx
    jnz .fill

    test ebx, ebx
    jz .check
.block:                             ; 5 + 6 * BLOCK_DWORDS instructions per iteration
    mov esi, source
    mov edi, destination
    mov ecx, BLOCK_DWORDS
.copy:
    mov eax, [esi]
    mov [edi], eax
    add esi, 4
    add edi, 4
    dec ecx
    jnz .copy
    dec ebx
    jnz .block

.check:
    xor eax, eax
    mov esi, destination
    mov ecx, BLOCK_DWORDS
.sum:
    add eax, [esi]
    add esi, 4
    dec ecx
    jnz .sum
    EXIT

image_end:

section .bss
alignb 4096
source: resb BLOCK_DWORDS * 4
destination: resb BLOCK_DWORDS * 4
stack: resb 4096
stack_top:
bss_end:
