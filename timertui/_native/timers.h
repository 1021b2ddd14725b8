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
};

long tt_prctl(int option, unsigned long arg2);
int tt_timer_create(const struct tt_spec *spec, int *id_inout);
int tt_timer_delete(int id);
int tt_timer_settime(int id, int flags, long long value_ns, long long interval_ns,
                     long long *old_value_ns, long long *old_interval_ns);
int tt_timer_gettime(int id, long long *value_ns, long long *interval_ns);
int tt_timer_getoverrun(int id);
int tt_clock_gettime(int clock, long long *ns);
long tt_ptrace(long request, int pid, unsigned long addr, unsigned long data);

/* Exact mode: create specs[0..n) at their IDs; errs[i] gets 0 or -errno. Returns the count
 * created. Stops early only when stop_on_error is set. */
int tt_create_exact(const struct tt_spec *specs, int n, int *errs, int stop_on_error);

/* Linear walk for one timer: create, and while the ID is below the wanted one delete and
 * repeat, at most max_iters times. Returns 0 when the wanted ID was created, 1 when the
 * iterations ran out (call again), 2 when the kernel gave an ID above the wanted one (that
 * timer is deleted again), -errno when a create or delete failed. */
int tt_walk(const struct tt_spec *spec, long long max_iters, struct tt_walk_state *st);
