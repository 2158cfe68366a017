/*
 * lost_disk.c - rounds of a lost disk under Litestream (lost_disk.h).
 *
 *   lost_disk [--rounds N] [--round-ms MS] [--producers N] [--workers N]
 *             [--sync-interval DUR] [--monitor-interval DUR]
 *             [--checkpoints cairnd|external] [--restart-litestream]
 *             [--seed N] [--out FILE]
 *
 * Each round: cairnd (CAIRND) on a fresh SQLite file and `litestream
 * replicate` (LITESTREAM) with the configuration LITESTREAM_CONFIG
 * (docker/litestream.yml), to LOST_DISK_REPLICA (an s3:// URL whose path
 * gets the round's name) with its credentials in the environment; load
 * for a random time in [MS/2, MS]; kill -9 of both and the data directory
 * deleted; `litestream restore`; the checks of lost_disk.h. The sync and
 * monitor intervals default to Litestream's own (1 s each).
 * --restart-litestream kills Litestream once in mid-load and starts it
 * again, to count the snapshots that costs. --out writes one line per
 * round (tab-separated) for the figures of docs/RELIABILITY.md.
 * Exit status 0 when every round held.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "lost_disk.h"
#include "ops_http.h"

struct opts {
	int rounds, round_ms, producers, workers;
	const char *sync_interval, *monitor_interval, *checkpoints, *out;
	bool restart;
	unsigned seed;
};

struct env {
	const char *litestream, *config, *replica;
	char url[512]; /* this round's replica */
	char db[192];
	int metrics_port;
};

static int
parse(struct opts *o, int argc, char **argv)
{
	*o = (struct opts) { .rounds = 2,
		.round_ms = 4000,
		.producers = 2,
		.workers = 3,
		.sync_interval = "",
		.monitor_interval = "",
		.checkpoints = "external" };
	o->seed = (unsigned) wall_ms();
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
		bool val = true;
		if (strcmp(a, "--rounds") == 0) {
			o->rounds = atoi(v);
		} else if (strcmp(a, "--round-ms") == 0) {
			o->round_ms = atoi(v);
		} else if (strcmp(a, "--producers") == 0) {
			o->producers = atoi(v);
		} else if (strcmp(a, "--workers") == 0) {
			o->workers = atoi(v);
		} else if (strcmp(a, "--sync-interval") == 0) {
			o->sync_interval = v;
		} else if (strcmp(a, "--monitor-interval") == 0) {
			o->monitor_interval = v;
		} else if (strcmp(a, "--checkpoints") == 0) {
			o->checkpoints = v;
		} else if (strcmp(a, "--seed") == 0) {
			o->seed = (unsigned) strtoul(v, NULL, 10);
		} else if (strcmp(a, "--out") == 0) {
			o->out = v;
		} else if (strcmp(a, "--restart-litestream") == 0) {
			o->restart = true, val = false;
		} else {
			fprintf(stderr, "lost_disk: unknown %s\n", a);
			return (-1);
		}
		i += val;
	}
	return (o->rounds > 0 && o->round_ms >= 1000
	            && o->producers + o->workers <= 64
	        ? 0
	        : -1);
}

/* litestream runs `litestream CMD` with the configuration and this
 * round's environment; its output goes to log. Returns the pid. */
static pid_t
litestream(const struct env *e, const struct opts *o, const char *log,
    const char *const *args)
{
	const char *argv[16] = { e->litestream };
	int n = 1;
	char addr[32];
	pid_t pid;

	for (; *args != NULL && n < 15; args++) {
		argv[n++] = *args;
	}
	argv[n] = NULL;
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", e->metrics_port);
	if ((pid = fork()) == 0) {
		FILE *f = freopen(log, "a", stderr);
		if (f != NULL) {
			dup2(fileno(f), 1);
		}
		setenv("CAIRN_DB", e->db, 1);
		setenv("LITESTREAM_REPLICA_URL", e->url, 1);
		setenv("LITESTREAM_SYNC_INTERVAL", o->sync_interval, 1);
		setenv("LITESTREAM_MONITOR_INTERVAL", o->monitor_interval, 1);
		setenv("LITESTREAM_ADDR", addr, 1);
		execv(e->litestream, (char *const *) argv);
		_exit(127);
	}
	return (pid);
}

static pid_t
replicate(const struct env *e, const struct opts *o, const char *log)
{
	const char *args[] = { "replicate", "-config", e->config, "-log-level",
		"debug", NULL };

	return (litestream(e, o, log, args));
}

/* wait_exit waits up to ms for pid: its exit status, or -1 (killed). */
static int
wait_exit(pid_t pid, int ms)
{
	int64_t until = mono_ms() + ms;
	int st;

	do {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			return (WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		}
		sleep_ms(10);
	} while (mono_ms() < until);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return (-1);
}

static int
restore(const struct env *e, const struct opts *o, const char *out,
    const char *log)
{
	const char *args[]
	    = { "restore", "-config", e->config, "-o", out, e->db, NULL };

	return (wait_exit(litestream(e, o, log, args), 60000));
}

/* replicating waits until Litestream has put something on the replica:
 * before its first snapshot there is nothing to restore. */
static bool
replicating(const struct env *e)
{
	const char *series = "litestream_replica_operation_total"
	                     "{operation=\"PUT\",replica_type=\"s3\"}";
	int64_t until = mono_ms() + 20000;

	while (mono_ms() < until) {
		char *body = NULL;
		double v = 0;
		bool ok = http_get(e->metrics_port, "/metrics", &body) == 200
		    && prom_value(body, series, &v) && v >= 1;
		free(body);
		if (ok) {
			return (true);
		}
		sleep_ms(50);
	}
	return (false);
}

/* snapshots counts Litestream's full snapshots in its log (debug). */
static int
snapshots(const char *log)
{
	FILE *f = fopen(log, "r");
	char line[4096];
	int n = 0;

	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		n += strstr(line, " snap=true") != NULL;
	}
	if (f != NULL) {
		fclose(f);
	}
	return (n);
}

/* rm_rf removes path, and with glob also what starts with it. */
static void
rm_rf(const char *path, bool glob)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'%s", path, glob ? "*" : "");
	(void) !system(cmd);
}

static bool
round_ok(const struct ld_round *r, bool restart)
{
	return (r->integrity + r->holes + r->never_had + r->dups
	            + r->stale_accepted + r->repeat_refused + r->bad_release
	            + r->not_drained + r->replica_mismatch + r->errors
	        == 0
	    && (restart || r->snapshots_load == 1) && r->acked_enqueues > 0
	    && r->acked_completions > 0);
}

/* after_restore starts cairnd and Litestream on the restored file, runs
 * the lifecycle checks, stops both, and restores the replica again: it
 * must hold what the drain did. */
static void
after_restore(struct dsrv *s, struct env *e, const struct opts *o,
    struct history *h, const struct ld_row *rows, size_t n, int round,
    struct ld_round *r)
{
	const char *args[] = { "--checkpoints", o->checkpoints, NULL };
	char log[256], again[256];
	struct ld_row *fin = NULL, *rep = NULL;
	size_t nf = 0, nr = 0;
	uint64_t dups;

	snprintf(
	    log, sizeof(log), "%s/litestream-%d-after.log", s->dir, round);
	if (dsrv_start(s, args) != 0) {
		r->errors++;
		return;
	}
	/* As in a restore drill: Litestream goes on from the restored file
	 * (it has shipped its first snapshot of it) before work resumes. */
	pid_t ls = replicate(e, o, log);
	if (!replicating(e)) {
		fprintf(stderr,
		    "lost_disk: Litestream shipped nothing after "
		    "the restore\n");
		r->errors++;
	}
	ld_check_lifecycle(h, rows, n, s->url, r);
	r->errors += dsrv_stop(s) != 0;
	/* SIGTERM: Litestream ships what it has not yet, then exits. */
	kill(ls, SIGTERM);
	r->errors += wait_exit(ls, 60000) != 0;
	r->snapshots_after = snapshots(log);
	if ((fin = ld_rows(e->db, &nf, &dups)) == NULL) {
		r->errors++;
		return;
	}
	ld_check_final(rows, n, fin, nf, r);
	snprintf(again, sizeof(again), "%s/again.db", s->dir);
	snprintf(log, sizeof(log), "%s/restore-%d-again.log", s->dir, round);
	if (restore(e, o, again, log) != 0
	    || (rep = ld_rows(again, &nr, &dups)) == NULL) {
		r->errors++;
	} else {
		r->replica_mismatch += nr != nf;
		for (size_t i = 0; i < nr && i < nf; i++) {
			r->replica_mismatch += rep[i].id != fin[i].id
			    || rep[i].state != fin[i].state
			    || strcmp(rep[i].result, fin[i].result) != 0;
		}
	}
	free(fin);
	free(rep);
	rm_rf(again, true);
}

/* lose_disk ends the machine: kill -9 of both, then the data directory
 * is deleted. Returns the time of the loss. */
static int64_t
lose_disk(struct dsrv *s, pid_t ls, struct load *l)
{
	int64_t t = wall_ms();
	char data[256];

	kill(ls, SIGKILL);
	dsrv_kill(s, SIGKILL);
	waitpid(ls, NULL, 0);
	load_halt(l);
	snprintf(data, sizeof(data), "%s/data", s->dir);
	rm_rf(data, false);
	return (t);
}

static void
run_round(struct dsrv *s, struct env *e, const struct opts *o, int round,
    struct ld_round *r)
{
	const char *args[] = { "--checkpoints", o->checkpoints, NULL };
	char log[256], log2[256], data[256];
	struct history h;
	struct load l;
	pid_t ls;

	memset(r, 0, sizeof(*r));
	snprintf(data, sizeof(data), "mkdir -p '%s/data'", s->dir);
	(void) !system(data);
	/* A path of its own on the replica: s3://BUCKET/PATH/rSEED-N?... */
	const char *qs = strchr(e->replica, '?');
	int base
	    = qs != NULL ? (int) (qs - e->replica) : (int) strlen(e->replica);
	snprintf(e->url, sizeof(e->url), "%.*s/r%u-%d%s", base, e->replica,
	    o->seed, round, qs != NULL ? qs : "");
	snprintf(log, sizeof(log), "%s/litestream-%d.log", s->dir, round);
	snprintf(
	    log2, sizeof(log2), "%s/litestream-%d-restart.log", s->dir, round);
	if (dsrv_start(s, args) != 0) {
		r->errors++;
		return;
	}
	ls = replicate(e, o, log);
	if (!replicating(e)) {
		fprintf(stderr, "lost_disk: Litestream shipped nothing\n");
		r->errors++;
	}
	history_init(&h);
	l = (struct load) { .url = s->url,
		.h = &h,
		.nprod = o->producers,
		.nwork = o->workers,
		.seed = o->seed + (unsigned) round };
	load_start(&l);
	int64_t start = mono_ms();
	int ms = o->round_ms / 2 + rand() % (o->round_ms / 2 + 1);
	if (o->restart) {
		sleep_ms(o->round_ms / 4);
		kill(ls, SIGKILL);
		waitpid(ls, NULL, 0);
		sleep_ms(500);
		ls = replicate(e, o, log2);
	}
	sleep_ms((int) (ms - (mono_ms() - start)));
	r->fault = lose_disk(s, ls, &l);
	r->load_ms = mono_ms() - start;
	r->snapshots_load = snapshots(log);
	r->snapshots_restart = o->restart ? snapshots(log2) : 0;

	int64_t t0 = mono_ms();
	snprintf(log, sizeof(log), "%s/restore-%d.log", s->dir, round);
	int rc = restore(e, o, e->db, log);
	r->restore_ms = mono_ms() - t0;
	size_t n = 0;
	struct ld_row *rows = NULL;
	char *ic = rc == 0 ? dsrv_sql(s, "PRAGMA integrity_check") : NULL;
	r->integrity += ic == NULL || strcmp(ic, "ok") != 0;
	free(ic);
	if (rc != 0 || (rows = ld_rows(e->db, &n, &r->dups)) == NULL) {
		fprintf(stderr, "lost_disk: restore failed (%d)\n", rc);
		r->errors++;
	} else {
		ld_check_restored(&h, rows, n, r);
		after_restore(s, e, o, &h, rows, n, round, r);
	}
	free(rows);
	history_free(&h);
	snprintf(data, sizeof(data), "%s/data", s->dir);
	rm_rf(data, false);
}

static void
summary(const struct opts *o, const struct ld_round *rs, int n, int failed)
{
	uint64_t enq = 0, done = 0;
	int64_t ms = 1;

	for (int i = 0; i < n; i++) {
		enq += rs[i].acked_enqueues, done += rs[i].acked_completions;
		ms += rs[i].load_ms;
	}
	printf("lost_disk: rounds=%d seed=%u checkpoints=%s sync-interval=%s "
	       "monitor-interval=%s%s\n"
	       "  acked enqueues %llu, acked completions %llu, in %.1f s of "
	       "load (%.0f and %.0f per second)\n",
	    n, o->seed, o->checkpoints,
	    o->sync_interval[0] ? o->sync_interval : "default",
	    o->monitor_interval[0] ? o->monitor_interval : "default",
	    o->restart ? " restart-litestream" : "", (unsigned long long) enq,
	    (unsigned long long) done, (double) ms / 1000,
	    (double) enq * 1000 / (double) ms,
	    (double) done * 1000 / (double) ms);
	ld_distributions(rs, n, o->restart);
	printf("lost_disk: %s (%d of %d rounds failed)\n",
	    failed == 0 ? "ok" : "FAILED", failed, n);
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct env e = { 0 };
	struct dsrv s;
	FILE *out = NULL;
	int failed = 0;

	if (parse(&o, argc, argv) != 0) {
		return (2);
	}
	e.litestream = getenv("LITESTREAM");
	e.config = getenv("LITESTREAM_CONFIG");
	e.replica = getenv("LOST_DISK_REPLICA");
	if (e.litestream == NULL || e.config == NULL || e.replica == NULL) {
		fprintf(stderr,
		    "lost_disk: set LITESTREAM, LITESTREAM_CONFIG "
		    "and LOST_DISK_REPLICA\n");
		return (2);
	}
	if (dsrv_init(&s, "CAIRND", "tcp") != 0) {
		return (2);
	}
	snprintf(s.db, sizeof(s.db), "%s/data/cairn.db", s.dir);
	snprintf(s.store, sizeof(s.store), "sqlite:%s", s.db);
	snprintf(e.db, sizeof(e.db), "%s", s.db);
	e.metrics_port = free_port();
	if (o.out != NULL && (out = fopen(o.out, "w")) == NULL) {
		return (2);
	}
	signal(SIGPIPE, SIG_IGN);
	srand(o.seed);
	struct ld_round *rs = calloc((size_t) o.rounds, sizeof(*rs));
	printf("round\tverdict\tacked_enq\tacked_done\tlost_enq\tlost_done\t"
	       "window_ms\tunacked_kept\trestore_ms\tsnap_load\tsnap_restart\t"
	       "snap_after\tchecks\n");
	for (int i = 0; i < o.rounds; i++) {
		run_round(&s, &e, &o, i, &rs[i]);
		bool ok = round_ok(&rs[i], o.restart);
		failed += !ok;
		ld_print_round(stdout, i, &rs[i], ok);
		if (out != NULL) {
			ld_print_round(out, i, &rs[i], ok);
			fflush(out);
		}
		fflush(stdout);
	}
	summary(&o, rs, o.rounds, failed);
	if (out != NULL) {
		fclose(out);
	}
	if (failed > 0) {
		setenv("CAIRN_TEST_KEEP", "1", 1);
		printf("lost_disk: kept %s\n", s.dir);
	}
	dsrv_cleanup(&s);
	free(rs);
	return (failed == 0 ? 0 : 1);
}
