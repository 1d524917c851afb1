; One end of a VM-to-VM exchange over e1000s on a vSwitch. The test patches the peer block (after
; the "VMKPEER:" marker) before boot: the peer VM's MAC and a NUL-terminated payload. The guest
; finds the 82545EM at 00:03.0 as e1000-echo.asm does, brings the link up, posts a receive ring,
; waits SETTLE_TICKS of the PIT (so the peer's ring is posted too), sends one unicast frame to the
; peer, then polls its receive ring until a frame arrives or RX_TIMEOUT_TICKS pass. It reports on
; COM1, lingers LINGER_TICKS (so its vSwitch port can be inspected) and exits:
;   0x10 got a frame from the peer, 0x11 got a frame from someone else, 0x20 nothing received,
;   0x01 link down, 0x02 transmit not done.
%include "vm-kernel.inc"

%include "vm-e1000.inc"

RX_DESCRIPTORS equ 8
FRAME_LENGTH equ 60
PAYLOAD_MAX equ 32

PIT_RELOAD equ 1193                 ; about 1 kHz: a tick is a millisecond
SETTLE_TICKS equ 10
RX_TIMEOUT_TICKS equ 100
LINGER_TICKS equ 20

; %1 = ticks to wait in HLT
%macro WAIT_TICKS 1
    mov edx, [ticks]
    add edx, %1
%%wait:
    cli
    cmp [ticks], edx
    jae %%done
    sti
    hlt
    jmp %%wait
%%done:
    sti
%endmacro

%macro FINISH 1
    WAIT_TICKS LINGER_TICKS
    EXIT %1
%endmacro

main:
    PRINT banner
    mov eax, NIC_CONFIG | PCI_BAR0
    call config_read
    and eax, 0xfffffff0
    mov [nic_base], eax
    mov eax, NIC_CONFIG | PCI_COMMAND
    call config_read
    or eax, 0x4                          ; bus master
    mov ecx, eax
    mov eax, NIC_CONFIG | PCI_COMMAND
    call config_write
    mov eax, NIC_CONFIG | PCI_INTERRUPT_LINE
    call config_read
    and eax, 0xff
    mov [nic_irq], eax
    lea ecx, [eax + PIC_VECTOR_BASE]
    mov eax, nic_interrupt
    call set_gate
    call unmask_nic_irq

    ; PIT channel 0 at about 1 kHz on IRQ0: the guest's own clock for its timeouts
    mov ecx, PIC_VECTOR_BASE
    mov eax, timer_interrupt
    call set_gate
    mov al, 0x34
    out 0x43, al
    mov al, PIT_RELOAD & 0xff
    out 0x40, al
    mov al, PIT_RELOAD >> 8
    out 0x40, al
    in al, 0x21
    and al, 0xfe
    out 0x21, al

    NIC_WRITE CTRL, 1 << 26              ; RST
    NIC_WRITE IMS, ICR_LSC | ICR_TXDW | ICR_RXT0
    NIC_WRITE CTRL, 1 << 6               ; SLU
    sti
    WAIT_FOR_CAUSE ICR_LSC
    NIC_READ STATUS
    test eax, 2                          ; LU
    jz link_down

    ; receive ring first, so a frame from a faster peer has somewhere to land
    mov edi, RX_RING
    mov eax, RX_BUFFERS
    mov ecx, RX_DESCRIPTORS
.rx_fill:
    mov [edi], eax
    mov dword [edi + 4], 0
    mov dword [edi + 8], 0
    mov dword [edi + 12], 0
    add eax, 2048
    add edi, 16
    loop .rx_fill
    NIC_WRITE RDBAL, RX_RING
    NIC_WRITE RDBAH, 0
    NIC_WRITE RDLEN, RX_DESCRIPTORS * 16
    NIC_WRITE RDH, 0
    NIC_WRITE RDT, RX_DESCRIPTORS - 1
    NIC_WRITE RCTL, (1 << 1) | (1 << 15) | (1 << 26)   ; EN, BAM, SECRC, 2 KiB buffers
    PRINT link_message

    WAIT_TICKS SETTLE_TICKS

    ; the frame: to the peer, from our station address, EtherType 0x88B5, the patched payload
    mov edi, TX_BUFFER
    xor eax, eax
    mov ecx, FRAME_LENGTH / 4
    rep stosd
    mov edi, TX_BUFFER
    mov eax, [peer_mac]
    mov [edi], eax
    mov ax, [peer_mac + 4]
    mov [edi + 4], ax
    NIC_READ RAL0
    mov [edi + 6], eax
    NIC_READ RAH0
    mov [edi + 10], ax
    mov word [edi + 12], 0xb588
    lea edi, [edi + 14]
    mov esi, peer_payload
    mov ecx, PAYLOAD_MAX
    rep movsb

    mov edi, TX_RING
    xor eax, eax
    mov ecx, 8 * 4
    rep stosd
    mov dword [TX_RING], TX_BUFFER
    mov word [TX_RING + 8], FRAME_LENGTH
    mov byte [TX_RING + 11], 0x0b        ; EOP | IFCS | RS
    NIC_WRITE TDBAL, TX_RING
    NIC_WRITE TDBAH, 0
    NIC_WRITE TDLEN, 8 * 16
    NIC_WRITE TDH, 0
    NIC_WRITE TDT, 0
    NIC_WRITE TIPG, 10 | (8 << 10) | (6 << 20)
    NIC_WRITE TCTL, (1 << 1) | (1 << 3) | (0x10 << 4) | (0x40 << 12)   ; EN, PSP, CT, COLD
    NIC_WRITE TDT, 1
    WAIT_FOR_CAUSE ICR_TXDW
    test byte [TX_RING + 12], 1          ; DD
    jz tx_not_done
    PRINT sent_message

    ; poll the first receive descriptor until DD or the deadline (woken by the PIT or RXT0)
    mov edx, [ticks]
    add edx, RX_TIMEOUT_TICKS
.rx_wait:
    cli
    test byte [RX_RING + 12], 1          ; DD
    jnz .rx_done
    cmp [ticks], edx
    jae nothing_received
    sti
    hlt
    jmp .rx_wait
.rx_done:
    sti
    mov esi, RX_BUFFERS + 6              ; source address
    mov edi, peer_mac
    mov ecx, 6
    repe cmpsb
    jne from_stranger
    PRINT received_message
    movzx ecx, word [RX_RING + 8]
    sub ecx, 14
    mov esi, RX_BUFFERS + 14
.print_payload:
    lodsb
    test al, al
    jz .payload_done
    call print_char
    loop .print_payload
.payload_done:
    mov al, 10
    call print_char
    FINISH 0x10

from_stranger:
    PRINT stranger_message
    FINISH 0x11
nothing_received:
    sti
    PRINT nothing_message
    FINISH 0x20
link_down:
    PRINT link_down_message
    EXIT 0x01
tx_not_done:
    PRINT tx_not_done_message
    EXIT 0x02

%include "vm-e1000-routines.inc"

timer_interrupt:
    push eax
    inc dword [ticks]
    mov al, 0x20
    out 0x20, al
    pop eax
    iret

banner: db "vmk vm-peer guest", 10, 0
link_message: db "link up", 10, 0
sent_message: db "sent", 10, 0
received_message: db "received from peer: ", 0
stranger_message: db "received from a stranger", 10, 0
nothing_message: db "nothing received", 10, 0
link_down_message: db "link down after LSC", 10, 0
tx_not_done_message: db "TXDW without DD", 10, 0

; patched by the test before boot
peer_block: db "VMKPEER:"
peer_mac: db 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
peer_payload: times PAYLOAD_MAX db 0

nic_base: dd 0
nic_irq: dd 0
icr_seen: dd 0
ticks: dd 0
KERNEL_END
