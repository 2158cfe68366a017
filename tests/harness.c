/*
 * harness.c - a real cairnd as a child process for end-to-end tests.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cairn.h"
#include "harness.h"

int
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

static int
wait_ready(struct server *s)
{
	struct timespec pause = { 0, 20 * 1000 * 1000 };

	for (int i = 0; i < 500; i++) {
		cairn_client *c;
		int status;
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			fprintf(stderr, "harness: cairnd exited at start\n");
			s->pid = -1;
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
	fprintf(stderr, "harness: cairnd did not answer in 10 s\n");
	return (-1);
}

static int
spawn(struct server *s, const char *const *extra)
{
	const char *bin = getenv("CAIRND");
	const char *argv[32];
	int n = 0;

	if (bin == NULL) {
		fprintf(stderr, "harness: set CAIRND to the cairnd binary\n");
		return (-1);
	}
	argv[n++] = bin;
	argv[n++] = "--listen";
	argv[n++] = s->url;
	argv[n++] = "--store";
	argv[n++] = s->store;
	if (s->schema[0] != 0) {
		argv[n++] = "--pg-schema";
		argv[n++] = s->schema;
	}
	argv[n++] = "--log-level";
	argv[n++]
	    = getenv("CAIRN_TEST_LOG") ? getenv("CAIRN_TEST_LOG") : "warn";
	for (; extra != NULL && *extra != NULL && n < 31; extra++) {
		argv[n++] = *extra;
	}
	argv[n] = NULL;
	if ((s->pid = fork()) == 0) {
		execv(bin, (char *const *) argv);
		_exit(127);
	}
	return (s->pid > 0 ? wait_ready(s) : -1);
}

int
server_start(struct server *s, const char *const *extra)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "%s/cairn-e2e-XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(s->dir) == NULL) {
		return (-1);
	}
	const char *pg = getenv("CAIRN_TEST_STORE");
	if (pg != NULL && strncmp(pg, "postgres", 8) == 0) {
		static int n;
		snprintf(s->store, sizeof(s->store), "%s", pg);
		snprintf(s->schema, sizeof(s->schema), "h_%d_%d",
		    (int) getpid(), ++n);
	} else {
		snprintf(
		    s->store, sizeof(s->store), "sqlite:%s/cairn.db", s->dir);
	}
	s->port = free_port();
	snprintf(s->url, sizeof(s->url), "tcp://127.0.0.1:%d", s->port);
	return (spawn(s, extra));
}

int
server_start_beside(
    struct server *s, const struct server *other, const char *const *extra)
{
	if (other->schema[0] == 0) {
		return (-1); /* one SQLite file has one server */
	}
	memset(s, 0, sizeof(*s));
	snprintf(s->store, sizeof(s->store), "%s", other->store);
	snprintf(s->schema, sizeof(s->schema), "%s", other->schema);
	s->port = free_port();
	snprintf(s->url, sizeof(s->url), "tcp://127.0.0.1:%d", s->port);
	return (spawn(s, extra));
}

int
server_restart(struct server *s, const char *const *extra)
{
	return (spawn(s, extra));
}

int
server_stop(struct server *s)
{
	int status;

	if (s->pid <= 0) {
		return (-1);
	}
	kill(s->pid, SIGTERM);
	if (waitpid(s->pid, &status, 0) != s->pid) {
		return (-1);
	}
	s->pid = -1;
	return (WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

void
server_kill(struct server *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
		s->pid = -1;
	}
}

void
server_cleanup(struct server *s)
{
	char cmd[200];

	server_kill(s);
	if (s->dir[0] != 0 && strstr(s->dir, "cairn-e2e-") != NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
		(void) !system(cmd);
	}
}
