; A tiny e1000 driver: finds the 82545EM at 00:03.0 by configuration mechanism #1, turns on bus
; mastering, resets the MAC, sets link up and waits (in HLT) for the link-status-change interrupt on
; the interrupt line firmware wrote. Then it posts a receive ring, sends one broadcast frame from a
; transmit ring in guest RAM, waits for the transmit-done interrupt, waits for a frame to arrive,
; prints its payload and exits with status 0x10.
%include "vm-kernel.inc"

%include "vm-e1000.inc"

RX_DESCRIPTORS equ 8                ; RDLEN must be a multiple of 128 bytes
FRAME_LENGTH equ 60

main:
    PRINT banner
    ; BAR0 (memory, 64-bit): the register window firmware placed
    mov eax, NIC_CONFIG | PCI_BAR0
    call config_read
    and eax, 0xfffffff0
    mov [nic_base], eax
    ; bus master on, keeping the decode bits firmware set
    mov eax, NIC_CONFIG | PCI_COMMAND
    call config_read
    or eax, 0x4
    mov ecx, eax
    mov eax, NIC_CONFIG | PCI_COMMAND
    call config_write
    ; the ISA IRQ the PIIX3 routes INTA# to
    mov eax, NIC_CONFIG | PCI_INTERRUPT_LINE
    call config_read
    and eax, 0xff
    mov [nic_irq], eax
    lea ecx, [eax + PIC_VECTOR_BASE]
    mov eax, nic_interrupt
    call set_gate
    call unmask_nic_irq
    PRINT irq_message
    mov eax, [nic_irq]
    call print_hex32
    mov al, 10
    call print_char

    NIC_WRITE CTRL, 1 << 26              ; RST
    NIC_WRITE IMS, ICR_LSC | ICR_TXDW | ICR_RXT0
    NIC_WRITE CTRL, 1 << 6               ; SLU
    sti
    WAIT_FOR_CAUSE ICR_LSC
    NIC_READ STATUS
    test eax, 2                          ; LU
    jz link_down
    PRINT link_message

    ; receive ring: RX_DESCRIPTORS descriptors of 2 KiB buffers, all but one handed to the card
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

    ; the frame: broadcast, from our station address, EtherType 0x88B5, a text payload
    mov edi, TX_BUFFER
    mov dword [edi], 0xffffffff
    mov word [edi + 4], 0xffff
    NIC_READ RAL0
    mov [edi + 6], eax
    NIC_READ RAH0
    mov [edi + 10], ax
    mov word [edi + 12], 0xb588
    lea edi, [edi + 14]
    mov esi, payload
    mov ecx, payload_end - payload
    rep movsb

    ; transmit ring of 8 descriptors; descriptor 0 carries the frame
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

    WAIT_FOR_CAUSE ICR_RXT0
    test byte [RX_RING + 12], 1          ; DD
    jz rx_not_done
    PRINT received_message
    movzx ecx, word [RX_RING + 8]        ; length
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
    EXIT 0x10

link_down:
    PRINT link_down_message
    EXIT 0x01
tx_not_done:
    PRINT tx_not_done_message
    EXIT 0x02
rx_not_done:
    PRINT rx_not_done_message
    EXIT 0x03

; eax = configuration address -> eax = dword
%include "vm-e1000-routines.inc"

banner: db "vmk e1000 guest driver", 10, 0
irq_message: db "irq ", 0
link_message: db "link up", 10, 0
sent_message: db "sent", 10, 0
received_message: db "received: ", 0
link_down_message: db "link down after LSC", 10, 0
tx_not_done_message: db "TXDW without DD", 10, 0
rx_not_done_message: db "RXT0 without DD", 10, 0
payload: db "hello from the guest", 0
payload_end:

nic_base: dd 0
nic_irq: dd 0
icr_seen: dd 0
KERNEL_END
