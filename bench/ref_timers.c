/* Plain C reference loops for bench/restore.py, compiled with gcc in the same run.
 *
 *   ref_timers walk ID...     create/delete until each ID appears (the legacy walk)
 *   ref_timers exact ID...    PR_TIMER_CREATE_RESTORE_IDS on, create each timer at its ID
 *   ref_timers restore ID...  exact create, arm, prctl off, read /proc/self/timers back
 *
 * Each runs in this fresh process (ID counter at 0) and prints one JSON line:
 * {"creates": N, "deletes": N, "ns": loop time, "ok": 0|1}. The timers are SIGEV_NONE on
 * CLOCK_MONOTONIC, so nothing is delivered. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PR_TIMER_CREATE_RESTORE_IDS 77

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int create(struct sigevent *sev, int *id)
{
    return (int)syscall(SYS_timer_create, CLOCK_MONOTONIC, sev, id);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s walk|exact|restore ID...\n", argv[0]);
        return 2;
    }
    int n = argc - 2;
    int *ids = calloc((size_t)n, sizeof(int));
    for (int i = 0; i < n; i++)
        ids[i] = atoi(argv[i + 2]);
    struct sigevent sev;
    memset(&sev, 0, sizeof(sev));
    sev.sigev_notify = SIGEV_NONE;
    long long creates = 0, deletes = 0;
    int ok = 1;
    long long t0 = now_ns();

    if (!strcmp(argv[1], "walk")) {
        for (int i = 0; i < n && ok; i++) {
            for (;;) {
                int id = 0;
                if (create(&sev, &id)) {
                    ok = 0;
                    break;
                }
                creates++;
                if (id == ids[i])
                    break;
                syscall(SYS_timer_delete, id);
                deletes++;
                if (id > ids[i]) {
                    ok = 0;
                    break;
                }
            }
        }
    } else {
        if (prctl(PR_TIMER_CREATE_RESTORE_IDS, 1, 0, 0, 0))
            ok = 0;
        for (int i = 0; i < n && ok; i++) {
            int id = ids[i];
            if (create(&sev, &id) || id != ids[i])
                ok = 0;
            creates++;
        }
        if (!strcmp(argv[1], "restore")) {
            struct itimerspec its = {{1, 0}, {60, 0}};
            for (int i = 0; i < n; i++)
                syscall(SYS_timer_settime, ids[i], 0, &its, NULL);
            prctl(PR_TIMER_CREATE_RESTORE_IDS, 0, 0, 0, 0);
            char buf[1 << 16];
            int fd = open("/proc/self/timers", O_RDONLY);
            long got, lines = 0;
            while ((got = read(fd, buf, sizeof(buf))) > 0)
                for (long k = 0; k < got; k++)
                    lines += buf[k] == '\n';
            close(fd);
            ok = ok && lines == 4L * n;
        }
    }
    long long ns = now_ns() - t0;
    printf("{\"creates\": %lld, \"deletes\": %lld, \"ns\": %lld, \"ok\": %d}\n", creates, deletes,
           ns, ok);
    return ok ? 0 : 1;
}
