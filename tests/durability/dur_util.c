/*
 * dur_util.c - a cairnd child process for the durability tests.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dur_util.h"
#include "harness.h"

int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) { }
}

int
dsrv_init(struct dsrv *s, const char *bin_env, const char *scheme)
{
	memset(s, 0, sizeof(*s));
	s->pid = -1;
	if ((s->bin = getenv(bin_env)) == NULL) {
		fprintf(stderr, "dur_util: set %s to the server binary\n",
		    bin_env);
		return (-1);
	}
	snprintf(s->dir, sizeof(s->dir), "%s/cairn-dur-XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(s->dir) == NULL) {
		return (-1);
	}
	snprintf(s->db, sizeof(s->db), "%s/cairn.db", s->dir);
	snprintf(s->store, sizeof(s->store), "sqlite:%s", s->db);
	snprintf(s->log, sizeof(s->log), "%s/cairnd.log", s->dir);
	snprintf(s->ctl, sizeof(s->ctl), "%s/faultfs.ctl", s->dir);
	s->port = free_port();
	/* tls+tcp:// names the host that the test certificates carry. */
	snprintf(s->listen, sizeof(s->listen), "%s://%s:%d", scheme,
	    strcmp(scheme, "tcp") == 0 ? "127.0.0.1" : "localhost", s->port);
	snprintf(s->url, sizeof(s->url), "%s", s->listen);
	return (s->port > 0 ? 0 : -1);
}

int
dsrv_spawn(struct dsrv *s, const char *const *extra)
{
	const char *argv[48];
	int n = 0, fd;

	argv[n++] = s->bin;
	argv[n++] = "--listen";
	argv[n++] = s->listen;
	argv[n++] = "--store";
	argv[n++] = s->store;
	argv[n++] = "--log-level";
	argv[n++]
	    = getenv("CAIRN_TEST_LOG") ? getenv("CAIRN_TEST_LOG") : "info";
	for (; extra != NULL && *extra != NULL && n < 47; extra++) {
		argv[n++] = *extra;
	}
	argv[n] = NULL;
	if ((s->pid = fork()) == 0) {
		fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 2);
			close(fd);
		}
		setenv("FAULTFS_CTL", s->ctl, 1);
		execv(s->bin, (char *const *) argv);
		_exit(127);
	}
	return (s->pid > 0 ? 0 : -1);
}

int
dsrv_wait_ready(struct dsrv *s, int ms)
{
	int64_t until = mono_ms() + ms;

	while (mono_ms() < until) {
		cairn_client *c;
		int status;
		if (s->pid > 0
		    && waitpid(s->pid, &status, WNOHANG) == s->pid) {
			fprintf(
			    stderr, "dur_util: %s exited at start\n", s->bin);
			s->pid = -1;
			return (-1);
		}
		cairn_client_options o = s->opts;
		o.timeout_ms = 2000;
		if (cairn_client_open(&c, s->url, &o, NULL, 0) == CAIRN_OK) {
			int rv = cairn_ping(c, NULL, NULL);
			cairn_client_close(c);
			if (rv == CAIRN_OK) {
				return (0);
			}
		}
		sleep_ms(20);
	}
	fprintf(stderr, "dur_util: %s did not answer in %d ms\n", s->bin, ms);
	return (-1);
}

int
dsrv_start(struct dsrv *s, const char *const *extra)
{
	if (dsrv_spawn(s, extra) != 0) {
		return (-1);
	}
	return (dsrv_wait_ready(s, 15000));
}

int
dsrv_wait_exit(struct dsrv *s, int ms)
{
	int64_t until = mono_ms() + ms;
	int status;

	if (s->pid <= 0) {
		return (-1);
	}
	do {
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			s->pid = -1;
			return (WIFEXITED(status) ? WEXITSTATUS(status)
			                          : 128 + WTERMSIG(status));
		}
		sleep_ms(10);
	} while (mono_ms() < until);
	return (-1);
}

int
dsrv_stop(struct dsrv *s)
{
	if (s->pid <= 0) {
		return (-1);
	}
	kill(s->pid, SIGTERM);
	return (dsrv_wait_exit(s, 30000));
}

void
dsrv_kill(struct dsrv *s, int sig)
{
	if (s->pid <= 0) {
		return;
	}
	kill(s->pid, sig);
	if (sig == SIGKILL) {
		waitpid(s->pid, NULL, 0);
		s->pid = -1;
	}
}

void
dsrv_cleanup(struct dsrv *s)
{
	char cmd[256];

	if (s->pid > 0) {
		kill(s->pid, SIGCONT);
	}
	dsrv_kill(s, SIGKILL);
	if (s->dir[0] != 0 && strstr(s->dir, "cairn-dur-") != NULL
	    && getenv("CAIRN_TEST_KEEP") == NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
		(void) !system(cmd);
	}
}

int
dsrv_ctl(struct dsrv *s, const char *text)
{
	FILE *f = fopen(s->ctl, "w");

	if (f == NULL) {
		return (-1);
	}
	fputs(text, f);
	fclose(f);
	return (s->pid > 0 ? kill(s->pid, SIGUSR1) : -1);
}

long
dsrv_rss_kb(const struct dsrv *s)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int) s->pid);
	if ((f = fopen(path, "r")) == NULL) {
		return (-1);
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0) {
			kb = strtol(line + 6, NULL, 10);
		}
	}
	fclose(f);
	return (kb);
}

int
dsrv_nfds(const struct dsrv *s)
{
	char path[64];
	struct dirent *d;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int) s->pid);
	if ((dir = opendir(path)) == NULL) {
		return (-1);
	}
	while ((d = readdir(dir)) != NULL) {
		n += d->d_name[0] != '.';
	}
	closedir(dir);
	return (n);
}

bool
dsrv_log_has(const struct dsrv *s, const char *text)
{
	FILE *f = fopen(s->log, "r");
	char *buf;
	bool found = false;

	if (f == NULL) {
		return (false);
	}
	if ((buf = calloc(1, 1 << 22)) != NULL) {
		size_t n = fread(buf, 1, (1 << 22) - 1, f);
		buf[n] = 0;
		found = strstr(buf, text) != NULL;
		free(buf);
	}
	fclose(f);
	return (found);
}

char *
dsrv_sql(const struct dsrv *s, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char *out = NULL;

	if (sqlite3_open_v2(s->db, &db, SQLITE_OPEN_READWRITE, NULL)
	        == SQLITE_OK
	    && sqlite3_busy_timeout(db, 5000) == SQLITE_OK
	    && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK
	    && sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		out = strdup(t != NULL ? (const char *) t : "");
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return (out);
}
