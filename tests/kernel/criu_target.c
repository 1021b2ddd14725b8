/* Workload for tests/kernel/test_verify_criu.py, dumped and restored by a real CRIU.
 *
 * fd 3: a timerfd (CLOCK_MONOTONIC) every 300 ms, left unread until SIGUSR1, so at the dump its
 * fdinfo shows ticks 1 and it_value (0, 0). After SIGUSR1 (sent once restored) it reads the
 * timerfd in a loop, printing "read N" after each read: a timerfd the kernel re-arms keeps
 * printing, one CRIU restored disarmed with its tick (criu #3162) prints once and blocks.
 *
 * Prints "ready" once armed. Its stdout is a regular file: CRIU reopens it on restore. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t go;

static void start_reading(int sig) { (void)sig; go = 1; }

int main(void)
{
    struct itimerspec every_300ms = {{0, 300000000L}, {0, 300000000L}};
    struct sigaction sa = {.sa_handler = start_reading};
    uint64_t ticks;
    int fd = timerfd_create(CLOCK_MONOTONIC, 0);
    if (fd != 3 || timerfd_settime(fd, 0, &every_300ms, NULL) || sigaction(SIGUSR1, &sa, NULL)) {
        perror("timerfd");
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    while (!go)
        pause();
    for (;;) {
        if (read(fd, &ticks, sizeof(ticks)) != sizeof(ticks)) {
            perror("read");
            return 1;
        }
        printf("read %llu\n", (unsigned long long)ticks);
        fflush(stdout);
    }
}
