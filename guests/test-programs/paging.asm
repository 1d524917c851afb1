; Paging: 4 KiB and 4 MiB (PSE) pages, A/D bits, CR0.WP, not-present and protection faults with
; CR2, INVLPG and CR3 reload. Reports values on port 0xEC.
%include "pm.inc"

PD equ 0x20000
PT equ 0x21000

%macro REPORT 1
    mov eax, %1
    out 0xEC, eax
%endmacro

main32:
    ; Identity-map the first 4 MiB with 4 KiB pages (present, writable, user).
    mov edi, PT
    mov eax, 0x7
    mov ecx, 1024
.fill:
    stosd
    add eax, 0x1000
    loop .fill
    mov dword [PT + 0x30 * 4], 0x30000 | 0x5     ; 0x30000 read-only
    mov dword [PT + 0x31 * 4], 0                 ; 0x31000 not present
    mov edi, PD
    xor eax, eax
    mov ecx, 1024
    rep stosd
    mov dword [PD + 0], PT | 0x7
    mov dword [PD + 4], 0x400000 | 0x87          ; 4 MiB page: linear 4M -> physical 4M
    mov dword [PD + 8], 0x400000 | 0x87          ; 4 MiB page: linear 8M -> physical 4M (alias)
    mov eax, cr4
    or eax, 0x10                                 ; PSE
    mov cr4, eax
    mov eax, PD
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    CHECKPOINT 1

    ; Alias through the two big pages.
    mov dword [0x800010], 0xCAFEBABE
    REPORT [0x400010]
    ; Accessed/dirty bits.
    mov dword [0x32000], 1
    mov eax, [0x33000]
    REPORT [PT + 0x32 * 4]
    REPORT [PT + 0x33 * 4]
    REPORT [PD + 8]
    ; Supervisor write to a read-only page succeeds while WP is clear.
    mov dword [0x30000], 5
    REPORT [0x30000]
    ; With WP set it faults: error code P|W = 3, CR2 = the address.
    mov eax, cr0
    or eax, 0x10000
    mov cr0, eax
    EXPECT_FAULT after_wp
    mov dword [0x30004], 6
after_wp:
    mov eax, cr2
    out 0xEC, eax
    ; Not-present read: error code 0.
    EXPECT_FAULT after_np
    mov eax, [0x31008]
after_np:
    mov eax, cr2
    out 0xEC, eax
    ; Remap 0x34000 to 0x35000; INVLPG makes the change visible.
    mov dword [0x35000], 0x35
    mov dword [0x34000], 0x34
    mov eax, [0x34000]
    mov dword [PT + 0x34 * 4], 0x35000 | 0x7
    invlpg [0x34000]
    REPORT [0x34000]
    ; Back to 0x34000, made visible by reloading CR3.
    mov dword [PT + 0x34 * 4], 0x34000 | 0x7
    mov eax, cr3
    mov cr3, eax
    REPORT [0x34000]
    ; A write spanning two pages whose second half faults leaves the first untouched.
    mov eax, cr0
    and eax, ~0x10000
    mov cr0, eax
    mov dword [0x30ffc], 0x11111111
    mov dword [PT + 0x31 * 4], 0
    mov eax, cr3
    mov cr3, eax
    EXPECT_FAULT after_split
    mov dword [0x30ffe], 0x22222222
after_split:
    REPORT [0x30ffc]
    mov eax, cr2
    out 0xEC, eax
    CHECKPOINT 2
    jmp finish

callgate_target:
task_b_entry:
    jmp finish
