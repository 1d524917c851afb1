; A miniature OS: paging on, a timer interrupt (driven by the test's InterruptSource) arriving in
; ring 0 HLT and in a ring-3 busy loop, and system calls through INT 0x80 and SYSENTER.
%include "pm.inc"

PD equ 0x20000
PT equ 0x21000
TIMER_VECTOR equ 0x20

%macro REPORT 1
    mov eax, %1
    out 0xEC, eax
%endmacro

main32:
    ; Identity map 4 MiB, user accessible.
    mov edi, PT
    mov eax, 0x7
    mov ecx, 1024
.map:
    stosd
    add eax, 0x1000
    loop .map
    mov dword [PD], PT | 0x7
    mov eax, PD
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    SET_GATE TIMER_VECTOR, timer_handler
    SET_GATE 0x80, syscall_handler
    mov ecx, 0x174
    mov eax, SEL_CODE0
    xor edx, edx
    wrmsr
    mov ecx, 0x175
    mov eax, 0x88000
    wrmsr
    mov ecx, 0x176
    mov eax, sysenter_handler
    wrmsr
    CHECKPOINT 1
    ; Idle until the first tick.
    sti
    hlt
    cli
    CHECKPOINT 2
    ; To ring 3 with interrupts enabled.
    push dword SEL_DATA3
    push dword STACK3_TOP
    push dword 0x202
    push dword SEL_CODE3
    push dword user_main
    iret

timer_handler:
    push eax
    push ds
    mov ax, SEL_DATA0
    mov ds, ax
    inc dword [ticks]
    mov eax, [esp + 12]             ; interrupted CS
    mov [last_cs], eax
    pop ds
    pop eax
    iret

; eax = 1: report ebx; eax = 2: halt the machine
syscall_handler:
    cmp eax, 2
    je finish
    mov eax, ebx
    out 0xEC, eax
    iret

sysenter_handler:
    mov eax, ebx
    add eax, 1000
    out 0xEC, eax
    sysexit

user_main:
    mov ax, SEL_DATA3
    mov ds, ax
    xor esi, esi
.spin:
    inc esi
    cmp dword [ticks], 5
    jb .spin
    mov eax, 1
    mov ebx, [last_cs]
    int 0x80                        ; the timer last interrupted ring 3
    mov eax, 1
    xor ebx, ebx
    test esi, esi
    setnz bl
    int 0x80
    mov ebx, 7
    mov ecx, esp
    mov edx, .after_sysenter
    sysenter
.after_sysenter:
    mov eax, 2
    int 0x80

align 4
ticks: dd 0
last_cs: dd 0

callgate_target:
task_b_entry:
    jmp finish
