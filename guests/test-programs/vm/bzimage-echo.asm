; The protected-mode part of a test bzImage (tests wrap it in a setup header): entered at 1 MiB by
; the 32-bit boot protocol with ESI pointing at boot_params, it echoes the command line, a newline
; and the initrd's bytes to the debug port 0xE9, then exits through isa-debug-exit with 0x15
; (status 43).
    bits 32
    org 0x100000

CMD_LINE_PTR equ 0x228
RAMDISK_IMAGE equ 0x218
RAMDISK_SIZE equ 0x21c

start:
    mov ebx, [esi + CMD_LINE_PTR]
.command_line:
    mov al, [ebx]
    test al, al
    jz .initrd
    out 0xe9, al
    inc ebx
    jmp .command_line
.initrd:
    mov al, 10
    out 0xe9, al
    mov ebx, [esi + RAMDISK_IMAGE]
    mov ecx, [esi + RAMDISK_SIZE]
.initrd_byte:
    jecxz .done
    mov al, [ebx]
    out 0xe9, al
    inc ebx
    dec ecx
    jmp .initrd_byte
.done:
    mov al, 0x15
    out 0xf4, al
    cli
    hlt
