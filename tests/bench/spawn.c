/*
 * spawn.c - the cairnd that cairn-bench starts for itself: a temporary
 * directory, free loopback ports, a wait until it answers, and an orderly
 * stop. Only loopback addresses are ever used.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

static int
free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *) &a, sizeof(a)) == 0
	    && getsockname(fd, (struct sockaddr *) &a, &len) == 0) {
		port = ntohs(a.sin_port);
	}
	if (fd >= 0) {
		close(fd);
	}
	return (port);
}

static bool
executable(const char *path)
{
	struct stat st;

	return (stat(path, &st) == 0 && S_ISREG(st.st_mode)
	    && access(path, X_OK) == 0);
}

/* find_cairnd picks --cairnd, $CAIRND, the cairnd next to this program
 * (installed side by side), the one of the build tree, or PATH's. */
static void
find_cairnd(const struct bench_options *opt, char *out, size_t len)
{
	char self[PATH_MAX], dir[PATH_MAX - 32];
	ssize_t n;

	if (opt->cairnd != NULL) {
		snprintf(out, len, "%s", opt->cairnd);
		return;
	}
	if (getenv("CAIRND") != NULL && getenv("CAIRND")[0] != 0) {
		snprintf(out, len, "%s", getenv("CAIRND"));
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = 0;
		snprintf(dir, sizeof(dir), "%s", dirname(self));
		snprintf(out, len, "%s/cairnd", dir);
		if (executable(out)) {
			return;
		}
		snprintf(out, len, "%s/../server/cairnd", dir);
		if (executable(out)) {
			return;
		}
		snprintf(out, len, "%s/../../server/cairnd", dir);
		if (executable(out)) {
			return;
		}
	}
	snprintf(out, len, "cairnd");
}

/* has_http asks cairnd's --help whether it serves /metrics (--http). */
static bool
has_http(const char *bin)
{
	char cmd[PATH_MAX + 32], line[256];
	bool found = false;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "'%s' --help 2>/dev/null", bin);
	if ((f = popen(cmd, "r")) == NULL) {
		return (false);
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strstr(line, "--http ") != NULL
		    || strstr(line, "--http\t") != NULL) {
			found = true;
		}
	}
	pclose(f);
	return (found);
}

static int
wait_ready(struct bench_server *s, char *err, size_t errlen)
{
	struct timespec pause = { 0, 20 * 1000 * 1000 };

	/* PostgreSQL may take a while to create the schema. */
	for (int i = 0; i < 1500; i++) {
		cairn_client *c;
		int status;
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			s->pid = -1;
			snprintf(err, errlen, "cairnd exited at start");
			return (-1);
		}
		if (cairn_client_open(&c, s->url, NULL, NULL, 0) == CAIRN_OK) {
			int rv = cairn_ping(c, NULL, NULL);
			cairn_client_close(c);
			if (rv == CAIRN_OK) {
				return (0);
			}
		}
		nanosleep(&pause, NULL);
	}
	snprintf(err, errlen, "cairnd did not answer within 30 s");
	return (-1);
}

int
bench_server_start(struct bench_server *s, const struct bench_options *opt,
    char *err, size_t errlen)
{
	struct bench_preload pre;
	char bin[PATH_MAX], http[64];
	const char *argv[16];
	int n = 0;

	memset(s, 0, sizeof(*s));
	s->pid = -1;
	find_cairnd(opt, bin, sizeof(bin));
	snprintf(s->dir, sizeof(s->dir), "%s/cairn-bench-XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(s->dir) == NULL) {
		snprintf(
		    err, errlen, "mkdtemp %s: %s", s->dir, strerror(errno));
		s->dir[0] = 0;
		return (-1);
	}
	if (opt->store != NULL) {
		snprintf(s->store, sizeof(s->store), "%s", opt->store);
	} else {
		snprintf(
		    s->store, sizeof(s->store), "sqlite:%s/cairn.db", s->dir);
	}
	snprintf(s->url, sizeof(s->url), "tcp://127.0.0.1:%d", free_port());
	argv[n++] = bin;
	argv[n++] = "--listen";
	argv[n++] = s->url;
	argv[n++] = "--store";
	argv[n++] = s->store;
	argv[n++] = "--log-level";
	argv[n++] = "warn";
	if (opt->durability != NULL) {
		argv[n++] = "--durability";
		argv[n++] = opt->durability;
	}
	if (has_http(bin)) {
		int port = free_port();
		snprintf(http, sizeof(http), "127.0.0.1:%d", port);
		snprintf(s->metrics, sizeof(s->metrics),
		    "http://127.0.0.1:%d/metrics", port);
		argv[n++] = "--http";
		argv[n++] = http;
	}
	argv[n] = NULL;
	bench_preload_setup(s, opt, &pre);
	if ((s->pid = fork()) == 0) {
		bench_preload_apply(s, &pre);
		execvp(bin, (char *const *) argv);
		fprintf(stderr, "cairn-bench: cannot run %s: %s\n", bin,
		    strerror(errno));
		_exit(127);
	}
	if (s->pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return (-1);
	}
	return (wait_ready(s, err, errlen));
}

/* remove_dir deletes the files of our temporary directory (the store and
 * its -wal and -shm files) and the directory. */
static void
remove_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	char file[PATH_MAX];

	if (d == NULL) {
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0
		    && strcmp(e->d_name, "..") != 0) {
			snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
			unlink(file);
		}
	}
	closedir(d);
	rmdir(path);
}

void
bench_server_stop(struct bench_server *s)
{
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	int status;

	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		/* Bounded: a stop that hangs is killed after 10 s. */
		int i = 0;
		while (waitpid(s->pid, &status, WNOHANG) == 0) {
			if (++i == 1000) {
				kill(s->pid, SIGKILL);
				waitpid(s->pid, &status, 0);
				break;
			}
			nanosleep(&pause, NULL);
		}
		s->pid = -1;
	}
	bench_fsyncs_close(&s->fsyncs);
	/* Written when the server exited, before its directory goes. */
	bench_pages_read(s->pages_out, &s->pages);
	if (s->dir[0] != 0 && strstr(s->dir, "cairn-bench-") != NULL) {
		remove_dir(s->dir);
	}
}

long
bench_rss_kib(pid_t pid, bool peak)
{
	char path[64], line[256];
	const char *key = peak ? "VmHWM:" : "VmRSS:";
	long kib = -1;
	FILE *f;

	if (pid <= 0) {
		return (-1);
	}
	snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
	if ((f = fopen(path, "r")) == NULL) {
		return (-1);
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, key, strlen(key)) == 0) {
			kib = strtol(line + strlen(key), NULL, 10);
			break;
		}
	}
	fclose(f);
	return (kib);
}

/* task_switches adds the context switches of one thread's status file. */
static uint64_t
task_switches(const char *status)
{
	char line[256];
	uint64_t n = 0;
	FILE *f = fopen(status, "r");

	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "voluntary_ctxt_switches:", 24) == 0
		    || strncmp(line, "nonvoluntary_ctxt_switches:", 27) == 0) {
			n += strtoull(strchr(line, ':') + 1, NULL, 10);
		}
	}
	if (f != NULL) {
		fclose(f);
	}
	return (n);
}

void
bench_usage_of(pid_t pid, struct bench_usage *u)
{
	char path[PATH_MAX], buf[1024];
	unsigned long long ut, st;
	struct dirent *e;
	DIR *d;
	FILE *f;

	memset(u, 0, sizeof(*u));
	if (pid == 0) {
		/* Ours, ended threads included. */
		struct rusage ru;
		getrusage(RUSAGE_SELF, &ru);
		u->cpu_s = (double) ru.ru_utime.tv_sec
		    + (double) ru.ru_utime.tv_usec / 1e6
		    + (double) ru.ru_stime.tv_sec
		    + (double) ru.ru_stime.tv_usec / 1e6;
		u->switches = (uint64_t) (ru.ru_nvcsw + ru.ru_nivcsw);
		u->have = true;
		return;
	}
	if (pid < 0) {
		return;
	}
	snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
	if ((f = fopen(path, "r")) == NULL) {
		return;
	}
	/* Fields 14 and 15, after the command in parentheses. */
	char *p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	if (p == NULL
	    || sscanf(p + 2,
	           "%*c %*d %*d %*d %*d %*d %*u %*u %*u "
	           "%*u %*u %llu %llu",
	           &ut, &st)
	        != 2) {
		return;
	}
	u->cpu_s = (double) (ut + st) / (double) sysconf(_SC_CLK_TCK);
	snprintf(path, sizeof(path), "/proc/%d/task", (int) pid);
	if ((d = opendir(path)) == NULL) {
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] != '.') {
			char status[PATH_MAX + 300];
			snprintf(status, sizeof(status), "%s/%s/status", path,
			    e->d_name);
			u->switches += task_switches(status);
		}
	}
	closedir(d);
	u->have = true;
}
