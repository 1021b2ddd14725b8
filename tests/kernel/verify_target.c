/* Target for tests/kernel/test_verify.py: a process before its checkpoint, and the same process
 * as CRIU's restorer brings it back.
 *
 *   verify_target timerfd        fd 17: timerfd CLOCK_MONOTONIC, TFD_CLOEXEC, periodic 100 ms,
 *                                never read (it fires once, then waits with a pending tick)
 *   verify_target all            fd 17 as above; fd 18: timerfd one-shot 150 ms; one POSIX timer
 *                                (CLOCK_MONOTONIC, SIGRTMIN, sigval 0x1234, every 200 ms,
 *                                handled); ITIMER_REAL every 300 ms (SIGALRM handled)
 *   verify_target criu FD INTERVAL_NS TICKS
 *                                what CRIU's restorer does with a timerfd dumped with it_value
 *                                (0, 0) (criu/pie/restorer.c timerfd_arm): timerfd_settime with
 *                                it_value 0 and the interval, then TFD_IOC_SET_TICKS with the
 *                                dumped ticks. Then, on a line on stdin, it reads the timerfd
 *                                in a loop, printing "read N" after each read.
 *
 * Prints "ready" once everything is set; the first two then sleep in pause() until killed. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)
#endif

static void h(int sig) { (void)sig; }

static void die(const char *m) { perror(m); exit(1); }

static int timerfd_at(int want, long value_ns, long interval_ns)
{
    struct itimerspec its = {
        .it_interval = {interval_ns / 1000000000L, interval_ns % 1000000000L},
        .it_value = {value_ns / 1000000000L, value_ns % 1000000000L},
    };
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    if (fd < 0) die("timerfd_create");
    if (timerfd_settime(fd, 0, &its, NULL)) die("timerfd_settime");
    if (dup3(fd, want, O_CLOEXEC) != want) die("dup3");
    close(fd);
    return want;
}

static void ready(void)
{
    printf("ready\n");
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "criu")) {
        int fd = timerfd_at(atoi(argv[2]), 0, atol(argv[3]));
        uint64_t ticks = strtoull(argv[4], NULL, 10), got;
        if (ioctl(fd, TFD_IOC_SET_TICKS, &ticks)) die("TFD_IOC_SET_TICKS");
        ready();
        char line[16];
        if (!fgets(line, sizeof(line), stdin)) return 0;
        for (;;) {
            if (read(fd, &got, sizeof(got)) != sizeof(got)) die("read");
            printf("read %llu\n", (unsigned long long)got);
            fflush(stdout);
        }
    }
    if (argc != 2) return 2;
    timerfd_at(17, 100000000L, 100000000L);
    if (!strcmp(argv[1], "all")) {
        struct sigaction sa = {.sa_handler = h, .sa_flags = SA_RESTART};
        sigaction(SIGALRM, &sa, NULL);
        sigaction(SIGRTMIN, &sa, NULL);
        timerfd_at(18, 150000000L, 0);
        struct sigevent sev = {
            .sigev_notify = SIGEV_SIGNAL,
            .sigev_signo = SIGRTMIN,
            .sigev_value.sival_int = 0x1234,
        };
        struct itimerspec every_200ms = {{0, 200000000L}, {0, 200000000L}};
        timer_t t;
        if (timer_create(CLOCK_MONOTONIC, &sev, &t)) die("timer_create");
        if (timer_settime(t, 0, &every_200ms, NULL)) die("timer_settime");
        struct itimerval itv = {{0, 300000}, {0, 300000}};
        if (setitimer(ITIMER_REAL, &itv, NULL)) die("setitimer");
    } else if (strcmp(argv[1], "timerfd")) {
        return 2;
    }
    ready();
    for (;;) pause();
}
