; Each exception class is raised once and returned from; the stub log records vector and error code.
%include "pm.inc"

main32:
    CHECKPOINT 1
    EXPECT_FAULT after_de
    xor edx, edx
    xor ecx, ecx
    div ecx
after_de:
    EXPECT_FAULT after_ud
    ud2
after_ud:
    int3                        ; trap: resumes after itself
    mov al, 0x7f
    add al, 1                   ; OF = 1
    into
    EXPECT_FAULT after_br
    mov eax, 10
    bound eax, [bounds]
after_br:
    EXPECT_FAULT after_gp
    mov ax, 0x1000              ; beyond the GDT limit
    mov ds, ax
after_gp:
    EXPECT_FAULT after_np
    mov ax, SEL_NOTPRESENT
    mov es, ax
after_np:
    mov ax, SEL_SMALLDATA
    mov fs, ax
    EXPECT_FAULT after_limit
    mov eax, [fs:0xFFE]         ; crosses the 0xFFF limit
after_limit:
    ; #SS: SS-relative access beyond a small stack segment's limit
    mov ax, SEL_SMALLDATA
    mov ss, ax
    mov esp, 0xF00
    mov ebp, 0x2000
    EXPECT_FAULT after_ss
    mov eax, [ebp]
after_ss:
    mov ax, SEL_DATA0
    mov ss, ax
    mov esp, STACK0_TOP
    ; #NM: x87 instruction with CR0.TS set
    mov eax, cr0
    or eax, 8
    mov cr0, eax
    EXPECT_FAULT after_nm
    fnop
after_nm:
    clts
    ; #DB: single step one instruction (the handler clears TF)
    pushfd
    or dword [esp], 0x100
    popfd
    nop
    ; INT n
    int 0x40
    ; #GP(0) on a privileged-only-at-CPL0 check is in the privilege test; here: bad CR write
    EXPECT_FAULT after_cr
    mov eax, 0x80000000         ; PG without PE
    mov cr0, eax
after_cr:
    ; #DF: #GP whose gate is not present escalates (contributory + contributory)
    and byte [IDT_BASE + 13 * 8 + 5], 0x7F
    EXPECT_FAULT after_df
    mov ax, 0x1000
    mov ds, ax
after_df:
    or byte [IDT_BASE + 13 * 8 + 5], 0x80
    mov ax, SEL_DATA0
    mov ds, ax
    CHECKPOINT 2
    jmp finish

bounds: dd 0, 5

callgate_target:
task_b_entry:
    jmp finish
