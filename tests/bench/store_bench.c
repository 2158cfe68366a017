/*
 * store_bench.c - the storage work of a task lifecycle, in one process:
 * the calls that the engine makes for an Enqueue of B tasks, a Lease of B
 * and a CompleteBatch of B, each in its own committed transaction, on a
 * store of its own (SQLite by default, or any store URI), with no network
 * and no threads.
 *
 *   store-bench [--store URI] [--batch B] [--rounds R] [--payload N]
 *               [--pages]
 *
 * It prints the lifecycles per second and the time of each; on this
 * machine the engine thread cannot go faster than that, whatever the
 * network does. Run it under `valgrind --tool=callgrind` to see where a
 * lifecycle's instructions go (docs/BENCHMARKS.md). It also prints what a
 * lifecycle writes (store_pages.c): on SQLite the pages appended to the
 * write-ahead log, the pages checkpoints copy into the database and the
 * syncs, and with --pages the tables and indexes those pages belong to;
 * on PostgreSQL the cluster's write-ahead log records and bytes.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "lifecycle/lifecycle.h"
#include "store/store.h"
#include "store_pages.h"

#define PAYLOAD_MAX (16 << 20)

struct opts {
	const char *store;
	int batch, rounds;
	long payload;
	bool pages;
};

static int
usage(FILE *f, int rv)
{
	fprintf(f,
	    "usage: store-bench [--store URI] [--batch B] [--rounds R] "
	    "[--payload N] [--pages]\n"
	    "  --store URI   store to use (default: a new SQLite file in "
	    "TMPDIR, removed after)\n"
	    "  --batch B     tasks per Enqueue, Lease and CompleteBatch "
	    "(default 100, 1-1000)\n"
	    "  --rounds R    rounds of the three (default 200)\n"
	    "  --payload N   bytes of each task's payload (default 100)\n"
	    "  --pages       SQLite: the tables and indexes whose pages the "
	    "log took\n");
	return (rv);
}

static int
parse(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{ "store", required_argument, NULL, 's' },
		{ "batch", required_argument, NULL, 'b' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "payload", required_argument, NULL, 'p' },
		{ "pages", no_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	char *end;

	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		long v = 0;
		if (c == 'p') {
			v = strtol(optarg, &end, 10);
			if (*end != 0 || v < 0 || v > PAYLOAD_MAX) {
				fprintf(stderr,
				    "store-bench: bad --payload: "
				    "%s\n",
				    optarg);
				return (2);
			}
			o->payload = v;
			continue;
		}
		if (c == 'b' || c == 'r') {
			v = strtol(optarg, &end, 10);
			if (*end != 0 || v < 1
			    || (c == 'b' && v > LC_LEASE_MAX) || v > 1000000) {
				fprintf(stderr, "store-bench: bad --%s: %s\n",
				    c == 'b' ? "batch" : "rounds", optarg);
				return (2);
			}
		}
		switch (c) {
		case 's':
			o->store = optarg;
			break;
		case 'b':
			o->batch = (int) v;
			break;
		case 'r':
			o->rounds = (int) v;
			break;
		case 'g':
			o->pages = true;
			break;
		case 'h':
			exit(usage(stdout, 0));
		default:
			return (usage(stderr, 2));
		}
	}
	if (optind != argc) {
		fprintf(stderr, "store-bench: unexpected argument: %s\n",
		    argv[optind]);
		return (2);
	}
	return (0);
}

/* step ends one request's transaction as the engine does (the writes a
 * backend gathered are sent, then COMMIT); what failed is said on
 * stderr. */
static int
step(struct store *s, int rv, const char *what, const char *msg)
{
	if (rv == CAIRN_OK && (rv = store_flush(s)) == CAIRN_OK
	    && (rv = store_commit(s)) == CAIRN_OK) {
		return (0);
	}
	fprintf(stderr, "store-bench: %s: %s\n", what,
	    msg[0] != 0 ? msg : store_errmsg(s));
	store_rollback(s);
	return (-1);
}

/* round runs one Enqueue, Lease and CompleteBatch of b tasks at now and
 * adds the tasks completed to *done. */
static int
round_of(struct store *s, int b, const uint8_t *payload, size_t payload_len,
    int64_t now, long *done)
{
	struct task_spec specs[LC_LEASE_MAX];
	uint64_t ids[LC_LEASE_MAX];
	bool created[LC_LEASE_MAX];
	const char *queues[] = { "bench" };
	struct lease_request lr = { .queues = queues,
		.nqueues = 1,
		.max_tasks = (uint32_t) b,
		.worker_id = "store-bench" };
	char msg[LC_MSG_MAX] = "";
	struct task **tasks = NULL;
	size_t n = 0;
	int rv;

	memset(specs, 0, sizeof(specs[0]) * (size_t) b);
	for (int i = 0; i < b; i++) {
		specs[i].queue = "bench";
		specs[i].payload = payload;
		specs[i].payload_len = payload_len;
	}
	if ((rv = store_begin(s)) == CAIRN_OK) {
		rv = lifecycle_enqueue(
		    s, specs, (size_t) b, now, ids, created, msg);
	}
	if (step(s, rv, "enqueue", msg) != 0) {
		return (-1);
	}
	if ((rv = store_begin(s)) == CAIRN_OK) {
		rv = lifecycle_lease(s, &lr, now, &tasks, &n, msg);
	}
	if (step(s, rv, "lease", msg) != 0) {
		return (-1);
	}
	/* As the engine does: the rows to complete are read ahead (a hint
	 * that only a backend with round trips uses). */
	for (size_t i = 0; i < n; i++) {
		ids[i] = tasks[i]->id;
	}
	struct store_prefetch pf = { .now = now, .ids = ids, .nids = n };
	if ((rv = store_begin(s)) == CAIRN_OK
	    && (rv = store_prefetch(s, &pf)) == CAIRN_OK) {
		for (size_t i = 0; i < n && rv == CAIRN_OK; i++) {
			rv = lifecycle_complete(s, tasks[i]->id,
			    tasks[i]->lease_token, payload, 10, now, msg);
		}
	}
	task_array_free(tasks, n);
	if (step(s, rv, "complete", msg) != 0) {
		return (-1);
	}
	*done += (long) n;
	return (0);
}

/* noise returns n bytes that do not compress (PostgreSQL compresses large
 * values: a payload of zeros would cost it almost nothing to write). */
static uint8_t *
noise(size_t n)
{
	uint8_t *p = malloc(n + 1);
	uint64_t x = 0x9e3779b97f4a7c15u;

	for (size_t i = 0; p != NULL && i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t) x;
	}
	return (p);
}

/* pg_settled reads pg_stat_wal after the store's connection closed, until
 * the statistics of its server process have arrived (two equal readings,
 * past pg0's when there is one), for three seconds at most. */
static void
pg_settled(const char *uri, const struct store_pages_pg *pg0,
    struct store_pages_pg *pg1)
{
	struct timespec pause = { 0, 100 * 1000 * 1000 };
	struct store_pages_pg last = { 0 };

	for (int i = 0; i < 30; i++) {
		if (store_pages_pg(uri, pg1) != 0) {
			return;
		}
		if ((pg0 == NULL || pg1->records > pg0->records)
		    && pg1->records == last.records) {
			return;
		}
		last = *pg1;
		nanosleep(&pause, NULL);
	}
}

/* open_store opens the store of the run. What opening writes (the schema)
 * is not a lifecycle's: on PostgreSQL the statistics of the schema's
 * creation come when its connection ends, so a first open and close come
 * before the reading of pg0. */
static int
open_store(const struct opts *o, const struct store_options *so, bool sqlite,
    struct store_pages_pg *pg0, struct store **s)
{
	char err[256];

	if (!sqlite) {
		if (store_open(o->store, so, s, err, sizeof(err))
		    != CAIRN_OK) {
			goto fail;
		}
		store_close(*s);
		pg_settled(o->store, NULL, pg0);
	}
	if (store_open(o->store, so, s, err, sizeof(err)) == CAIRN_OK) {
		return (0);
	}
fail:
	fprintf(stderr, "store-bench: cannot open %s: %s\n", o->store, err);
	return (-1);
}

/* report_pages prints what the run wrote per lifecycle. */
static void
report_pages(const struct opts *o, const struct store_pages *sq,
    const struct store_pages_pg *pg0, const struct store_pages_pg *pg1,
    const char *path, long done)
{
	double n = (double) done, commits = 3.0 * o->rounds;

	if (sq->have) {
		printf("store-bench: per lifecycle: %.2f pages to the log "
		       "(%.1f per commit, %.0f B with their headers), "
		       "%.2f pages copied into the database by checkpoints, "
		       "%.3f syncs\n",
		    (double) sq->wal_frames / n,
		    (double) sq->wal_frames / commits,
		    (double) sq->wal_bytes / n, (double) sq->db_writes / n,
		    (double) sq->syncs / n);
		if (o->pages && path[0] != 0) {
			store_pages_owners(path, n, stdout);
		}
	} else if (pg0->have && pg1->have) {
		printf("store-bench: per lifecycle: %.1f WAL records "
		       "(%.2f full-page images), %.0f WAL bytes, %.3f WAL "
		       "syncs (the whole cluster)\n",
		    (double) (pg1->records - pg0->records) / n,
		    (double) (pg1->fpi - pg0->fpi) / n,
		    (double) (pg1->lsn - pg0->lsn) / n,
		    (double) (pg1->syncs - pg0->syncs) / n);
	} else {
		printf("store-bench: pages written: not measurable on this "
		       "store\n");
	}
}

int
main(int argc, char **argv)
{
	struct opts o = { .batch = 100, .rounds = 200, .payload = 100 };
	struct store_pages sq = { 0 };
	struct store_pages_pg pg0 = { 0 }, pg1 = { 0 };
	uint8_t *payload;
	struct store_options so = { .sync = STORE_SYNC_FULL };
	char path[512] = "", uri[600];
	struct store *s;
	long done = 0;
	int rv = parse(argc, argv, &o);

	if (rv != 0) {
		return (rv);
	}
	if (o.store == NULL) {
		const char *tmp = getenv("TMPDIR");
		snprintf(path, sizeof(path), "%s/store-bench-%d.db",
		    tmp != NULL ? tmp : "/tmp", (int) getpid());
		snprintf(uri, sizeof(uri), "sqlite:%s", path);
		o.store = uri;
	}
	bool sqlite = strncmp(o.store, "sqlite:", 7) == 0;
	if (sqlite && store_pages_install() != 0) {
		fprintf(stderr, "store-bench: cannot count the pages\n");
		return (1);
	}
	if ((payload = noise((size_t) o.payload)) == NULL) {
		fprintf(stderr, "store-bench: out of memory\n");
		return (1);
	}
	if (open_store(&o, &so, sqlite, &pg0, &s) != 0) {
		free(payload);
		return (1);
	}
	struct store_pages sq0;
	store_pages_read(&sq0);
	/* Task time moves on by 1 ms a round; the clock times the run. */
	int64_t now = (int64_t) time(NULL) * 1000;
	uint64_t t0 = bench_now_ns();
	for (int r = 0; r < o.rounds && rv == 0; r++) {
		rv = round_of(
		    s, o.batch, payload, (size_t) o.payload, now + r, &done);
	}
	double elapsed = (double) (bench_now_ns() - t0) / 1e9;
	store_pages_read(&sq);
	sq.wal_frames -= sq0.wal_frames;
	sq.wal_bytes -= sq0.wal_bytes;
	sq.db_writes -= sq0.db_writes;
	sq.db_bytes -= sq0.db_bytes;
	sq.syncs -= sq0.syncs;
	store_close(s);
	if (!sqlite) {
		pg_settled(o.store, &pg0, &pg1);
	}
	free(payload);
	if (rv == 0 && done > 0) {
		printf("store-bench: %ld lifecycles in %.3f s (batches of %d, "
		       "3 commits each): %.0f lifecycles/s, %.1f us each\n",
		    done, elapsed, o.batch, (double) done / elapsed,
		    elapsed * 1e6 / (double) done);
		report_pages(&o, &sq, &pg0, &pg1,
		    sqlite ? o.store + strlen("sqlite:") : "", done);
	}
	if (path[0] != 0) {
		static const char *const suffix[] = { "", "-wal", "-shm" };
		for (size_t i = 0; i < 3; i++) {
			char f[540];
			snprintf(f, sizeof(f), "%s%s", path, suffix[i]);
			unlink(f);
		}
	}
	if (rv != 0 || done == 0) {
		if (rv == 0) {
			fprintf(stderr, "store-bench: nothing was leased\n");
		}
		return (1);
	}
	return (0);
}
