; Prints "boot" and resets the machine the way its command line says: "kbd" pulses the CPU reset
; line through the keyboard controller (command 0xFE), "port92" through port 0x92 bit 0, "cf9" writes
; the chipset's reset control register, anything else triple-faults (an empty IDT and INT3).
%include "vm-kernel.inc"

main:
    PRINT boot_message
    mov ebx, [multiboot_info]
    mov esi, [ebx + 16]             ; cmdline
    cmp dword [esi], "kbd"
    je .keyboard_controller
    cmp dword [esi], "port"
    je .port92
    cmp dword [esi], "cf9"
    je .cf9
    lidt [empty_idt]
    int3
.keyboard_controller:
    mov al, 0xfe
    out 0x64, al
    jmp .spin
.port92:
    in al, 0x92
    or al, 1
    out 0x92, al
    jmp .spin
.cf9:
    mov dx, 0xcf9
    mov al, 0x02
    out dx, al
    mov al, 0x06                    ; SYS_RST then RST_CPU
    out dx, al
.spin:
    jmp .spin

boot_message: db "boot", 10, 0
empty_idt:
    dw 0
    dd 0
KERNEL_END
