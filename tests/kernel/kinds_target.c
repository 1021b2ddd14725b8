/* Target for tests/kernel/test_timer_kinds.py: every timer kind CRIU restores, at chosen places.
 *
 *   fd 17: timerfd CLOCK_MONOTONIC, TFD_CLOEXEC, periodic 100 ms, never read (ticks pile up)
 *   fd 42: timerfd CLOCK_REALTIME, TFD_NONBLOCK, TFD_TIMER_ABSTIME|CANCEL_ON_SET, now + 3600 s
 *   fd 43: timerfd CLOCK_BOOTTIME, disarmed
 *   ITIMER_REAL 500 ms / 500 ms, ITIMER_VIRTUAL 30 s / 10 s, ITIMER_PROF 60 s / 20 s
 *   one POSIX timer (CLOCK_MONOTONIC, SIGRTMIN, every 2 s)
 *
 * `kinds_target N` with N > 0 instead makes N periodic timerfds only (fds from 100), for the
 * bench. Prints "ready" once everything is set, then sleeps in pause() until killed. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/time.h>
#include <sys/timerfd.h>

static void h(int sig) { (void)sig; }

static void die(const char *m) { perror(m); exit(1); }

static void at(int fd, int want)
{
    if (dup3(fd, want, fcntl(fd, F_GETFD) & FD_CLOEXEC ? O_CLOEXEC : 0) != want) die("dup3");
    close(fd);
}

int main(int argc, char **argv)
{
    struct sigaction sa;
    struct itimerspec its;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = h;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    sigaction(SIGVTALRM, &sa, NULL);
    sigaction(SIGPROF, &sa, NULL);
    sigaction(SIGRTMIN, &sa, NULL);
    int many = argc > 1 ? atoi(argv[1]) : 0;
    if (many > 0) {
        for (int i = 0; i < many; i++) {
            int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
            if (fd < 0) die("timerfd_create");
            memset(&its, 0, sizeof(its));
            its.it_value.tv_sec = 100 + i;
            its.it_interval.tv_sec = 100;
            if (timerfd_settime(fd, 0, &its, NULL)) die("timerfd_settime");
            at(fd, 100 + i);
        }
        printf("ready\n");
        fflush(stdout);
        for (;;) pause();
    }
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    memset(&its, 0, sizeof(its));
    its.it_value.tv_nsec = 100000000;
    its.it_interval.tv_nsec = 100000000;
    if (fd < 0 || timerfd_settime(fd, 0, &its, NULL)) die("timerfd mono");
    at(fd, 17);
    struct timespec now;
    fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
    clock_gettime(CLOCK_REALTIME, &now);
    memset(&its, 0, sizeof(its));
    its.it_value.tv_sec = now.tv_sec + 3600;
    its.it_value.tv_nsec = now.tv_nsec;
    if (fd < 0 || timerfd_settime(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL))
        die("timerfd real");
    at(fd, 42);
    fd = timerfd_create(CLOCK_BOOTTIME, 0);
    if (fd < 0) die("timerfd boot");
    at(fd, 43);
    struct itimerval itv;
    itv.it_value.tv_sec = 0, itv.it_value.tv_usec = 500000;
    itv.it_interval = itv.it_value;
    if (setitimer(ITIMER_REAL, &itv, NULL)) die("setitimer real");
    itv.it_value.tv_sec = 30, itv.it_value.tv_usec = 0;
    itv.it_interval.tv_sec = 10, itv.it_interval.tv_usec = 0;
    if (setitimer(ITIMER_VIRTUAL, &itv, NULL)) die("setitimer virt");
    itv.it_value.tv_sec = 60;
    itv.it_interval.tv_sec = 20;
    if (setitimer(ITIMER_PROF, &itv, NULL)) die("setitimer prof");
    struct sigevent sev;
    timer_t t;
    memset(&sev, 0, sizeof(sev));
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = SIGRTMIN;
    sev.sigev_value.sival_int = 0x1234;
    if (timer_create(CLOCK_MONOTONIC, &sev, &t)) die("timer_create");
    memset(&its, 0, sizeof(its));
    its.it_value.tv_sec = 2;
    its.it_interval.tv_sec = 2;
    timer_settime(t, 0, &its, NULL);
    printf("ready\n");
    fflush(stdout);
    for (;;) pause();
}
