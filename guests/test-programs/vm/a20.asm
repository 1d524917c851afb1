; Closes the A20 gate through port 0x92, writes a marker at 0x300000 (which then lands at 0x200000),
; opens the gate through the keyboard controller's output port and reads both addresses back.
; Runs below 1 MiB so closing the gate does not move its own code. Exits with status 0x20.
%define LOAD_ADDRESS 0x90000
%include "vm-kernel.inc"

MARKER equ 0xa20a20

main:
    mov dword [0x200000], 0
    mov dword [0x300000], 0
    in al, 0x92
    and al, ~2                      ; fast A20 off
    out 0x92, al
    mov dword [0x300000], MARKER    ; bit 20 masked: this is 0x200000
    ; open it again as DOS did: i8042 command 0xD1, then the output port with A20 (bit 1) set
    call wait_input_empty
    mov al, 0xd1
    out 0x64, al
    call wait_input_empty
    mov al, 0xdf
    out 0x60, al
    call wait_input_empty
    PRINT at_200000
    mov eax, [0x200000]
    call print_hex32
    PRINT at_300000
    mov eax, [0x300000]
    call print_hex32
    mov al, 10
    call print_char
    EXIT 0x20

wait_input_empty:
    in al, 0x64
    test al, 2
    jnz wait_input_empty
    ret

at_200000: db "0x200000=", 0
at_300000: db " 0x300000=", 0
KERNEL_END
