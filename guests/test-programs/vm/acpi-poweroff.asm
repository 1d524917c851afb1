; Powers the machine off the way an ACPI OS does, finding everything through the firmware's tables:
; scans 0xE0000-0xFFFFF for the RSDP ("RSD PTR " on a 16-byte boundary, 20 bytes summing to zero),
; follows the RSDT to the FADT ("FACP"), prints its PM1a control block and SCI, and writes SLP_EN with
; SLP_TYP 0 (\_S5 on this board) there. A machine that ignores the write falls through to EXIT 0x33.
%define LOAD_ADDRESS 0x100000
%include "vm-kernel.inc"

main:
    mov esi, 0xe0000
.scan:
    cmp dword [esi], 'RSD '
    jne .next
    cmp dword [esi + 4], 'PTR '
    jne .next
    mov ecx, 20
    call checksum
    jz .found
.next:
    add esi, 16
    cmp esi, 0x100000
    jb .scan
    PRINT no_rsdp
    EXIT 0x31

.found:
    mov esi, [esi + 16]             ; RSDT
    cmp dword [esi], 'RSDT'
    jne .bad
    mov ecx, [esi + 4]
    lea edi, [esi + ecx]            ; end of the entries
    add esi, 36
.entry:
    cmp esi, edi
    jae .bad
    mov ebx, [esi]
    add esi, 4
    cmp dword [ebx], 'FACP'
    jne .entry
    push esi
    mov esi, ebx
    mov ecx, [ebx + 4]
    call checksum
    pop esi
    jnz .bad
    PRINT pm1a_cnt
    mov eax, [ebx + 64]
    call print_hex32
    PRINT sci
    movzx eax, word [ebx + 46]
    call print_hex32
    mov al, 10
    call print_char
    mov edx, [ebx + 64]
    mov ax, 1 << 13                 ; SLP_EN, SLP_TYP 0
    out dx, ax
    PRINT still_on
    EXIT 0x33
.bad:
    PRINT bad_tables
    EXIT 0x32

; ZF set when the ECX bytes at ESI sum to zero modulo 256.
checksum:
    push esi
    xor al, al
.add:
    add al, [esi]
    inc esi
    loop .add
    pop esi
    test al, al
    ret

no_rsdp: db "no RSDP", 10, 0
bad_tables: db "bad tables", 10, 0
pm1a_cnt: db "PM1a_CNT=", 0
sci: db " SCI=", 0
still_on: db "still on", 10, 0
KERNEL_END
