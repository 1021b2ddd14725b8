/* Deep capture: timer_gettime + timer_getoverrun (and getitimer) run inside a live thread by ptrace syscall
 * injection (x86_64). The whole attached window is this one call, run by a tracer task of its
 * own that shares our memory and outlives us, every signal blocked (see inject.c).
 * timertui/capture/inject.py holds the method and the policy around it. */

#define TTI_SUSPEND_SECCOMP 1 /* seize with PTRACE_O_SUSPEND_SECCOMP (needs CAP_SYS_ADMIN) */
#define TTI_CHECK_DUMPABLE 2  /* read PR_GET_DUMPABLE in the target first; stop unless it is 1 */
#define TTI_SAME_CPU 4        /* trace from a SCHED_IDLE thread on `cpu` (see inject.c) */
#define TTI_RUNNING 8         /* with TTI_SAME_CPU: the thread is running on `cpu` */
#define TTI_ITIMERS 16        /* also getitimer(ITIMER_REAL, VIRTUAL, PROF) in the window */

enum tti_status {
    TTI_OK = 0,
    TTI_SEIZE_FAILED = 1,      /* err: PTRACE_SEIZE's errno */
    TTI_GONE = 2,              /* the thread exited; stop_signal: the signal that ended it */
    TTI_GROUP_STOPPED = 3,     /* job-control stop; left stopped; stop_signal: which signal */
    TTI_NOT_64BIT = 4,         /* cs is not the 64-bit user code segment */
    TTI_NO_SYSCALL_INSN = 5,   /* no `syscall` at rip-2 and none in the vDSO */
    TTI_STACK_UNREADABLE = 6,  /* the scratch slot below the red zone is not mapped */
    TTI_NOT_DUMPABLE = 7,      /* dumpable: what PR_GET_DUMPABLE gave */
    TTI_TRAPPED = 8,           /* syscall user dispatch would trap the borrowed syscall */
    TTI_BUSY = 9,              /* signals kept arriving while attached */
    TTI_PTRACE_FAILED = 10,    /* err: the failing call's errno */
    TTI_RESTORE_FAILED = 11,   /* registers or stack bytes could not be written back */
    TTI_UNSUPPORTED_ARCH = 12, /* built for another architecture */
};

struct tti_timer {
    int id;              /* in: kernel timer ID */
    int err;             /* out: 0, or the errno timer_gettime / timer_getoverrun returned */
    long long value_ns;  /* it_value: time to the next expiry, 0 when disarmed */
    long long interval_ns;
    int overrun;
    long long read_ns;   /* CLOCK_MONOTONIC of the capturer when timer_gettime ran */
};

struct tti_result {
    int status;                      /* enum tti_status */
    int err;
    int dumpable;                    /* -1 when not read */
    int signals;                     /* signals handed on to the target while attached */
    int stop_signal;
    long long syscall_nr;            /* orig_rax at the first stop: -1 when not in a syscall */
    long long syscall_ret;           /* rax at the first stop (-EINTR, -ERESTART*, ...) */
    long long stopped_ns;            /* PTRACE_INTERRUPT sent .. PTRACE_DETACH done */
    unsigned long long syscall_addr; /* the borrowed `syscall` instruction */
    int itimers_read;                /* TTI_ITIMERS: 1 once the three were read */
    int itimer_err[3];               /* per `which`: 0, or the errno getitimer returned */
    long long itimers[3][4];         /* per `which`: struct itimerval (interval s, us; value s, us) */
};

/* Offset of a `syscall` instruction inside this process's vDSO, -1 when there is none. The
 * 64-bit vDSO image is the same in every process of this kernel. */
long tti_vdso_syscall_offset(void);

/* Attach to thread `tid`, read timers[0..n), put everything back and detach. `vdso_syscall` is
 * the address of a `syscall` instruction in the target (0: none known); `cpu` the CPU the
 * thread sleeps on, for TTI_SAME_CPU. A thread of the calling process is refused
 * (TTI_SEIZE_FAILED, EPERM). Returns res->status. */
int tti_capture(int tid, unsigned long long vdso_syscall, unsigned int flags, int cpu,
                struct tti_timer *timers, int n, struct tti_result *res);
