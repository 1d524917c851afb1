; Real mode: IVT interrupts and exceptions, 16-bit addressing, far call/ret, and a round trip
; through protected mode back to real mode (the segment caches keep their limits).
    bits 16
    org 0x7C00
%macro REPORT16 1
    mov eax, %1
    out 0xEC, eax
%endmacro
start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7000
    mov word [0x21 * 4], int21
    mov word [0x21 * 4 + 2], 0
    mov word [0 * 4], divide_error
    mov word [0 * 4 + 2], 0
    mov al, 1
    out 0xEB, al
    mov ax, 0x1234
    int 0x21
    REPORT16 eax
    ; #DE in real mode: the handler sees IP of the DIV and skips it.
    xor dx, dx
    mov ax, 10
    xor cx, cx
    div cx
    REPORT16 0xDE
    ; Segment arithmetic: 0x1000:0x0010 is linear 0x10010.
    mov ax, 0x1000
    mov es, ax
    mov word [es:0x0010], 0xBEEF
    mov ax, 0x1001
    mov fs, ax
    REPORT16 [fs:0]
    ; 16-bit addressing with bp (defaults to SS) and bx+si.
    mov bx, 0x100
    mov si, 0x20
    mov word [bx + si], 0x4242
    mov bp, 0x120
    REPORT16 [bp]
    ; Far call and return.
    call 0x0000:far_proc
    REPORT16 ecx
    ; Stack wraps at 64 KiB with a 16-bit SP.
    mov ax, 0x2000
    mov ss, ax
    mov sp, 0
    push word 0x5555
    REPORT16 esp
    mov ax, [ss:0xFFFE]
    movzx eax, ax
    out 0xEC, eax
    xor ax, ax
    mov ss, ax
    mov sp, 0x7000
    mov al, 2
    out 0xEB, al
    cli
    hlt

int21:
    add ax, 1
    iret

divide_error:
    push bp
    mov bp, sp
    add word [bp + 2], 2            ; skip "div cx" (2 bytes)
    pop bp
    iret

far_proc:
    mov ecx, 0xFA
    retf
