#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "timers.h"

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

#define NSEC 1000000000LL

/* glibc's timer_create() hides the kernel ID and passes an uninitialised slot, so exact-ID
 * mode needs the raw syscall. */
static inline long sys_timer_create(const struct tt_spec *spec, int *id)
{
    struct sigevent sev;
    memset(&sev, 0, sizeof(sev));
    sev.sigev_value.sival_ptr = (void *)(unsigned long)spec->sigval;
    sev.sigev_signo = spec->signo;
    sev.sigev_notify = spec->notify;
    sev.sigev_notify_thread_id = spec->tid;
    return syscall(SYS_timer_create, spec->clock, &sev, id);
}

long tt_prctl(int option, unsigned long arg2)
{
    long r = prctl(option, arg2, 0UL, 0UL, 0UL);
    return r < 0 ? -errno : r;
}

int tt_timer_create(const struct tt_spec *spec, int *id_inout)
{
    return sys_timer_create(spec, id_inout) ? -errno : 0;
}

int tt_timer_delete(int id)
{
    return syscall(SYS_timer_delete, id) ? -errno : 0;
}

static inline void to_ts(long long ns, struct timespec *ts)
{
    ts->tv_sec = ns / NSEC;
    ts->tv_nsec = ns % NSEC;
}

static inline long long from_ts(const struct timespec *ts)
{
    return (long long)ts->tv_sec * NSEC + ts->tv_nsec;
}

int tt_timer_settime(int id, int flags, long long value_ns, long long interval_ns,
                     long long *old_value_ns, long long *old_interval_ns)
{
    struct itimerspec its, old;
    to_ts(value_ns, &its.it_value);
    to_ts(interval_ns, &its.it_interval);
    if (syscall(SYS_timer_settime, id, flags, &its, &old))
        return -errno;
    if (old_value_ns)
        *old_value_ns = from_ts(&old.it_value);
    if (old_interval_ns)
        *old_interval_ns = from_ts(&old.it_interval);
    return 0;
}

int tt_timer_gettime(int id, long long *value_ns, long long *interval_ns)
{
    struct itimerspec its;
    if (syscall(SYS_timer_gettime, id, &its))
        return -errno;
    *value_ns = from_ts(&its.it_value);
    *interval_ns = from_ts(&its.it_interval);
    return 0;
}

int tt_timer_getoverrun(int id)
{
    long r = syscall(SYS_timer_getoverrun, id);
    return r < 0 ? -errno : (int)r;
}

int tt_clock_gettime(int clock, long long *ns)
{
    struct timespec ts;
    if (clock_gettime(clock, &ts))
        return -errno;
    *ns = from_ts(&ts);
    return 0;
}

long tt_ptrace(long request, int pid, unsigned long addr, unsigned long data)
{
    long r;
    errno = 0;
    r = ptrace((enum __ptrace_request)request, pid, (void *)addr, (void *)data);
    return (r == -1 && errno) ? -errno : r;
}

int tt_create_exact(const struct tt_spec *specs, int n, int *errs, int stop_on_error)
{
    int created = 0;
    for (int i = 0; i < n; i++) {
        int id = specs[i].id;
        errs[i] = sys_timer_create(&specs[i], &id) ? -errno : 0;
        if (errs[i] == 0)
            created++;
        else if (stop_on_error)
            break;
    }
    return created;
}

int tt_walk(const struct tt_spec *spec, long long max_iters, struct tt_walk_state *st)
{
    for (long long i = 0; i < max_iters; i++) {
        int id = 0;
        if (sys_timer_create(spec, &id))
            return -errno;
        st->creates++;
        st->last_id = id;
        if (id == spec->id)
            return 0;
        if (syscall(SYS_timer_delete, id))
            return -errno;
        st->deletes++;
        if (id > spec->id)
            return 2;
    }
    return 1;
}
