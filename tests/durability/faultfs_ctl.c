/*
 * faultfs_ctl.c - the control of cairnd-faultfs (see faultfs.h): the
 * control file and its signals, and the two link-time wraps that reach
 * into the server: sqlite3_step (kill after a COMMIT, or answer before
 * it) and engine_start (the clock).
 */
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"
#include "faultfs.h"

/* read_ctl loads the control file into faultfs and starts counting I/Os
 * afresh. Called with faultfs_mu held. */
static void
read_ctl(void)
{
	const char *path = getenv("FAULTFS_CTL");
	char key[64];
	long long v;
	FILE *f;

	if (path == NULL || (f = fopen(path, "r")) == NULL) {
		return;
	}
	memset(&faultfs, 0, sizeof(faultfs));
	while (fscanf(f, "%63s %lld", key, &v) == 2) {
		if (strcmp(key, "cut_at") == 0) {
			faultfs.cut_at = (long) v;
		} else if (strcmp(key, "cut_random") == 0) {
			faultfs.cut_random = (int) v;
		} else if (strcmp(key, "fail_sync") == 0) {
			faultfs.fail_sync = (long) v;
		} else if (strcmp(key, "fail_write") == 0) {
			faultfs.fail_write = (long) v;
		} else if (strcmp(key, "quota") == 0) {
			faultfs.quota = v;
		} else if (strcmp(key, "crash_after_commit") == 0) {
			faultfs.crash_after_commit = (int) v;
		} else if (strcmp(key, "early_ack") == 0) {
			faultfs.early_ack = (int) v;
		} else if (strcmp(key, "clock_offset_ms") == 0) {
			faultfs.clock_offset_ms = v;
		} else if (strcmp(key, "seed") == 0) {
			faultfs.seed = (unsigned) v;
		}
	}
	fclose(f);
	srand(faultfs.seed);
	faultfs_ios = 0;
}

static void *
watcher(void *arg)
{
	sigset_t *set = arg;
	int sig;

	for (;;) {
		if (sigwait(set, &sig) != 0) {
			continue;
		}
		pthread_mutex_lock(&faultfs_mu);
		if (sig == SIGUSR2) {
			faultfs_cut();
		}
		read_ctl();
		pthread_mutex_unlock(&faultfs_mu);
	}
	return (NULL);
}

/* Before main: every thread the server makes inherits the blocked
 * signals, so that only the watcher takes them. */
__attribute__((constructor)) static void
faultfs_init(void)
{
	static sigset_t set;
	pthread_t t;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	faultfs_install();
	pthread_mutex_lock(&faultfs_mu);
	read_ctl();
	pthread_mutex_unlock(&faultfs_mu);
	if (pthread_create(&t, NULL, watcher, &set) == 0) {
		pthread_detach(t);
	}
}

/* The engine's clock: the system's plus the control's offset. */
static int64_t
faultfs_clock(void *arg)
{
	struct timespec ts;
	int64_t off;

	(void) arg;
	pthread_mutex_lock(&faultfs_mu);
	off = faultfs.clock_offset_ms;
	pthread_mutex_unlock(&faultfs_mu);
	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + off);
}

int __real_engine_start(struct engine **out, const struct engine_config *cfg);
int __wrap_engine_start(struct engine **out, const struct engine_config *cfg);

int
__wrap_engine_start(struct engine **out, const struct engine_config *cfg)
{
	struct engine_config c = *cfg;

	c.clock = faultfs_clock;
	c.clock_arg = NULL;
	return (__real_engine_start(out, &c));
}

int __real_sqlite3_step(sqlite3_stmt *st);
int __wrap_sqlite3_step(sqlite3_stmt *st);

/* The engine's connection: total changes when its transaction began, and
 * a COMMIT put off by early_ack. */
static sqlite3 *pending;
static sqlite3_int64 changes_at_begin;

int
__wrap_sqlite3_step(sqlite3_stmt *st)
{
	const char *sql = sqlite3_sql(st);
	sqlite3 *db = sqlite3_db_handle(st);
	int crash, early, rc;

	pthread_mutex_lock(&faultfs_mu);
	crash = faultfs.crash_after_commit;
	early = faultfs.early_ack;
	pthread_mutex_unlock(&faultfs_mu);
	if (sql == NULL
	    || (strcmp(sql, "BEGIN IMMEDIATE") != 0
	        && strcmp(sql, "COMMIT") != 0)) {
		return (__real_sqlite3_step(st));
	}
	if (sql[0] == 'B') {
		if (pending != NULL) {
			/* The put-off COMMIT, after its replies left. The
			 * pause is the fsync of a real disk (tmpfs takes no
			 * time): the window in which an answer is out and
			 * its change is not durable. */
			struct timespec fsync = { 0, 20 * 1000 * 1000 };
			nanosleep(&fsync, NULL);
			sqlite3_exec(pending, "COMMIT", NULL, NULL, NULL);
			pending = NULL;
		}
		changes_at_begin = sqlite3_total_changes64(db);
		return (__real_sqlite3_step(st));
	}
	bool changed = sqlite3_total_changes64(db) != changes_at_begin;
	if (early && changed) {
		pending = db;
		return (SQLITE_DONE);
	}
	rc = __real_sqlite3_step(st);
	if (rc == SQLITE_DONE && crash && changed) {
		_exit(FAULTFS_EXIT_COMMIT);
	}
	return (rc);
}
