/* Target for tests/test_inject.py: holds POSIX timers, reports its own timer_gettime, and waits
 * in nanosleep, pause, read, epoll_wait or a busy loop while it is captured, checking that the
 * waits end as they should and that registers and the stack below them come back unchanged.
 *
 * Timers: 0 MONOTONIC/none 30 s then every 2.5 s; 1 REALTIME/SIGUSR2 every 1 ms with SIGUSR2
 * blocked (one sigwaitinfo gives it a fixed overrun); 2 BOOTTIME/none disarmed; 3 (not with
 * --single) MONOTONIC/SIGALRM every 10 ms (--tick-us) to the second thread, which counts its
 * ticks.
 * Commands on stdin, one per line: get, stats, sleep, spin, rseq, pause, read, epoll, quit.
 * Flags: --single (no second thread), --seccomp, --nondumpable, --traced, --setuid UID, --sud
 * (syscall user dispatch in the main thread), --tick-us N. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/rseq.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define NSEC 1000000000LL
#define MS 1000000LL
#define NTIMERS 4
#define STACK_CHECK 4096

static timer_t ids[NTIMERS];
static int ntimers;
static volatile int spin_flag;
static volatile long ticks;     /* SIGALRM deliveries + their overruns */
static volatile int usr1_count;
static volatile int sigsys_count; /* SIGSYS from syscall user dispatch (--sud): none expected */
static long long tick_start;
static pid_t sig_tid;
/* registers stored by the asm below, rax..r15; per thread, as both threads run the checks */
__thread unsigned long seen[15] __attribute__((tls_model("local-exec")));
static char sig_bad[128] = "ok"; /* the second thread's first failed check */

#define P(k) "0x" #k #k #k #k #k #k #k #k #k #k #k #k #k #k #k #k

/* Busy loop with a known value in every register until *flag; then stores the registers into
 * seen[] and returns how many words of the 4 KiB below its stack pointer lost their pattern. */
__asm__(".text\n.globl spin_check\nspin_check:\n"
        "push %rbx\npush %rbp\npush %r12\npush %r13\npush %r14\npush %r15\n"
        "mov %rdi, %r15\n"
        "movabs $0x5a5a5a5a5a5a5a5a, %rax\nlea -4096(%rsp), %rcx\n"
        "1: mov %rax, (%rcx)\nadd $8, %rcx\ncmp %rsp, %rcx\njb 1b\n"
        "movabs $" P(1) ", %rax\nmovabs $" P(2) ", %rbx\nmovabs $" P(3) ", %rcx\n"
        "movabs $" P(4) ", %rdx\nmovabs $" P(5) ", %rsi\nmovabs $" P(6) ", %rdi\n"
        "movabs $" P(7) ", %rbp\nmovabs $" P(8) ", %r8\nmovabs $" P(9) ", %r9\n"
        "movabs $" P(a) ", %r10\nmovabs $" P(b) ", %r11\nmovabs $" P(c) ", %r12\n"
        "movabs $" P(d) ", %r13\nmovabs $" P(e) ", %r14\n"
        "2: cmpl $0, (%r15)\nje 2b\n"
        "jmp store_and_check\n");

/* nanosleep(rdi, NULL) by a bare `syscall` with known values in the registers the kernel keeps;
 * the result goes to seen[0]. Returns the stack check like spin_check. */
__asm__(".text\n.globl sleep_check\nsleep_check:\n"
        "push %rbx\npush %rbp\npush %r12\npush %r13\npush %r14\npush %r15\n"
        "movabs $0x5a5a5a5a5a5a5a5a, %rax\nlea -4096(%rsp), %rcx\n"
        "1: mov %rax, (%rcx)\nadd $8, %rcx\ncmp %rsp, %rcx\njb 1b\n"
        "movabs $" P(2) ", %rbx\nmovabs $" P(4) ", %rdx\nxor %esi, %esi\n"
        "movabs $" P(7) ", %rbp\nmovabs $" P(8) ", %r8\nmovabs $" P(9) ", %r9\n"
        "movabs $" P(a) ", %r10\nmovabs $" P(c) ", %r12\nmovabs $" P(d) ", %r13\n"
        "movabs $" P(e) ", %r14\nmovabs $" P(f) ", %r15\n"
        "mov $35, %eax\nsyscall\n"
        "store_and_check:\n"
        "mov %rax, %fs:seen@tpoff+0\nmov %rbx, %fs:seen@tpoff+8\nmov %rcx, %fs:seen@tpoff+16\n"
        "mov %rdx, %fs:seen@tpoff+24\nmov %rsi, %fs:seen@tpoff+32\nmov %rdi, %fs:seen@tpoff+40\n"
        "mov %rbp, %fs:seen@tpoff+48\nmov %r8, %fs:seen@tpoff+56\nmov %r9, %fs:seen@tpoff+64\n"
        "mov %r10, %fs:seen@tpoff+72\nmov %r11, %fs:seen@tpoff+80\nmov %r12, %fs:seen@tpoff+88\n"
        "mov %r13, %fs:seen@tpoff+96\nmov %r14, %fs:seen@tpoff+104\nmov %r15, %fs:seen@tpoff+112\n"
        "movabs $0x5a5a5a5a5a5a5a5a, %rdx\nlea -4096(%rsp), %rcx\nxor %eax, %eax\n"
        "3: cmp %rdx, (%rcx)\nje 4f\ninc %rax\n4: add $8, %rcx\ncmp %rsp, %rcx\njb 3b\n"
        "pop %r15\npop %r14\npop %r13\npop %r12\npop %rbp\npop %rbx\nret\n");

/* Busy loop inside an rseq critical section until *flag, counting the kernel's aborts (every
 * preemption sends the thread to the abort handler, which enters the section again). Returns 1
 * if, still inside, it ever found the section unregistered (the kernel clears rseq->rseq_cs
 * only for a thread outside) or itself on another CPU (a migration must abort the section). */
__asm__(".pushsection __rseq_cs, \"aw\"\n.balign 32\nrseq_spin_cs:\n"
        ".long 0, 0\n.quad 1f, 2f - 1f, 4f\n.popsection\n"
        ".text\n.globl rseq_spin\nrseq_spin:\n"
        "3: lea rseq_spin_cs(%rip), %rax\nmov %rax, 8(%rsi)\n"
        "1: mov 4(%rsi), %r8d\n" /* the CPU it started on */
        "6: mov 8(%rsi), %rax\ntest %rax, %rax\njz 5f\ncmp 4(%rsi), %r8d\njne 5f\n"
        "cmpl $0, (%rdi)\nje 6b\n"
        "2: xor %eax, %eax\nret\n"
        "5: mov $1, %eax\nret\n"
        ".long 0x53053053\n" /* RSEQ_SIG, as glibc registered it */
        "4: incq (%rdx)\njmp 3b\n");

long spin_check(volatile int *flag);
long rseq_spin(volatile int *flag, void *rseq_area, long *aborts);
long sleep_check(const struct timespec *ts);

static const char *reg_names[15] = {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "r8",
                                    "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};

static unsigned long pattern(int k)
{
    return 0x1111111111111111UL * (unsigned long)k;
}

static long long now(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return ts.tv_sec * NSEC + ts.tv_nsec;
}

static void say(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (write(1, buf, (size_t)n) != n)
        _exit(3);
}

static void die(const char *what)
{
    say("error %s %s\n", what, strerror(errno));
    _exit(2);
}

/* Line reader on fd 0 without stdio, so a `read` command sees an empty buffer. */
static char inbuf[4096];
static size_t inlen;

static int read_line(char *out, size_t cap)
{
    for (;;) {
        char *nl = memchr(inbuf, '\n', inlen);
        if (nl) {
            size_t n = (size_t)(nl - inbuf);
            if (n >= cap)
                n = cap - 1;
            memcpy(out, inbuf, n);
            out[n] = 0;
            inlen -= (size_t)(nl - inbuf) + 1;
            memmove(inbuf, nl + 1, inlen);
            return 0;
        }
        ssize_t r = read(0, inbuf + inlen, sizeof(inbuf) - inlen);
        if (r <= 0)
            return -1;
        inlen += (size_t)r;
    }
}

static int stdin_ready(void)
{
    struct pollfd p = {0, POLLIN, 0};
    return inlen > 0 || poll(&p, 1, 0) > 0;
}

static void on_alrm(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)uc;
    ticks += 1 + si->si_overrun;
    spin_flag = 1;
}

static void on_usr1(int sig)
{
    (void)sig;
    usr1_count++;
}

static timer_t make_timer(clockid_t clock, int notify, int signo, pid_t tid, long long first,
                          long long interval)
{
    struct sigevent sev;
    timer_t t;
    memset(&sev, 0, sizeof(sev));
    sev.sigev_notify = notify;
    sev.sigev_signo = signo;
    sev._sigev_un._tid = tid;
    if (timer_create(clock, &sev, &t))
        die("timer_create");
    struct itimerspec its = {{interval / NSEC, interval % NSEC}, {first / NSEC, first % NSEC}};
    if (timer_settime(t, 0, &its, NULL))
        die("timer_settime");
    ids[ntimers++] = t;
    return t;
}

static void report_timers(void)
{
    for (int i = 0; i < ntimers; i++) {
        struct itimerspec its;
        if (timer_gettime(ids[i], &its))
            die("timer_gettime");
        long long at = now(CLOCK_MONOTONIC);
        int ov = timer_getoverrun(ids[i]);
        say("timer %d %lld %lld %d %lld\n", (int)(intptr_t)ids[i],
            its.it_value.tv_sec * NSEC + its.it_value.tv_nsec,
            its.it_interval.tv_sec * NSEC + its.it_interval.tv_nsec, ov, at);
    }
    say("end\n");
}

/* "ok", or the first register that changed, or how many stack words changed. */
static void check_regs(char *bad, size_t cap, long stack_bad, const unsigned long *want,
                       const int *which, int n)
{
    if (stack_bad) {
        snprintf(bad, cap, "stack:%ld", stack_bad);
        return;
    }
    for (int i = 0; i < n; i++)
        if (seen[which[i]] != want[i]) {
            snprintf(bad, cap, "%s:%lx", reg_names[which[i]], seen[which[i]]);
            return;
        }
}

/* After sleep_check(ts): nanosleep's result and the registers it must keep ("ok" stays when
 * all is well; the first fault is written once). */
static void check_sleep(const struct timespec *ts, long stack_bad, int eintr_ok, char *bad,
                        size_t cap)
{
    long ret = (long)seen[0];
    if (strcmp(bad, "ok"))
        return;
    if (ret != 0 && !(eintr_ok && ret == -EINTR)) {
        snprintf(bad, cap, "nanosleep:%ld", ret);
        return;
    }
    /* rcx and r11 are the syscall instruction's own; rax is the result */
    const int which[] = {1, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14};
    const unsigned long want[] = {pattern(2),  pattern(4),  0,           (unsigned long)ts,
                                  pattern(7),  pattern(8),  pattern(9),  pattern(10),
                                  pattern(12), pattern(13), pattern(14), pattern(15)};
    check_regs(bad, cap, stack_bad, want, which, 12);
}

/* The second thread sleeps in the same checked nanosleep; only its SIGALRM may end a sleep
 * early, and its handler runs on an alternate stack so the checked stack stays untouched. */
static void *sig_thread(void *arg)
{
    (void)arg;
    static char altstack[65536];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack)};
    sigaltstack(&ss, NULL);
    sig_tid = (pid_t)syscall(SYS_gettid);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGALRM);
    pthread_sigmask(SIG_UNBLOCK, &s, NULL);
    const struct timespec ts = {1, 0};
    for (;;) {
        long before = ticks;
        long stack_bad = sleep_check(&ts);
        if ((long)seen[0] == -EINTR && ticks == before) { /* woken without its own signal */
            say("error sleep woke without a tick\n");
            _exit(4);
        }
        check_sleep(&ts, stack_bad, 1, sig_bad, sizeof(sig_bad));
    }
    return NULL;
}

static void do_sleep(void)
{
    char bad[128] = "ok";
    long count = 0;
    const struct timespec ts = {0, 3 * MS};
    say("sleeping\n");
    while (!stdin_ready()) {
        long long t0 = now(CLOCK_MONOTONIC);
        long stack_bad = sleep_check(&ts);
        long long slept = now(CLOCK_MONOTONIC) - t0;
        count++;
        check_sleep(&ts, stack_bad, 0, bad, sizeof(bad));
        if (slept < 3 * MS && !strcmp(bad, "ok"))
            snprintf(bad, sizeof(bad), "early:%lld", slept);
    }
    char line[64];
    read_line(line, sizeof(line));
    say("sleep %ld %s\n", count, bad);
}

static void do_spin(void)
{
    char bad[128] = "ok";
    long count = 0;
    say("spinning\n");
    while (!stdin_ready()) {
        spin_flag = 0;
        long stack_bad = spin_check(&spin_flag);
        count++;
        const int which[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
        unsigned long want[15];
        for (int i = 0; i < 14; i++)
            want[i] = pattern(i + 1);
        want[14] = (unsigned long)&spin_flag;
        if (!strcmp(bad, "ok"))
            check_regs(bad, sizeof(bad), stack_bad, want, which, 15);
    }
    char line[64];
    read_line(line, sizeof(line));
    if (sigsys_count && !strcmp(bad, "ok"))
        snprintf(bad, sizeof(bad), "sigsys:%d", sigsys_count);
    say("spin %ld %s\n", count, bad);
}

static void do_rseq(void)
{
    long bad = 0, aborts = 0, count = 0;
    if (__rseq_size == 0) {
        say("rseq unregistered\n");
        return;
    }
    say("rseq-spinning\n");
    while (!stdin_ready()) {
        spin_flag = 0;
        bad |= rseq_spin(&spin_flag, (char *)__builtin_thread_pointer() + __rseq_offset, &aborts);
        count++;
    }
    char line[64];
    read_line(line, sizeof(line));
    say("rseq %ld %ld %s\n", count, aborts, bad ? "bad" : "ok");
}

static void do_pause(void)
{
    int before = usr1_count;
    say("pausing\n");
    int r = pause();
    int e = errno;
    if (r == -1 && e == EINTR && usr1_count == before + 1)
        say("pause ok\n");
    else
        say("pause bad r=%d errno=%d usr1=%d\n", r, e, usr1_count - before);
}

static void do_read(void)
{
    char buf[64];
    say("reading\n");
    ssize_t r = read(0, buf, sizeof(buf)); /* inbuf is empty: the test waited for our reply */
    if (r < 0)
        say("read bad errno=%d\n", errno);
    else
        say("read %s\n", r == 5 && !memcmp(buf, "stop\n", 5) ? "ok" : "bad data");
}

static void do_epoll(void)
{
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN}, out;
    epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);
    say("waiting\n");
    int r = epoll_wait(ep, &out, 1, -1);
    int e = errno;
    close(ep);
    char line[64];
    if (r == 1)
        read_line(line, sizeof(line));
    say("epoll %s %d\n", r == 1 ? "ok" : "eintr", r < 0 ? e : 0);
}

static void kill_timer_gettime(void)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_timer_gettime, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof(f) / sizeof(f[0]), f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
        die("seccomp");
}

static void on_sigsys(int sig)
{
    (void)sig;
    sigsys_count++;
}

/* Syscall user dispatch for this thread: syscalls from libc's code run, any other raises
 * SIGSYS (counted, and reported by `spin`). The asm checks make none; the vDSO none either. */
static void dispatch_outside_libc(void)
{
    static volatile char selector = 1; /* SYSCALL_DISPATCH_FILTER_BLOCK */
    char line[512];
    unsigned long lo = 0, hi = 0;
    FILE *maps = fopen("/proc/self/maps", "r");
    while (maps && fgets(line, sizeof(line), maps))
        if (strstr(line, " r-xp ") && strstr(line, "/libc.so"))
            sscanf(line, "%lx-%lx", &lo, &hi);
    if (maps)
        fclose(maps);
    signal(SIGSYS, on_sigsys);
    if (!lo || prctl(59 /* PR_SET_SYSCALL_USER_DISPATCH */, 1, lo, hi - lo, &selector))
        die("syscall user dispatch");
}

/* A child that PTRACE_SEIZEs us and then only waits to die with us. */
static void get_traced(void)
{
    int fds[2];
    pid_t parent = getpid();
    if (pipe(fds))
        die("pipe");
    if (fork() == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        char ok = ptrace(PTRACE_SEIZE, parent, 0, 0) == 0 ? 'y' : 'n';
        if (write(fds[1], &ok, 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    char ok = 0;
    if (read(fds[0], &ok, 1) != 1 || ok != 'y')
        die("seize by child");
}

int main(int argc, char **argv)
{
    int single = 0, seccomp = 0, nondumpable = 0, traced = 0, uid = -1, sud = 0;
    long long tick = 10 * MS;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--single"))
            single = 1;
        else if (!strcmp(argv[i], "--seccomp"))
            seccomp = 1;
        else if (!strcmp(argv[i], "--nondumpable"))
            nondumpable = 1;
        else if (!strcmp(argv[i], "--traced"))
            traced = 1;
        else if (!strcmp(argv[i], "--sud"))
            sud = 1;
        else if (!strcmp(argv[i], "--setuid") && i + 1 < argc)
            uid = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--tick-us") && i + 1 < argc)
            tick = atoll(argv[++i]) * 1000;
    }
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR2);
    sigaddset(&block, SIGALRM);
    sigaddset(&block, SIGUSR1); /* unblocked below, in the main thread only */
    sigprocmask(SIG_BLOCK, &block, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_alrm;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGALRM, &sa, NULL);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);

    make_timer(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0, 30 * NSEC, 2500 * MS);
    make_timer(CLOCK_REALTIME, SIGEV_SIGNAL, SIGUSR2, 0, MS, MS);
    make_timer(CLOCK_BOOTTIME, SIGEV_NONE, 0, 0, 0, 0);
    if (!single) {
        pthread_t th;
        pthread_create(&th, NULL, sig_thread, NULL);
        while (!sig_tid)
            usleep(100);
        tick_start = now(CLOCK_MONOTONIC);
        make_timer(CLOCK_MONOTONIC, SIGEV_THREAD_ID, SIGALRM, sig_tid, tick, tick);
    }
    /* One dequeue after ~30 expiries fixes timer 1's overrun; SIGUSR2 then stays pending. */
    usleep(30000);
    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    sigwaitinfo(&usr2, NULL);
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);

    if (traced)
        get_traced();
    if (nondumpable && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
        die("PR_SET_DUMPABLE");
    if (uid >= 0 && (setresgid(uid, uid, uid) || setresuid(uid, uid, uid)))
        die("setresuid");
    if (seccomp)
        kill_timer_gettime();
    if (sud)
        dispatch_outside_libc();
    say("ready %d %d\n", (int)getpid(), (int)sig_tid);

    char line[64];
    while (read_line(line, sizeof(line)) == 0) {
        if (!strcmp(line, "get"))
            report_timers();
        else if (!strcmp(line, "stats"))
            say("stats %ld %lld %lld %s\n", ticks, now(CLOCK_MONOTONIC) - tick_start, tick,
                sig_bad);
        else if (!strcmp(line, "sleep"))
            do_sleep();
        else if (!strcmp(line, "spin") && !single)
            do_spin();
        else if (!strcmp(line, "rseq") && !single)
            do_rseq();
        else if (!strcmp(line, "pause"))
            do_pause();
        else if (!strcmp(line, "read"))
            do_read();
        else if (!strcmp(line, "epoll"))
            do_epoll();
        else if (!strcmp(line, "quit"))
            break;
        else
            say("error unknown command %s\n", line);
    }
    return 0;
}
