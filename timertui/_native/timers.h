/* Raw POSIX-timer syscalls and the restore hot loops. Every call returns 0 (or a count)
 * on success and -errno on failure; no global errno crosses into Python. */
struct tt_spec {
    int id;          /* wanted kernel timer ID */
    int clock;
    int notify;      /* raw sigev_notify, SIGEV_THREAD_ID or'ed in */
    int signo;
    int tid;         /* SIGEV_THREAD_ID target */
    unsigned long long sigval;
};

struct tt_walk_state {
    long long creates;
    long long deletes;
    int last_id;     /* last ID the kernel handed out */
    int wrapping;    /* set by the caller: pass IDs above the wanted one until the counter wraps
                      * past INT_MAX; the walk clears it when it sees the wrap */
    int index;       /* tt_walk_many: the spec being walked to */
};

/* One timer expiration read from a signalfd (SI_TIMER signals only). */
struct tt_expiry {
    int timer_id;
    int overrun;
    int signo;
    int tid;         /* thread that dequeued it */
};

long tt_prctl(int option, unsigned long arg2);
int tt_timer_create(const struct tt_spec *spec, int *id_inout);
int tt_timer_delete(int id);
int tt_timer_settime(int id, int flags, long long value_ns, long long interval_ns,
                     long long *old_value_ns, long long *old_interval_ns);
int tt_timer_gettime(int id, long long *value_ns, long long *interval_ns);
int tt_timer_getoverrun(int id);
long tt_ptrace(long request, int pid, unsigned long addr, unsigned long data);

/* Exact mode: create specs[0..n) at their IDs, without stopping on errors, in chunks; errs[i]
 * gets 0 or -errno, got[i] the ID the kernel gave (or -1). Returns how many specs were processed, n or fewer once CLOCK_MONOTONIC passed deadline_ns
 * (0: none) — call again from specs + count. */
int tt_create_exact_until(const struct tt_spec *specs, int n, int *errs, int *got,
                          long long deadline_ns);

/* Linear walk for one timer: create, and while the ID is below the wanted one delete and
 * repeat, at most max_iters times. Returns 0 when the wanted ID was created, 1 when the
 * iterations ran out (call again), 2 when the kernel gave an ID above the wanted one (that
 * timer is deleted again), -errno when a create or delete failed. */
int tt_walk(const struct tt_spec *spec, long long max_iters, struct tt_walk_state *st);

/* The walk over specs[st->index..n), each kept once the kernel hands out its ID, in chunks:
 * returns 0 when all are created (st->index == n), 1 once CLOCK_MONOTONIC passed deadline_ns
 * (0: none; checked every few hundred creates) — call again —, 2 when the kernel gave an ID
 * above st->index's wanted one while not wrapping (that timer is deleted again; last_id says
 * which), -errno when a create or delete failed (last_id holds the ID a failed delete was for).
 * While st->wrapping is set it walks on past IDs above the wanted one until the counter wraps
 * past INT_MAX. */
int tt_walk_many(const struct tt_spec *specs, int n, long long deadline_ns,
                 struct tt_walk_state *st);

/* Arm ids[0..n) relative to now; errs[i] gets 0 or -errno. Returns the count armed. */
int tt_arm_many(const int *ids, const long long *values, const long long *intervals, int n,
                int *errs);

/* timer_gettime for ids[0..n); errs[i] gets 0 or -errno. Returns the count read. */
int tt_gettime_many(const int *ids, int n, long long *values, long long *intervals, int *errs);

/* specs[0..n) as /proc/self/timers lists them (fs/proc/base.c, show_timer), newest first:
 * the text a verify compares with the kernel's in one memcmp. A SIGEV_THREAD_ID timer names its
 * spec's tid, any other the process, pid. Returns the length, or -ENOSPC if cap is too small. */
long tt_format_listing(const struct tt_spec *specs, int n, int pid, char *buf, long cap);

/* Read the file at path whole (at most cap bytes): on a thread of its own if `threaded`, while
 * the caller goes on (a verify of many timers reads their values meanwhile), else now; NULL when
 * out of memory. Every reading is ended by tt_read_equals: it waits for the read, frees it, and
 * returns 1 when the file held exactly text[0..len), 0 when it did not (or len < 0), -errno
 * when it could not be read. */
void *tt_read_start(const char *path, long cap, int threaded);
int tt_read_equals(void *reading, const char *text, long len);

/* Of timers [0..n), read back by tt_gettime_many (errs, values, intervals), those not as armed
 * (want_values, want_intervals): an error, another interval, or a remaining time outside
 * [want - slack, want]. Their indices go to bad[]; returns how many. */
int tt_check_armed(int n, const long long *want_values, const long long *want_intervals,
                   const int *errs, const long long *values, const long long *intervals,
                   long long slack, int *bad);

/* Block the signals in mask (bit n-1 = signal n, 32 and 33 included) in the calling thread. */
int tt_block_signals(unsigned long long mask);

/* A non-blocking signalfd for the signals in mask (bit n-1 = signal n), for the calling
 * thread. Returns the fd or -errno. */
int tt_signalfd(unsigned long long mask);

/* Read what is queued on a signalfd into out[0..max): SI_TIMER signals only, others are
 * consumed and dropped. Returns the count (0 when nothing is queued) or -errno. */
int tt_read_expiries(int sfd, struct tt_expiry *out, int max);

/* Start n helper threads (targets of SIGEV_THREAD_ID timers). Each blocks every signal, reports
 * its tid in tids[i], then forwards the timer signals of mask that reach it as struct tt_expiry
 * records to out_fd (a non-blocking pipe; records are dropped when it is full) for the life of
 * the process. Returns n or -errno. */
int tt_threads_start(int n, unsigned long long mask, int out_fd, int *tids);

/* One timerfd to restore: created on `clock` with `create_flags` (TFD_NONBLOCK, TFD_CLOEXEC),
 * moved to `fd` by dup3, armed with `settime_flags`. An absolute timer (TFD_TIMER_ABSTIME)
 * expires at `deadline_ns` on its clock, or, with deadline_ns 0, at the clock now plus
 * value_ns (what CRIU does); a relative one after value_ns. `ticks` > 0 are put back with
 * TFD_IOC_SET_TICKS. */
struct tt_tfd {
    int fd;
    int clock;
    int create_flags;
    int settime_flags;
    long long value_ns;      /* 0 and interval 0: left disarmed */
    long long interval_ns;
    long long deadline_ns;
    unsigned long long ticks;
};

/* Where a timerfd's restore stopped (tt_restore_timerfds' stage[i]). */
#define TT_TFD_OK 0
#define TT_TFD_BUSY 1     /* the fd is open already: nothing done */
#define TT_TFD_CREATE 2   /* timerfd_create failed */
#define TT_TFD_DUP 3      /* dup3 to the fd failed */
#define TT_TFD_SETTIME 4  /* timerfd_settime failed (the timerfd stays, disarmed) */
#define TT_TFD_TICKS 5    /* TFD_IOC_SET_TICKS failed (the timerfd stays, armed) */

/* Restore t[0..n): errs[i] gets 0 or -errno, stage[i] where it stopped. Returns how many were
 * restored without any error. */
int tt_restore_timerfds(const struct tt_tfd *t, int n, int *errs, int *stage);

/* timerfd_gettime of fd: the time to the next expiry and the interval, in ns. 0 or -errno. */
int tt_timerfd_gettime(int fd, long long *value_ns, long long *interval_ns);

/* setitimer / getitimer of `which`, as struct itimerval's four fields. 0 or -errno. */
int tt_setitimer(int which, long long value_s, long long value_us, long long interval_s,
                 long long interval_us);
int tt_getitimer(int which, long long *value_s, long long *value_us, long long *interval_s,
                 long long *interval_us);
/* RLIMIT_SIGPENDING's soft and hard limits (-1: unlimited), and setting the soft one (the hard
 * one kept): the worker's, without loading Python's resource module. 0 or -errno. */
int tt_sigpending_limits(long long *soft, long long *hard);
int tt_set_sigpending_soft(long long soft);
