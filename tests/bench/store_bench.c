/*
 * store_bench.c - the storage work of a task lifecycle, in one process:
 * the calls that the engine makes for an Enqueue of B tasks, a Lease of B
 * and a CompleteBatch of B, each in its own committed transaction, on a
 * store of its own (SQLite by default, or any store URI), with no network
 * and no threads.
 *
 *   store-bench [--store URI] [--batch B] [--rounds R]
 *
 * It prints the lifecycles per second and the time of each; on this
 * machine the engine thread cannot go faster than that, whatever the
 * network does. Run it under `valgrind --tool=callgrind` to see where a
 * lifecycle's instructions go (docs/BENCHMARKS.md).
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

#define PAYLOAD 100

struct opts {
	const char *store;
	int batch, rounds;
};

static int
usage(FILE *f, int rv)
{
	fprintf(f,
	    "usage: store-bench [--store URI] [--batch B] [--rounds R]\n"
	    "  --store URI   store to use (default: a new SQLite file in "
	    "TMPDIR, removed after)\n"
	    "  --batch B     tasks per Enqueue, Lease and CompleteBatch "
	    "(default 100, 1-1000)\n"
	    "  --rounds R    rounds of the three (default 200)\n");
	return (rv);
}

static int
parse(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{ "store", required_argument, NULL, 's' },
		{ "batch", required_argument, NULL, 'b' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	char *end;

	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		long v = 0;
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
round_of(struct store *s, int b, int64_t now, long *done)
{
	static const uint8_t payload[PAYLOAD];
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
		specs[i].payload_len = PAYLOAD;
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

int
main(int argc, char **argv)
{
	struct opts o = { .batch = 100, .rounds = 200 };
	struct store_options so = { .sync = STORE_SYNC_FULL };
	char path[512] = "", uri[600], err[256];
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
	if (store_open(o.store, &so, &s, err, sizeof(err)) != CAIRN_OK) {
		fprintf(
		    stderr, "store-bench: cannot open %s: %s\n", o.store, err);
		return (1);
	}
	/* Task time moves on by 1 ms a round; the clock times the run. */
	int64_t now = (int64_t) time(NULL) * 1000;
	uint64_t t0 = bench_now_ns();
	for (int r = 0; r < o.rounds && rv == 0; r++) {
		rv = round_of(s, o.batch, now + r, &done);
	}
	double elapsed = (double) (bench_now_ns() - t0) / 1e9;
	store_close(s);
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
	printf("store-bench: %ld lifecycles in %.3f s (batches of %d, 3 "
	       "commits each): %.0f lifecycles/s, %.1f us each\n",
	    done, elapsed, o.batch, (double) done / elapsed,
	    elapsed * 1e6 / (double) done);
	return (0);
}
