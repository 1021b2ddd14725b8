/* The C references of bench/timerfds.py.
 *
 *   ref_timerfds hold N FIRST   make N periodic MONOTONIC timerfds at fds FIRST.., print "ready",
 *                               then sleep until killed (the process the live sweep reads)
 *   ref_timerfds restore N FIRST  the syscalls a restore makes for N such timerfds
 *                               (timerfd_create, dup3, close, timerfd_settime), timed; prints
 *                               {"ns": ...} */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/timerfd.h>

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void make(int n, int first)
{
    struct itimerspec its;
    memset(&its, 0, sizeof(its));
    for (int i = 0; i < n; i++) {
        int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
        if (fd < 0) { perror("timerfd_create"); exit(1); }
        if (fd != first + i) {
            if (dup3(fd, first + i, O_CLOEXEC) < 0) { perror("dup3"); exit(1); }
            close(fd);
        }
        its.it_value.tv_sec = 100 + i;
        its.it_interval.tv_sec = 100;
        if (timerfd_settime(first + i, 0, &its, NULL)) { perror("timerfd_settime"); exit(1); }
    }
}

int main(int argc, char **argv)
{
    if (argc != 4) { fprintf(stderr, "usage: ref_timerfds hold|restore N FIRST\n"); return 2; }
    int n = atoi(argv[2]), first = atoi(argv[3]);
    if (!strcmp(argv[1], "hold")) {
        make(n, first);
        printf("ready\n");
        fflush(stdout);
        for (;;) pause();
    }
    long long t0 = now_ns();
    make(n, first);
    printf("{\"ns\": %lld}\n", now_ns() - t0);
    return 0;
}
