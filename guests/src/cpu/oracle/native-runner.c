/*
 * Runs instruction sequences on the host CPU for the oracle test (compiled with gcc -m32).
 * stdin:  records of { u32 code_length; u8 code[CODE_MAX]; u32 regs[8]; u32 eflags; u8 data[DATA_SIZE]; }
 * stdout: records of { u32 regs[8]; u32 eflags; u32 eip; u32 signal; u8 data[DATA_SIZE]; }
 * Code runs at CODE_ADDR and data lives at DATA_ADDR so addresses match the emulator's.
 * A fault is reported with the register state the kernel saw at the faulting instruction.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#define DATA_ADDR 0x00100000u
#define DATA_SIZE 1024u
#define CODE_ADDR 0x00110000u
#define CODE_MAX 512u

struct cpu_state { uint32_t regs[8]; uint32_t eflags; };

struct cpu_state in_state, out_state;
uint32_t saved_esp;
/* x87 precision control set to double so results match IEEE double arithmetic. */
uint16_t fpu_control = 0x27f;
uint32_t code_entry = CODE_ADDR;
uint32_t exit_pointer;
char scratch_stack[512] __attribute__((aligned(16)));
static sigjmp_buf recover;
static volatile uint32_t fault_signal, fault_eip;

void case_exit(void);
void run_case(void);

__asm__(
    ".text\n"
    ".globl run_case\n"
    "run_case:\n"
    "  pushl %ebp\n  pushl %ebx\n  pushl %esi\n  pushl %edi\n"
    "  movl %esp, saved_esp\n"
    "  leal scratch_stack+512, %esp\n"
    "  fninit\n"
    "  fldcw fpu_control\n"
    "  pushl in_state+32\n"
    "  popfl\n"
    "  movl in_state+0, %eax\n"
    "  movl in_state+4, %ecx\n"
    "  movl in_state+8, %edx\n"
    "  movl in_state+12, %ebx\n"
    "  movl in_state+16, %esp\n"
    "  movl in_state+20, %ebp\n"
    "  movl in_state+24, %esi\n"
    "  movl in_state+28, %edi\n"
    "  jmp *code_entry\n"
    ".globl case_exit\n"
    "case_exit:\n"
    "  movl %eax, out_state+0\n"
    "  movl %ecx, out_state+4\n"
    "  movl %edx, out_state+8\n"
    "  movl %ebx, out_state+12\n"
    "  movl %esp, out_state+16\n"
    "  movl %ebp, out_state+20\n"
    "  movl %esi, out_state+24\n"
    "  movl %edi, out_state+28\n"
    "  leal scratch_stack+512, %esp\n"
    "  pushfl\n"
    "  popl out_state+32\n"
    "  cld\n"
    "  movl saved_esp, %esp\n"
    "  popl %edi\n  popl %esi\n  popl %ebx\n  popl %ebp\n"
    "  ret\n");

static void on_fault(int sig, siginfo_t *info, void *context) {
  (void)info;
  ucontext_t *uc = (ucontext_t *)context;
  greg_t *g = uc->uc_mcontext.gregs;
  out_state.regs[0] = g[REG_EAX]; out_state.regs[1] = g[REG_ECX];
  out_state.regs[2] = g[REG_EDX]; out_state.regs[3] = g[REG_EBX];
  out_state.regs[4] = g[REG_ESP]; out_state.regs[5] = g[REG_EBP];
  out_state.regs[6] = g[REG_ESI]; out_state.regs[7] = g[REG_EDI];
  out_state.eflags = g[REG_EFL];
  fault_eip = g[REG_EIP];
  fault_signal = sig;
  siglongjmp(recover, 1);
}

static int read_full(void *buffer, size_t size) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = read(0, (char *)buffer + done, size - done);
    if (n <= 0) return 0;
    done += n;
  }
  return 1;
}

static void write_full(const void *buffer, size_t size) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = write(1, (const char *)buffer + done, size - done);
    if (n <= 0) exit(3);
    done += n;
  }
}

int main(void) {
  if (mmap((void *)DATA_ADDR, 0x1000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != (void *)DATA_ADDR) return 2;
  if (mmap((void *)CODE_ADDR, 0x1000, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != (void *)CODE_ADDR) return 2;
  static char alt_stack[65536];
  stack_t ss = { .ss_sp = alt_stack, .ss_size = sizeof alt_stack, .ss_flags = 0 };
  sigaltstack(&ss, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigaction(SIGSEGV, &sa, 0); sigaction(SIGFPE, &sa, 0); sigaction(SIGILL, &sa, 0);
  sigaction(SIGTRAP, &sa, 0); sigaction(SIGBUS, &sa, 0);
  exit_pointer = (uint32_t)(uintptr_t)case_exit;

  uint32_t length;
  static uint8_t code[CODE_MAX];
  static uint8_t data[DATA_SIZE];
  while (read_full(&length, 4) && read_full(code, CODE_MAX) && read_full(&in_state, sizeof in_state) && read_full(data, DATA_SIZE)) {
    uint8_t *text = (uint8_t *)CODE_ADDR;
    memcpy(text, code, length);
    /* jmp dword [exit_pointer] */
    text[length] = 0xff; text[length + 1] = 0x25;
    uint32_t pointer_address = (uint32_t)(uintptr_t)&exit_pointer;
    memcpy(text + length + 2, &pointer_address, 4);
    memcpy((void *)DATA_ADDR, data, DATA_SIZE);
    fault_signal = 0;
    fault_eip = CODE_ADDR + length;
    if (sigsetjmp(recover, 1) == 0) run_case();
    __asm__ volatile("cld");
    uint32_t header[11];
    memcpy(header, out_state.regs, 32);
    header[8] = out_state.eflags;
    header[9] = fault_eip;
    header[10] = fault_signal;
    write_full(header, sizeof header);
    write_full((void *)DATA_ADDR, DATA_SIZE);
  }
  return 0;
}
