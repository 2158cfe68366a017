/*
 * dur_util.h - a cairnd child process for the durability tests, with
 * more control than harness.h: any listen URL (tls+tcp://), client
 * options for the readiness check (tokens, TLS), the server's log in a
 * file, the faultfs control file of cairnd-faultfs, and the memory and
 * file descriptors the process holds.
 */
#ifndef CAIRN_DUR_UTIL_H
#define CAIRN_DUR_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cairn.h"

struct dsrv {
	pid_t pid;
	const char *bin; /* cairnd or cairnd-faultfs */
	int port;
	char url[128]; /* what clients dial */
	char listen[128];
	char dir[128];   /* temporary directory (dsrv_cleanup removes it) */
	char store[256]; /* sqlite:DIR/cairn.db */
	char db[192];    /* DIR/cairn.db */
	char log[192];   /* the server's stderr */
	char ctl[192];   /* faultfs control file */
	cairn_client_options opts; /* for the readiness check */
};

/* dsrv_init makes a temporary directory and picks a free loopback port.
 * bin_env names the environment variable that holds the binary (CAIRND,
 * CAIRND_FAULTFS); scheme is "tcp" or "tls+tcp". Returns 0 or -1. */
int dsrv_init(struct dsrv *s, const char *bin_env, const char *scheme);

/* dsrv_start starts the server with --listen, --store and the extra
 * arguments (NULL-ended) and waits until it answers a ping made with
 * s->opts. Returns 0, or -1 when it exited or did not answer in 15 s. */
int dsrv_start(struct dsrv *s, const char *const *extra);

/* dsrv_spawn starts it without waiting. */
int dsrv_spawn(struct dsrv *s, const char *const *extra);

/* dsrv_wait_ready pings until OK, for at most ms. 0 or -1. */
int dsrv_wait_ready(struct dsrv *s, int ms);

/* dsrv_wait_exit waits up to ms for the process to end: its exit code,
 * 128 + signal, or -1 when it is still running. */
int dsrv_wait_exit(struct dsrv *s, int ms);

/* dsrv_stop sends SIGTERM and waits: the exit code or -1. */
int dsrv_stop(struct dsrv *s);

/* dsrv_kill sends sig (SIGKILL: and reaps the process). */
void dsrv_kill(struct dsrv *s, int sig);

/* dsrv_cleanup kills the server if running and removes the directory. */
void dsrv_cleanup(struct dsrv *s);

/* dsrv_ctl writes text into the faultfs control file and signals the
 * server to read it (SIGUSR1). */
int dsrv_ctl(struct dsrv *s, const char *text);

/* dsrv_rss_kb returns the resident memory of the server in KiB. */
long dsrv_rss_kb(const struct dsrv *s);

/* dsrv_nfds returns how many file descriptors the server has open. */
int dsrv_nfds(const struct dsrv *s);

/* dsrv_log_has says whether the server's log contains text. */
bool dsrv_log_has(const struct dsrv *s, const char *text);

/* dsrv_sql runs one statement on the database file (the server stopped or
 * not) and returns the first column of the first row as text (malloc'd;
 * NULL on error). */
char *dsrv_sql(const struct dsrv *s, const char *sql);

/* mono_ms and wall_ms read the clocks in milliseconds. */
int64_t mono_ms(void);
int64_t wall_ms(void);

/* sleep_ms sleeps. */
void sleep_ms(int ms);

#endif /* CAIRN_DUR_UTIL_H */
