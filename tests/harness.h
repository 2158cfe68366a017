/*
 * harness.h - start and stop a real cairnd for end-to-end tests: a free
 * loopback port, a store in a fresh temporary directory, and a wait until
 * it answers.
 */
#ifndef CAIRN_HARNESS_H
#define CAIRN_HARNESS_H

#include <sys/types.h>

struct server {
	pid_t pid;
	int port;
	char url[64];
	char dir[128]; /* temporary directory, removed by server_cleanup */
	char store[192];
	char schema[64]; /* PostgreSQL: the schema of this test's tables */
};

/* server_start starts cairnd (path from the CAIRND environment variable)
 * with --listen and --store set, plus the extra arguments (NULL-ended),
 * and waits until it answers a ping. Returns 0 or -1. */
int server_start(struct server *s, const char *const *extra);

/* With CAIRN_TEST_STORE set to a postgres:// URI, server_start uses that
 * database with a schema of its own, and server_start_beside starts
 * another cairnd (on a port of its own) that shares other's store: two
 * servers on one database. On SQLite server_start_beside fails. */
int server_start_beside(
    struct server *s, const struct server *other, const char *const *extra);

/* server_restart starts cairnd again on the same port and store. */
int server_restart(struct server *s, const char *const *extra);

/* server_stop sends SIGTERM and waits; returns the exit status or -1. */
int server_stop(struct server *s);

/* server_kill sends SIGKILL and reaps the process. */
void server_kill(struct server *s);

/* server_cleanup removes the temporary directory. */
void server_cleanup(struct server *s);

/* free_port returns a loopback TCP port that nothing listens on now. */
int free_port(void);

#endif /* CAIRN_HARNESS_H */
