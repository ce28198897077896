/*
 * probe: the program the respawn benchmark supervises. At exec it appends
 * "start NS" to $PROBE_FILE, sleeps $PROBE_UP seconds (0: none), appends
 * "exit NS" and exits 1; NS is CLOCK_MONOTONIC in nanoseconds, one clock
 * for every process. A supervisor's respawn latency is a "start" minus the
 * "exit" before it: the old program's exit, the supervisor noticing it,
 * fork, exec, the dynamic loader, main. Settings come from the
 * environment, as runsv and s6-supervise run ./run without arguments.
 * With $PROBE_READY_FD it also reports readiness on that descriptor, as
 * s6's notification-fd asks: s6-supervise restarts at once only a service
 * that had been ready for a second.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static void note(const char *file, const char *what)
{
	struct timespec t;
	char line[64];
	int n, fd;

	clock_gettime(CLOCK_MONOTONIC, &t);
	n = snprintf(line, sizeof line, "%s %lld\n", what, (long long)t.tv_sec * 1000000000LL + t.tv_nsec);
	fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, line, n) != n)
		_exit(111);
	close(fd);
}

int main(void)
{
	const char *file = getenv("PROBE_FILE");
	const char *up = getenv("PROBE_UP");
	const char *ready = getenv("PROBE_READY_FD");
	double s = up ? atof(up) : 0;
	struct timespec d = { (time_t)s, (long)((s - (time_t)s) * 1e9) };

	if (!file)
		return 111;
	note(file, "start");
	if (ready) {
		int fd = atoi(ready);
		if (write(fd, "\n", 1) != 1)
			return 111;
		close(fd);
	}
	if (s > 0)
		nanosleep(&d, NULL);
	note(file, "exit");
	return 1;
}
