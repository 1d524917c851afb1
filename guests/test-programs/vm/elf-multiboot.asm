; A multiboot kernel in ELF form (nasm -f elf32, then `ld -N -Ttext=0x100000`: one segment, no ELF
; header segment in the BIOS area below 1 MiB). Its header has no address fields, so the loader takes
; the segments from the ELF program headers. Says so on the debug port 0xE9 and exits through
; isa-debug-exit with 0x12 (status 37).
    bits 32
MB_MAGIC equ 0x1badb002
MB_FLAGS equ 0x00000003             ; page-aligned modules, memory information

section .text
    ; first in .text, so within the first 8 KiB of the file where loaders look for it
    dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
global start
start:
    cmp eax, 0x2badb002             ; the loader's magic
    jne .wrong
    mov esi, message
.next:
    lodsb
    test al, al
    jz .done
    out 0xe9, al
    jmp .next
.done:
    mov al, 0x12
    out 0xf4, al
.wrong:
    mov al, 0x13
    out 0xf4, al
    cli
    hlt

section .data
message: db "hello from an ELF multiboot kernel", 10, 0
