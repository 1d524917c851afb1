; A 64 KiB firmware image for `vmk run --bios`: the processor starts at F000:FFF0 (16 bytes below
; 4 GiB, in the ROM's high mapping), jumps into the ISA alias at F000:xxxx, announces each step on
; the POST code port, greets on port 0xE9 and COM1, checks through a flat data segment that the
; image below 4 GiB is the one below 1 MiB, and exits through isa-debug-exit with 0x2A (status 85)
; when it is, 0x2B (87) when it is not.

    bits 16
    org 0

COM1 equ 0x3f8
DEBUGCON equ 0xe9
POST equ 0x80
EXIT_PORT equ 0xf4
ROM_SEGMENT equ 0xf000
ROM_SIZE equ 0x10000
FLAT_DATA equ 0x08

%macro POST_CODE 1
    mov al, %1
    out POST, al
%endmacro

start:
    cli
    cld
    POST_CODE 0x01
    mov ax, cs
    mov ds, ax
    xor ax, ax
    mov ss, ax
    mov sp, 0x7000
    call init_com1
    POST_CODE 0x02
    mov si, greeting
    call print

    ; Unreal mode for one read: a flat data segment reaches the ROM's copy at the top of 4 GiB.
    POST_CODE 0x03
    o32 lgdt [gdt_descriptor]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    mov bx, FLAT_DATA
    mov es, bx
    and al, 0xfe
    mov cr0, eax
    mov edi, 0x100000000 - ROM_SIZE + signature
    mov eax, [es:edi]
    cmp eax, [signature]
    jne .differs
    mov eax, [es:dword 0x100000000 - 16]
    cmp eax, [reset_vector]
    jne .differs
    POST_CODE 0x04
    mov si, same_message
    call print
    mov al, 0x2a
    out EXIT_PORT, al
    jmp halt
.differs:
    POST_CODE 0xee
    mov si, differs_message
    call print
    mov al, 0x2b
    out EXIT_PORT, al
halt:
    hlt
    jmp halt

init_com1:
    mov dx, COM1 + 1
    xor al, al                      ; no UART interrupts
    out dx, al
    mov dx, COM1 + 3
    mov al, 0x80                    ; DLAB
    out dx, al
    mov dx, COM1
    mov al, 1                       ; divisor 1: 115200 baud
    out dx, al
    mov dx, COM1 + 1
    xor al, al
    out dx, al
    mov dx, COM1 + 3
    mov al, 0x03                    ; 8N1
    out dx, al
    mov dx, COM1 + 2
    mov al, 0x07                    ; FIFOs on and cleared
    out dx, al
    ret

; ds:si = NUL-terminated string, to the debug port and COM1
print:
    lodsb
    test al, al
    jz .done
    out DEBUGCON, al
    mov ah, al
    mov dx, COM1 + 5
.wait:
    in al, dx
    test al, 0x20                   ; THRE
    jz .wait
    mov al, ah
    mov dx, COM1
    out dx, al
    jmp print
.done:
    ret

greeting: db "vmk bios rom: hello from F000:FFF0", 10, 0
same_message: db "the ROM below 4 GiB matches its copy below 1 MiB", 10, 0
differs_message: db "the ROM below 4 GiB differs from its copy below 1 MiB", 10, 0
signature: db "vmkR"

    align 8
gdt:
    dq 0
    dq 0x00cf93000000ffff           ; 0x08: flat data, 4 GiB, read/write
gdt_end:
gdt_descriptor:
    dw gdt_end - gdt - 1
    dd ROM_SEGMENT * 16 + gdt

    times 0xfff0 - ($ - $$) db 0xff
reset_vector:
    jmp ROM_SEGMENT:start
    times ROM_SIZE - ($ - $$) db 0xff
