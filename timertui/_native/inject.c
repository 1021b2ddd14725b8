#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "inject.h"

#ifdef __x86_64__

#define NSEC 1000000000LL
#define USER_CS_64 0x33
#define RED_ZONE 128
#define SCRATCH 32           /* struct itimerspec */
#define MAX_SIGNALS 16       /* signals handed on before giving up with TTI_BUSY */
#define SPIN_NS 50000LL      /* poll waitpid this long before blocking in it (not TTI_SAME_CPU) */
#define SLOW_NS 200000LL     /* a stop this late under TTI_SAME_CPU: someone else has the CPU */
#define TTI_INTERRUPTED (-1) /* internal: a signal stop came while our registers were in */

#define PTRACE_GET_SUD_CONFIG 0x4211 /* PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG, Linux 6.4 */
#define SUD_ON 1
#define RSEQ_CS_OFFSET 8 /* struct rseq: cpu_id_start, cpu_id, then rseq_cs */

struct sud_config { /* struct ptrace_sud_config */
    unsigned long long mode, selector, offset, len;
};

struct rseq_cs_desc { /* struct rseq_cs */
    unsigned int version, flags;
    unsigned long long start_ip, post_commit_offset, abort_ip;
};

enum stop { ST_INTERRUPT, ST_SIGNAL, ST_GROUP, ST_SYSCALL, ST_GONE, ST_ERROR };
enum where { AT_SIGNAL, AT_SYSCALL, AT_GONE };

struct ctx {
    pid_t tid;
    enum where at;             /* AT_SIGNAL: inside get_signal(), where registers may be put back */
    int sig;                   /* signal of the signal-delivery stop we are in, 0 for none */
    int group;                 /* the stop we are in is a group stop */
    int dirty;                 /* our registers are in the thread */
    int scratch_dirty;         /* the scratch slot holds our bytes */
    struct user_regs_struct saved;
    unsigned long scratch;
    unsigned char scratch_saved[SCRATCH];
    unsigned long sysaddr;
    unsigned long rseq_cs_addr;    /* the thread's rseq->rseq_cs ... */
    unsigned long long rseq_abort; /* ... and its section's abort_ip when stopped inside one */
    long long spin_ns;
    const cpu_set_t *wide;     /* TTI_SAME_CPU: the caller's CPUs, to go back to when starved */
    int idle_later;            /* TTI_RUNNING: become SCHED_IDLE once the thread has stopped */
    struct tti_result *res;
};

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * NSEC + ts.tv_nsec;
}

/* The tracer task runs on the calling thread's thread pointer (see tti_capture), so it must not
 * write errno, that thread's: it makes its system calls with this, which returns -errno. */
static long sys6(long nr, long a, long b, long c, long d, long e, long f)
{
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

#define sys(nr, a, b, c, d) sys6(nr, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

/* ptrace: -errno on failure, and PEEK* store their word at `data` (the kernel's ABI). */
static long pt(long req, pid_t tid, unsigned long addr, unsigned long data)
{
    return sys(SYS_ptrace, req, tid, addr, data);
}

/* 0, or -errno (-EIO for a short transfer). */
static int mem_rw(pid_t tid, unsigned long addr, void *buf, size_t len, int write)
{
    struct iovec local = {buf, len}, remote = {(void *)addr, len};
    long r = sys6(write ? SYS_process_vm_writev : SYS_process_vm_readv, tid, (long)&local, 1,
                  (long)&remote, 1, 0);
    return r == (long)len ? 0 : r < 0 ? (int)r : -EIO;
}

static long set_affinity(const cpu_set_t *set)
{
    return sys(SYS_sched_setaffinity, 0, sizeof(*set), set, 0);
}

static long become_idle(void)
{
    struct sched_param sp = {0};
    return sys(SYS_sched_setscheduler, 0, SCHED_IDLE, &sp, 0);
}

/* The target's CPU is busy after all: a SCHED_IDLE tracer there would wait behind every other
 * task while the target waits on it, so become an ordinary thread on the caller's CPUs. Going
 * back from SCHED_IDLE needs CAP_SYS_NICE or RLIMIT_NICE; without, leaving the CPU still helps. */
static void leave_cpu(struct ctx *c)
{
    struct sched_param sp = {0};
    sys(SYS_sched_setscheduler, 0, SCHED_OTHER, &sp, 0);
    set_affinity(c->wide);
    c->wide = NULL;
    c->spin_ns = SPIN_NS;
}

/* Stops come within microseconds (the tracee runs a few kernel paths and one instruction). On
 * two CPUs polling first saves our own wake-up; on one CPU (TTI_SAME_CPU) we block at once. */
static enum stop wait_stop(struct ctx *c)
{
    int status = 0;
    long r;
    long long start = now_ns();
    do
        r = sys(SYS_wait4, c->tid, &status, __WALL | WNOHANG, 0);
    while (r == 0 && now_ns() < start + c->spin_ns);
    while (r == 0 || r == -EINTR)
        r = sys(SYS_wait4, c->tid, &status, __WALL, 0);
    if (c->wide && now_ns() - start > SLOW_NS)
        leave_cpu(c);
    c->sig = 0;
    c->group = 0;
    if (r < 0) {
        c->res->err = (int)-r;
        return ST_ERROR;
    }
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
        c->at = AT_GONE;
        c->res->stop_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
        return ST_GONE;
    }
    int sig = WSTOPSIG(status);
    int event = status >> 16;
    if (event == PTRACE_EVENT_STOP) {
        c->at = AT_SIGNAL;
        if (sig == SIGTRAP)
            return ST_INTERRUPT;
        c->group = 1;
        c->res->stop_signal = sig;
        return ST_GROUP;
    }
    if (event != 0)
        return ST_ERROR; /* no other event is enabled */
    if (sig == (SIGTRAP | 0x80)) {
        c->at = AT_SYSCALL;
        return ST_SYSCALL;
    }
    c->at = AT_SIGNAL;
    c->sig = sig;
    return ST_SIGNAL;
}

static int stop_status(struct ctx *c, enum stop st)
{
    switch (st) {
    case ST_GONE:
        return TTI_GONE;
    case ST_GROUP:
        return TTI_GROUP_STOPPED;
    default:
        if (!c->res->err)
            c->res->err = EPROTO;
        return TTI_PTRACE_FAILED;
    }
}

/* Ask for an interrupt stop before letting the thread go on (with `sig`, the signal of the stop
 * it is in, or 0): it then stops again before running any code of its own, or right after the
 * signal's handler frame is set up. */
static int interrupt_and_go(struct ctx *c, int sig)
{
    long r = pt(PTRACE_INTERRUPT, c->tid, 0, 0);
    if (r == 0)
        r = pt(PTRACE_CONT, c->tid, 0, sig);
    if (r < 0) {
        c->res->err = (int)-r;
        return TTI_PTRACE_FAILED;
    }
    return TTI_OK;
}

/* Wait for the interrupt stop asked for. A signal stop on the way consumes the interrupt
 * request, so the signal goes on to the thread and the request is sent again. */
static int reach_interrupt(struct ctx *c)
{
    for (;;) {
        enum stop st = wait_stop(c);
        if (st == ST_INTERRUPT)
            return TTI_OK;
        if (st != ST_SIGNAL)
            return stop_status(c, st);
        if (interrupt_and_go(c, c->sig))
            return TTI_PTRACE_FAILED;
        c->res->signals++;
    }
}

/* Stopped in user code, the thread may be inside an rseq critical section. Resuming it there
 * after our syscalls would not abort the section (the kernel aborts on the first return to
 * user space after the preemption, which is ours, outside it; it even clears rseq->rseq_cs),
 * so note the abort to do what the kernel would have: resume at abort_ip, the section cleared.
 * (Blocked in a syscall it cannot be inside one.) */
static void rseq_section(struct ctx *c)
{
    struct __ptrace_rseq_configuration rc;
    unsigned long long cs_ptr;
    struct rseq_cs_desc cs;
    unsigned int sig;
    c->rseq_abort = 0;
    if ((long)c->saved.orig_rax >= 0 ||
        pt(PTRACE_GET_RSEQ_CONFIGURATION, c->tid, sizeof(rc), (unsigned long)&rc) < 0 ||
        !rc.rseq_abi_pointer)
        return;
    c->rseq_cs_addr = rc.rseq_abi_pointer + RSEQ_CS_OFFSET;
    if (mem_rw(c->tid, c->rseq_cs_addr, &cs_ptr, sizeof(cs_ptr), 0) || !cs_ptr ||
        mem_rw(c->tid, cs_ptr, &cs, sizeof(cs), 0) ||
        c->saved.rip - cs.start_ip >= cs.post_commit_offset ||
        mem_rw(c->tid, cs.abort_ip - sizeof(sig), &sig, sizeof(sig), 0) || sig != rc.signature)
        return; /* not inside, or a section the kernel itself would refuse (SIGSEGV) */
    c->rseq_abort = cs.abort_ip;
}

/* At a stop inside get_signal(): keep the thread's registers and find what to borrow. */
static int prepare(struct ctx *c, int first)
{
    long r = pt(PTRACE_GETREGS, c->tid, 0, (unsigned long)&c->saved);
    if (r < 0) {
        c->res->err = -r;
        return TTI_PTRACE_FAILED;
    }
    if (first) {
        c->res->syscall_nr = (long long)c->saved.orig_rax;
        c->res->syscall_ret = (long long)c->saved.rax;
    }
    if (c->saved.cs != USER_CS_64)
        return TTI_NOT_64BIT;
    unsigned char insn[2];
    c->sysaddr = 0;
    if ((long)c->saved.orig_rax >= 0 && mem_rw(c->tid, c->saved.rip - 2, insn, 2, 0) == 0 &&
        insn[0] == 0x0f && insn[1] == 0x05)
        c->sysaddr = c->saved.rip - 2;
    else if (c->res->syscall_addr && mem_rw(c->tid, c->res->syscall_addr, insn, 2, 0) == 0 &&
             insn[0] == 0x0f && insn[1] == 0x05)
        c->sysaddr = c->res->syscall_addr;
    if (!c->sysaddr)
        return TTI_NO_SYSCALL_INSN;
    /* Under syscall user dispatch a syscall from outside the thread's allowed range raises a
     * forced SIGSYS, and forcing resets a blocked SIGSYS handler to the default: never run one
     * there. (Kernels 5.11 to 6.3 have dispatch but cannot tell us.) */
    struct sud_config sud;
    if (pt(PTRACE_GET_SUD_CONFIG, c->tid, sizeof(sud), (unsigned long)&sud) == 0 &&
        sud.mode == SUD_ON && c->sysaddr - sud.offset >= sud.len)
        return TTI_TRAPPED;
    /* Below the red zone nothing of the thread's is live; the bytes still go back exactly. */
    c->scratch = (c->saved.rsp - RED_ZONE - SCRATCH) & ~15UL;
    if (mem_rw(c->tid, c->scratch, c->scratch_saved, SCRATCH, 0))
        return TTI_STACK_UNREADABLE;
    rseq_section(c);
    return TTI_OK;
}

/* Put the thread's stack bytes and registers back, each on its own (and abort an rseq section
 * it was stopped in). 0 when all are back. */
static int put_back(struct ctx *c)
{
    int bad = 0;
    unsigned long long none = 0;
    if (c->dirty && c->rseq_abort) {
        if (mem_rw(c->tid, c->rseq_cs_addr, &none, sizeof(none), 1) == 0) {
            c->saved.rip = c->rseq_abort;
            c->rseq_abort = 0;
        } else {
            bad = 1;
        }
    }
    if (c->scratch_dirty) {
        if (mem_rw(c->tid, c->scratch, c->scratch_saved, SCRATCH, 1) == 0)
            c->scratch_dirty = 0;
        else
            bad = 1;
    }
    if (c->dirty) {
        if (pt(PTRACE_SETREGS, c->tid, 0, (unsigned long)&c->saved) == 0)
            c->dirty = 0;
        else
            bad = 1;
    }
    return bad;
}

/* Run one syscall at the borrowed instruction, from a get_signal stop or a syscall-exit stop,
 * and stop again at its exit: PTRACE_SYSCALL to the entry stop, again to the exit stop. */
static int inject(struct ctx *c, long nr, unsigned long a0, unsigned long a1, long *ret,
                  long long *at_ns)
{
    struct user_regs_struct regs = c->saved;
    regs.rip = c->sysaddr;
    regs.orig_rax = (unsigned long)-1; /* no syscall restart for the kernel to act on */
    regs.rax = nr;
    regs.rdi = a0;
    regs.rsi = a1;
    long r = pt(PTRACE_SETREGS, c->tid, 0, (unsigned long)&regs);
    if (r < 0) {
        c->res->err = -r;
        return TTI_PTRACE_FAILED;
    }
    c->dirty = 1;
    for (int leg = 0; leg < 2; leg++) {
        long long t = now_ns();
        r = pt(PTRACE_SYSCALL, c->tid, 0, 0);
        if (r < 0) {
            c->res->err = -r;
            return TTI_PTRACE_FAILED;
        }
        enum stop st = wait_stop(c);
        if (st == ST_SIGNAL || st == ST_INTERRUPT)
            return TTI_INTERRUPTED; /* only before the syscall: entry to exit never stops so */
        if (st != ST_SYSCALL)
            return stop_status(c, st);
        if (leg == 1 && at_ns)
            *at_ns = (t + now_ns()) / 2;
    }
    r = pt(PTRACE_PEEKUSER, c->tid, offsetof(struct user_regs_struct, rax), (unsigned long)ret);
    if (r < 0) {
        c->res->err = -r;
        return TTI_PTRACE_FAILED;
    }
    return TTI_OK;
}

static int read_timer(struct ctx *c, struct tti_timer *t)
{
    long ret;
    long long buf[4]; /* struct itimerspec: it_interval, then it_value */
    int st = inject(c, SYS_timer_gettime, (unsigned long)t->id, c->scratch, &ret, &t->read_ns);
    if (st)
        return st;
    c->scratch_dirty = 1;
    t->err = ret < 0 ? (int)-ret : 0;
    if (!t->err) {
        int err = mem_rw(c->tid, c->scratch, buf, sizeof(buf), 0);
        if (err) {
            c->res->err = -err;
            return TTI_PTRACE_FAILED;
        }
        t->interval_ns = buf[0] * NSEC + buf[1];
        t->value_ns = buf[2] * NSEC + buf[3];
    }
    st = inject(c, SYS_timer_getoverrun, (unsigned long)t->id, 0, &ret, NULL);
    if (st)
        return st;
    if (ret >= 0)
        t->overrun = (int)ret;
    else if (!t->err)
        t->err = (int)-ret;
    return TTI_OK;
}

/* getitimer of the three interval timers, into res->itimers (struct itimerval each). */
static int read_itimers(struct ctx *c)
{
    for (int which = 0; which < 3; which++) {
        long ret;
        int st = inject(c, SYS_getitimer, (unsigned long)which, c->scratch, &ret, NULL);
        if (st)
            return st;
        c->scratch_dirty = 1;
        c->res->itimer_err[which] = ret < 0 ? (int)-ret : 0;
        if (ret < 0)
            continue;
        int err = mem_rw(c->tid, c->scratch, c->res->itimers[which],
                         sizeof(c->res->itimers[which]), 0);
        if (err) {
            c->res->err = -err;
            return TTI_PTRACE_FAILED;
        }
    }
    c->res->itimers_read = 1;
    return TTI_OK;
}

static int run(struct ctx *c, unsigned int flags, struct tti_timer *timers, int n)
{
    int st = reach_interrupt(c);
    if (st == TTI_OK && c->idle_later && c->wide && become_idle())
        leave_cpu(c);
    int first = 1, next = 0, want_dumpable = flags & TTI_CHECK_DUMPABLE;
    while (st == TTI_OK) {
        st = prepare(c, first);
        first = 0;
        if (st)
            return st;
        if (want_dumpable) {
            long ret;
            st = inject(c, SYS_prctl, PR_GET_DUMPABLE, 0, &ret, NULL);
            if (st == TTI_OK) {
                want_dumpable = 0;
                c->res->dumpable = (int)ret;
                if (ret != 1) /* SUID_DUMP_USER; anything else means "keep out" */
                    return TTI_NOT_DUMPABLE;
            }
        }
        if (st == TTI_OK && (flags & TTI_ITIMERS) && !c->res->itimers_read)
            st = read_itimers(c);
        while (st == TTI_OK && next < n) {
            st = read_timer(c, &timers[next]);
            if (st == TTI_OK)
                next++;
        }
        if (st != TTI_INTERRUPTED)
            return st;
        /* A signal came in while our registers were there: it goes to the thread as if we had
         * never been there, then we interrupt again and go on with the timers left. */
        if (put_back(c))
            return TTI_RESTORE_FAILED;
        if (++c->res->signals > MAX_SIGNALS)
            return TTI_BUSY; /* detaching delivers the signal */
        st = interrupt_and_go(c, c->sig);
        if (st == TTI_OK)
            st = reach_interrupt(c);
    }
    return st;
}

/* Leave from a stop inside get_signal() with the thread's own registers, so an interrupted
 * nanosleep/read/pause restarts as after any signal (at a syscall-exit stop it would not).
 * Each step is tried even when the one before failed: a detached thread beats a stopped one. */
static int finish(struct ctx *c, int status)
{
    /* A group stop on the way (SIGSTOP meanwhile) is such a stop too, and stays after. */
    if (c->at == AT_SYSCALL &&
        (interrupt_and_go(c, 0) || wait_stop(c) == ST_ERROR || c->at == AT_SYSCALL))
        status = TTI_RESTORE_FAILED;
    if (c->at == AT_GONE)
        return TTI_GONE;
    if (put_back(c))
        status = TTI_RESTORE_FAILED;
    long r = pt(PTRACE_DETACH, c->tid, 0, c->group ? 0 : c->sig);
    if (r < 0 && r != -ESRCH) {
        c->res->err = (int)-r;
        status = TTI_RESTORE_FAILED;
    }
    return status;
}

long tti_vdso_syscall_offset(void)
{
    const unsigned char *base = (const unsigned char *)getauxval(AT_SYSINFO_EHDR);
    if (!base)
        return -1;
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
    const Elf64_Phdr *ph = (const Elf64_Phdr *)(base + eh->e_phoff);
    for (int i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type != PT_LOAD || !(ph[i].p_flags & PF_X))
            continue;
        /* The vDSO is linked at 0, so its addresses are offsets from where it is mapped. */
        for (unsigned long off = ph[i].p_vaddr; off + 1 < ph[i].p_vaddr + ph[i].p_filesz; off++)
            if (base[off] == 0x0f && base[off + 1] == 0x05)
                return (long)off;
    }
    return -1;
}

struct job {
    int tid;
    unsigned int flags;
    int cpu;
    struct tti_timer *timers;
    int n;
    struct tti_result *res;
    cpu_set_t wide; /* the caller's affinity */
};

/* SEIZE .. DETACH, in the task that is the tracer. */
static void attached_window(struct job *j)
{
    struct ctx c;
    memset(&c, 0, sizeof(c));
    c.tid = j->tid;
    c.res = j->res;
    c.spin_ns = j->flags & TTI_SAME_CPU ? 0 : SPIN_NS;
    c.wide = j->flags & TTI_SAME_CPU ? &j->wide : NULL;
    c.idle_later = (j->flags & TTI_RUNNING) != 0;
    unsigned long opts = PTRACE_O_TRACESYSGOOD;
    if (j->flags & TTI_SUSPEND_SECCOMP)
        opts |= PTRACE_O_SUSPEND_SECCOMP;
    long r = pt(PTRACE_SEIZE, j->tid, 0, opts);
    if (r < 0) {
        j->res->status = TTI_SEIZE_FAILED;
        j->res->err = (int)-r;
        return;
    }
    long long t0 = now_ns();
    r = pt(PTRACE_INTERRUPT, j->tid, 0, 0);
    if (r < 0) { /* only when the thread is already exiting: tracing ends with it */
        j->res->status = TTI_GONE;
    } else {
        j->res->status = finish(&c, run(&c, j->flags, j->timers, j->n));
        if (c.sysaddr)
            j->res->syscall_addr = c.sysaddr;
    }
    j->res->stopped_ns = now_ns() - t0;
}

/* The tracer task. Under TTI_SAME_CPU it is SCHED_IDLE on the target's CPU: that CPU then
 * counts as idle when the target is woken, so the target runs there and every stop is a switch
 * on one CPU, not a cross-CPU wake-up (several times dearer, and far more in a VM whose idle
 * CPUs halt). A thread that is running must first be stopped on its CPU by an ordinary task
 * (a SCHED_IDLE one would wait for it to sleep), which turns idle after (run()). Its own
 * session: a SIGKILL sent to the caller's process group does not reach it either. */
static int tracer_task(void *arg)
{
    struct job *j = arg;
    sys(SYS_setsid, 0, 0, 0, 0);
    if (j->flags & TTI_SAME_CPU) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(j->cpu, &set);
        if (set_affinity(&set) < 0) {
            j->flags &= ~TTI_SAME_CPU;
        } else if (!(j->flags & TTI_RUNNING) && become_idle() < 0) {
            j->flags &= ~TTI_SAME_CPU;
            set_affinity(&j->wide);
        }
    }
    attached_window(j);
    return 0;
}

#define TRACER_STACK (64 * 1024)

int tti_capture(int tid, unsigned long long vdso_syscall, unsigned int flags, int cpu,
                struct tti_timer *timers, int n, struct tti_result *res)
{
    struct job j = {tid, flags, cpu, timers, n, res, {{0}}};
    sigset_t all, old;
    memset(res, 0, sizeof(*res));
    res->dumpable = -1;
    res->syscall_nr = -1;
    res->syscall_addr = vdso_syscall;
    if (!(flags & TTI_SAME_CPU) || cpu < 0 || cpu >= CPU_SETSIZE ||
        sched_getaffinity(0, sizeof(j.wide), &j.wide))
        j.flags &= ~TTI_SAME_CPU;
    /* The tracer is another process than ours, so the kernel's "not your own thread group"
     * refusal no longer covers us: make it here. */
    if (syscall(SYS_tgkill, getpid(), tid, 0) == 0) {
        res->status = TTI_SEIZE_FAILED;
        res->err = EPERM;
        return res->status;
    }
    /* Dying while attached leaves the target running on our registers, so the window runs in
     * a task of its own (not CLONE_THREAD): a SIGKILL of our thread group does not end it, and
     * sharing our memory (CLONE_VM) it finishes, puts everything back, detaches, writes its
     * results and exits, however we end. No signal may divert it either: it starts with every
     * signal blocked (the mask is inherited). It has no thread pointer of its own (it runs on
     * ours), so it makes raw system calls only and takes no lock: clock_gettime through the
     * vDSO reads, never writes, thread-locals. Exit signal 0: no SIGCHLD for anyone, and only
     * __WALL/__WCLONE waits see it. */
    void *stack = mmap(NULL, TRACER_STACK, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
        res->status = TTI_PTRACE_FAILED;
        res->err = errno;
        return res->status;
    }
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t tracer = clone(tracer_task, (char *)stack + TRACER_STACK,
                         CLONE_VM | CLONE_FS | CLONE_FILES, &j);
    if (tracer < 0) {
        res->status = TTI_PTRACE_FAILED;
        res->err = errno;
    } else {
        while (waitpid(tracer, NULL, __WALL) < 0 && errno == EINTR)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    munmap(stack, TRACER_STACK);
    return res->status;
}

#else /* not x86_64: injection is implemented only where it can be tested */

long tti_vdso_syscall_offset(void)
{
    return -1;
}

int tti_capture(int tid, unsigned long long vdso_syscall, unsigned int flags, int cpu,
                struct tti_timer *timers, int n, struct tti_result *res)
{
    (void)tid, (void)vdso_syscall, (void)flags, (void)cpu, (void)timers, (void)n;
    memset(res, 0, sizeof(*res));
    res->status = TTI_UNSUPPORTED_ARCH;
    return res->status;
}

#endif
