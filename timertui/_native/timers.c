#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "timers.h"

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

#define NSEC 1000000000LL

#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS _IOW('T', 0, unsigned long long)
#endif

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

long tt_ptrace(long request, int pid, unsigned long addr, unsigned long data)
{
    long r;
    errno = 0;
    r = ptrace((enum __ptrace_request)request, pid, (void *)addr, (void *)data);
    return (r == -1 && errno) ? -errno : r;
}

static inline long long mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return from_ts(&ts);
}

/* Deadline checks cost a vDSO call; these strides keep them below 0.1% of the loop. */
#define EXACT_STRIDE 64
#define WALK_STRIDE 256

int tt_create_exact_until(const struct tt_spec *specs, int n, int *errs, int *got,
                          long long deadline_ns)
{
    for (int i = 0; i < n; i++) {
        int id = specs[i].id;
        errs[i] = sys_timer_create(&specs[i], &id) ? -errno : 0;
        got[i] = errs[i] ? -1 : id;
        if (deadline_ns && (i + 1) % EXACT_STRIDE == 0 && mono_ns() >= deadline_ns)
            return i + 1;
    }
    return n;
}

/* The deadline is looked at every WALK_STRIDE creates, counted over the whole walk, so sparse
 * IDs (many creates per timer) and dense ones (one each) pay the same. */
static inline int due(long long deadline_ns, long long creates)
{
    return deadline_ns && (creates & (WALK_STRIDE - 1)) == 0 && mono_ns() >= deadline_ns;
}

static inline int walk_one(const struct tt_spec *spec, long long max_iters, long long deadline_ns,
                           struct tt_walk_state *st)
{
    const int want = spec->id;
    for (long long i = 1;; i++) {
        int id = 0;
        if (sys_timer_create(spec, &id))
            return -errno;
        st->creates++;
        if (id == want) {
            st->last_id = id;
            return 0;
        }
        if (st->wrapping && id < st->last_id)
            st->wrapping = 0; /* the counter went past INT_MAX and restarted at 0 */
        st->last_id = id;
        if (syscall(SYS_timer_delete, id))
            return -errno;
        st->deletes++;
        if (id > want && !st->wrapping)
            return 2;
        if (max_iters && i >= max_iters)
            return 1;
        if (due(deadline_ns, st->creates))
            return 1;
    }
}

int tt_walk(const struct tt_spec *spec, long long max_iters, struct tt_walk_state *st)
{
    return max_iters > 0 ? walk_one(spec, max_iters, 0, st) : 1;
}

int tt_walk_many(const struct tt_spec *specs, int n, long long deadline_ns,
                 struct tt_walk_state *st)
{
    while (st->index < n) {
        int ret = walk_one(&specs[st->index], 0, deadline_ns, st);
        if (ret)
            return ret;
        st->index++;
        if (st->index < n && due(deadline_ns, st->creates))
            return 1;
    }
    return 0;
}

int tt_arm_many(const int *ids, const long long *values, const long long *intervals, int n,
                int *errs)
{
    int armed = 0;
    for (int i = 0; i < n; i++) {
        struct itimerspec its;
        to_ts(values[i], &its.it_value);
        to_ts(intervals[i], &its.it_interval);
        errs[i] = syscall(SYS_timer_settime, ids[i], 0, &its, NULL) ? -errno : 0;
        armed += errs[i] == 0;
    }
    return armed;
}

int tt_gettime_many(const int *ids, int n, long long *values, long long *intervals, int *errs)
{
    int read = 0;
    for (int i = 0; i < n; i++) {
        errs[i] = tt_timer_gettime(ids[i], &values[i], &intervals[i]);
        read += errs[i] == 0;
    }
    return read;
}

/* The listing's pieces, written by hand: snprintf per timer was most of a verify's formatting
 * (~2 ms for 10,000 timers). Each returns the position after what it wrote. */
static char *put_str(char *p, const char *s)
{
    while (*s)
        *p++ = *s++;
    return p;
}

static char *put_int(char *p, long long v)
{
    char digits[24];
    int k = 0;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do
        digits[k++] = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        *p++ = '-';
    while (k)
        *p++ = digits[--k];
    return p;
}

static char *put_hex16(char *p, unsigned long long v)
{
    for (int shift = 60; shift >= 0; shift -= 4)
        *p++ = "0123456789abcdef"[(v >> shift) & 15];
    return p;
}

long tt_format_listing(const struct tt_spec *specs, int n, int pid, char *buf, long cap)
{
    static const char *const words[] = {"signal", "none", "thread"};
    /* A timer's four lines at their longest: the words, four ints, 16 hex digits. */
    const long most = 64 + 4 * 11 + 16;
    char *p = buf;
    for (int i = n - 1; i >= 0; i--) {
        const struct tt_spec *s = &specs[i];
        int how = s->notify & ~4; /* SIGEV_THREAD_ID */
        int thread = (s->notify & 4) != 0;
        if (cap - (p - buf) <= most)
            return -ENOSPC;
        p = put_int(put_str(p, "ID: "), s->id);
        p = put_int(put_str(p, "\nsignal: "), s->signo);
        p = put_hex16(put_str(p, "/"), s->sigval);
        p = put_str(put_str(p, "\nnotify: "), how >= 0 && how < 3 ? words[how] : "?");
        p = put_int(put_str(p, thread ? "/tid." : "/pid."), thread ? s->tid : pid);
        p = put_int(put_str(p, "\nClockID: "), s->clock);
        *p++ = '\n';
    }
    return p - buf;
}

struct tt_read {
    pthread_t thread;
    int threaded;
    char *path;
    char *buf;
    long cap;
    long len; /* bytes read, cap + 1 when the file holds more, or -errno */
};

static void *read_whole(void *arg)
{
    struct tt_read *r = arg;
    int fd = open(r->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        r->len = -errno;
        return NULL;
    }
    long at = 0;
    for (;;) {
        char more;
        /* The kernel fills a big read with as many records as fit: a few reads in all. */
        ssize_t got = at < r->cap ? read(fd, r->buf + at, (size_t)(r->cap - at))
                                  : read(fd, &more, 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            at = -errno;
            break;
        }
        if (got == 0)
            break;
        if (at == r->cap) {
            at = r->cap + 1;
            break;
        }
        at += got;
    }
    close(fd);
    r->len = at;
    return NULL;
}

void *tt_read_start(const char *path, long cap, int threaded)
{
    struct tt_read *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->path = strdup(path);
    r->buf = malloc((size_t)(cap > 0 ? cap : 1));
    r->cap = cap;
    if (!r->path || !r->buf) {
        free(r->path);
        free(r->buf);
        free(r);
        return NULL;
    }
    if (threaded) {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 64 * 1024);
        r->threaded = pthread_create(&r->thread, &attr, read_whole, r) == 0;
        pthread_attr_destroy(&attr);
    }
    if (!r->threaded)
        read_whole(r); /* not asked for, or no thread to be had: read it now */
    return r;
}

int tt_read_equals(void *reading, const char *text, long len)
{
    struct tt_read *r = reading;
    if (r->threaded)
        pthread_join(r->thread, NULL);
    int result = r->len < 0 ? (int)r->len : r->len == len && !memcmp(r->buf, text, (size_t)len);
    free(r->path);
    free(r->buf);
    free(r);
    return result;
}

int tt_check_armed(int n, const long long *want_values, const long long *want_intervals,
                   const int *errs, const long long *values, const long long *intervals,
                   long long slack, int *bad)
{
    int count = 0;
    for (int i = 0; i < n; i++)
        if (errs[i] || intervals[i] != want_intervals[i] || values[i] > want_values[i] ||
            values[i] < want_values[i] - slack)
            bad[count++] = i;
    return count;
}

/* The kernel's sigset: bit n-1 of the first word is signal n. Built by hand (and used through
 * raw syscalls) because glibc refuses its reserved signals 32 and 33, which timers may use. */
#define KSIGSET_SIZE 8

static void mask_to_set(unsigned long long mask, sigset_t *set)
{
    memset(set, 0, sizeof(*set));
    memcpy(set, &mask, KSIGSET_SIZE);
}

int tt_block_signals(unsigned long long mask)
{
    sigset_t set;
    mask_to_set(mask, &set);
    return syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, KSIGSET_SIZE) ? -errno : 0;
}

static int raw_signalfd(unsigned long long mask, int flags)
{
    sigset_t set;
    mask_to_set(mask, &set);
    return (int)syscall(SYS_signalfd4, -1, &set, KSIGSET_SIZE, flags);
}

int tt_signalfd(unsigned long long mask)
{
    int fd = raw_signalfd(mask, SFD_NONBLOCK | SFD_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int tt_read_expiries(int sfd, struct tt_expiry *out, int max)
{
    struct signalfd_siginfo si[16];
    int count = 0;
    int tid = (int)syscall(SYS_gettid);
    while (count < max) {
        size_t want = (size_t)(max - count) < 16 ? (size_t)(max - count) : 16;
        ssize_t got = read(sfd, si, want * sizeof(si[0]));
        if (got < 0)
            return (errno == EAGAIN || count) ? count : -errno;
        for (size_t k = 0; k < (size_t)got / sizeof(si[0]); k++) {
            if (si[k].ssi_code != SI_TIMER)
                continue;
            out[count].timer_id = (int)si[k].ssi_tid;
            out[count].overrun = (int)si[k].ssi_overrun;
            out[count].signo = (int)si[k].ssi_signo;
            out[count].tid = tid;
            count++;
        }
        if ((size_t)got < want * sizeof(si[0]))
            break;
    }
    return count;
}

struct helper_start {
    unsigned long long mask;
    int out_fd;
    int *tid_slot;
    sem_t *ready;
};

static void *helper_main(void *arg)
{
    /* Copy what we need: the caller's frame goes away once we post `ready`. */
    struct helper_start start = *(struct helper_start *)arg;
    tt_block_signals(~0ULL);
    int sfd = raw_signalfd(start.mask, SFD_CLOEXEC);
    *start.tid_slot = sfd < 0 ? -errno : (int)syscall(SYS_gettid);
    sem_post(start.ready);
    if (sfd < 0)
        return NULL;
    for (;;) {
        struct signalfd_siginfo si;
        if (read(sfd, &si, sizeof(si)) != sizeof(si)) {
            if (errno == EINTR)
                continue;
            return NULL;
        }
        if (si.ssi_code != SI_TIMER)
            continue;
        struct tt_expiry rec = {(int)si.ssi_tid, (int)si.ssi_overrun, (int)si.ssi_signo,
                                (int)syscall(SYS_gettid)};
        /* A full pipe means nobody is reading (not holding): dropping is what we want. */
        if (write(start.out_fd, &rec, sizeof(rec)) < 0 && errno != EAGAIN)
            return NULL;
    }
}

int tt_threads_start(int n, unsigned long long mask, int out_fd, int *tids)
{
    sem_t ready;
    pthread_attr_t attr;
    int err = 0, started = 0;
    sem_init(&ready, 0, 0);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    for (int i = 0; i < n; i++) {
        struct helper_start start = {mask, out_fd, &tids[i], &ready};
        pthread_t th;
        err = pthread_create(&th, &attr, helper_main, &start);
        if (err)
            break;
        while (sem_wait(&ready) && errno == EINTR)
            ;
        if (tids[i] < 0) {
            err = -tids[i];
            break;
        }
        started++;
    }
    pthread_attr_destroy(&attr);
    sem_destroy(&ready);
    return err ? -err : started;
}

static struct timespec ts_of(long long ns)
{
    struct timespec ts = {ns / NSEC, ns % NSEC};
    return ts;
}

int tt_restore_timerfds(const struct tt_tfd *t, int n, int *errs, int *stage)
{
    int good = 0;
    for (int i = 0; i < n; i++) {
        const struct tt_tfd *x = &t[i];
        errs[i] = 0;
        stage[i] = TT_TFD_OK;
        if (fcntl(x->fd, F_GETFD) >= 0) {
            errs[i] = -EBUSY;
            stage[i] = TT_TFD_BUSY;
            continue;
        }
        int tmp = timerfd_create(x->clock, x->create_flags);
        if (tmp < 0) {
            errs[i] = -errno;
            stage[i] = TT_TFD_CREATE;
            continue;
        }
        if (tmp != x->fd) {
            int got = dup3(tmp, x->fd, x->create_flags & TFD_CLOEXEC ? O_CLOEXEC : 0);
            int err = errno;
            close(tmp);
            if (got < 0) {
                errs[i] = -err;
                stage[i] = TT_TFD_DUP;
                continue;
            }
        }
        if (x->value_ns || x->interval_ns) {
            struct itimerspec its;
            long long value = x->value_ns;
            if ((x->settime_flags & TFD_TIMER_ABSTIME) && x->deadline_ns) {
                value = x->deadline_ns;
            } else if (x->settime_flags & TFD_TIMER_ABSTIME) {
                struct timespec now;
                clock_gettime(x->clock, &now);
                value += now.tv_sec * NSEC + now.tv_nsec;
            }
            its.it_value = ts_of(value);
            its.it_interval = ts_of(x->interval_ns);
            if (timerfd_settime(x->fd, x->settime_flags, &its, NULL) < 0) {
                errs[i] = -errno;
                stage[i] = TT_TFD_SETTIME;
                continue;
            }
        }
        if (x->ticks && ioctl(x->fd, TFD_IOC_SET_TICKS, &x->ticks) < 0) {
            errs[i] = -errno;
            stage[i] = TT_TFD_TICKS;
            continue;
        }
        good++;
    }
    return good;
}

int tt_timerfd_gettime(int fd, long long *value_ns, long long *interval_ns)
{
    struct itimerspec its;
    if (timerfd_gettime(fd, &its) < 0)
        return -errno;
    *value_ns = its.it_value.tv_sec * NSEC + its.it_value.tv_nsec;
    *interval_ns = its.it_interval.tv_sec * NSEC + its.it_interval.tv_nsec;
    return 0;
}

int tt_setitimer(int which, long long value_s, long long value_us, long long interval_s,
                 long long interval_us)
{
    struct itimerval v;
    v.it_value.tv_sec = value_s;
    v.it_value.tv_usec = value_us;
    v.it_interval.tv_sec = interval_s;
    v.it_interval.tv_usec = interval_us;
    return syscall(SYS_setitimer, which, &v, NULL) < 0 ? -errno : 0;
}

int tt_getitimer(int which, long long *value_s, long long *value_us, long long *interval_s,
                 long long *interval_us)
{
    struct itimerval v;
    if (syscall(SYS_getitimer, which, &v) < 0)
        return -errno;
    *value_s = v.it_value.tv_sec;
    *value_us = v.it_value.tv_usec;
    *interval_s = v.it_interval.tv_sec;
    *interval_us = v.it_interval.tv_usec;
    return 0;
}

int tt_sigpending_limits(long long *soft, long long *hard)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_SIGPENDING, &r))
        return -errno;
    *soft = r.rlim_cur == RLIM_INFINITY ? -1 : (long long)r.rlim_cur;
    *hard = r.rlim_max == RLIM_INFINITY ? -1 : (long long)r.rlim_max;
    return 0;
}

int tt_set_sigpending_soft(long long soft)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_SIGPENDING, &r))
        return -errno;
    r.rlim_cur = soft < 0 ? RLIM_INFINITY : (rlim_t)soft;
    return setrlimit(RLIMIT_SIGPENDING, &r) ? -errno : 0;
}
