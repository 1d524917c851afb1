; Calibrates the time-stamp counter against PIT channel 2 the way Linux's pit_calibrate_tsc does:
; channel 2 gated on through port 0x61, mode 0, 10 ms; the loop polls OUT2 (port 0x61 bit 5) and
; reads the TSC on every turn, keeping the smallest and largest step between two reads. Linux gives
; up ("Marking TSC unstable") when the largest step is more than ten times the smallest, taking it
; for an SMI. Prints the counter's advance over the 10 ms, both steps and the turns, then exits with
; 0x10 if Linux would accept the calibration and 0x11 if not (the VM reports 33 and 35).
%include "vm-kernel.inc"

main:
    PRINT banner
    PIT2_START_10MS
    rdtsc
    mov [tsc_start], eax
    mov ebx, eax
    mov dword [step_min], 0xffffffff
    mov dword [step_max], 0
    xor edi, edi
.poll:
    in al, 0x61
    test al, 0x20                   ; OUT2: terminal count reached
    jnz .counted
    rdtsc
    mov ecx, eax
    sub ecx, ebx
    mov ebx, eax
    cmp ecx, [step_min]
    jae .not_min
    mov [step_min], ecx
.not_min:
    cmp ecx, [step_max]
    jbe .not_max
    mov [step_max], ecx
.not_max:
    inc edi
    jmp .poll
.counted:
    rdtsc
    sub eax, [tsc_start]
    PRINT delta_message
    call print_hex32
    PRINT min_message
    mov eax, [step_min]
    call print_hex32
    PRINT max_message
    mov eax, [step_max]
    call print_hex32
    PRINT loops_message
    mov eax, edi
    call print_hex32
    mov al, 10
    call print_char
    cmp edi, 1000                   ; Linux wants enough turns to trust the minimum
    jb .rejected
    mov eax, [step_min]
    imul eax, eax, 10
    cmp [step_max], eax
    ja .rejected
    EXIT 0x10
.rejected:
    EXIT 0x11

banner: db "vmk tsc calibration", 10, 0
delta_message: db "tsc/10ms ", 0
min_message: db " min ", 0
max_message: db " max ", 0
loops_message: db " loops ", 0

tsc_start: dd 0
step_min: dd 0
step_max: dd 0
KERNEL_END
