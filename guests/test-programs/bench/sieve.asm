; Sieve of Eratosthenes over SIEVE_SIZE byte flags, run once per iteration: byte stores in a
; strided marking loop, byte loads and compare-and-branch in the scan, a call per pass and per
; prime (a small helper that accumulates the checksum), so the workload mixes the patterns of
; compiled C code. Result (EAX): the sum over all passes of every prime below SIEVE_SIZE plus the
; prime count, mod 2^32; 0 for no iterations.
;
; The instruction count of a pass is fixed by SIEVE_SIZE (the benchmark computes it from the same
; algorithm): 3 in the main loop and 6 of set-up and return, 4 per flag to initialise, then per
; candidate i in 2..SIZE-1 a scan step of 5 when i is not prime and 13 + 4 per multiple marked
; when it is (the call to the helper included).
%include "bench-kernel.inc"

SIEVE_SIZE equ 8192

main:
    xor esi, esi                    ; checksum
    test ebx, ebx
    jz .done
.pass:
    call sieve
    dec ebx
    jnz .pass
.done:
    mov eax, esi
    EXIT

; One pass: initialises the flags, strikes out multiples, adds primes to ESI. Keeps EBX.
sieve:
    push ebx
    mov edi, flags                  ; 4 per flag
    mov ecx, SIEVE_SIZE
.init:
    mov byte [edi], 1
    inc edi
    dec ecx
    jnz .init
    mov ecx, 2                      ; candidate
.scan:                              ; 5 per candidate not prime
    cmp byte [flags + ecx], 0
    je .next
    call count_prime                ; 13 with the helper's 4 and the scan step
    lea eax, [ecx + ecx]            ; first multiple
    cmp eax, SIEVE_SIZE
    jae .next
.mark:                              ; 4 per multiple marked
    mov byte [flags + eax], 0
    add eax, ecx
    cmp eax, SIEVE_SIZE
    jb .mark
.next:
    inc ecx
    cmp ecx, SIEVE_SIZE
    jb .scan
    pop ebx
    ret

; ESI += ECX + 1 (the prime and one for the count).
count_prime:
    add esi, ecx
    inc esi
    nop
    ret

image_end:

section .bss
alignb 4096
flags: resb SIEVE_SIZE
stack: resb 4096
stack_top:
bss_end:
