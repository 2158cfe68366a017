/*
 * main.c - cairn-bench: options, the server to drive, the run and its
 * report. See docs/BENCHMARKS.md for what each workload measures.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define MAX_CLIENTS 1024

static const char *const workload_names[] = {
	[WL_PING] = "ping",
	[WL_ENQUEUE] = "enqueue",
	[WL_DRAIN] = "drain",
	[WL_LIFECYCLE] = "lifecycle",
	[WL_BATCH] = "batch",
	[WL_FSYNC] = "fsync",
	[WL_WORKFLOW] = "workflow",
	[WL_HEARTBEAT] = "heartbeat",
};

static void
usage(FILE *f)
{
	fputs(
	    "Usage: cairn-bench [OPTIONS] [WORKLOAD]\n"
	    "\n"
	    "Workloads:\n"
	    "  ping       round trips that touch no storage (transport "
	    "ceiling)\n"
	    "  enqueue    Enqueue of --batch tasks per request\n"
	    "  drain      Lease + Complete of a backlog of --backlog tasks\n"
	    "             (CompleteBatch when --lease-batch > 1)\n"
	    "  lifecycle  producers Enqueue, workers Lease and Complete, "
	    "each step\n"
	    "             its own durable rpc (the default)\n"
	    "  batch      Enqueue of --batch, Lease of --lease-batch, "
	    "one\n"
	    "             CompleteBatch per lease\n"
	    "  fsync      fdatasync of a 4 KiB write, no server (the disk's "
	    "floor)\n"
	    "  workflow   producers start runs of a workflow of "
	    "--activities\n"
	    "             activities and await their results; task workers "
	    "run the\n"
	    "             activities, a C workflow worker drives the runs\n"
	    "  heartbeat  each client leases a task of --payload bytes, then "
	    "heartbeats\n"
	    "             it again and again (what a heartbeat writes)\n"
	    "\n"
	    "Options:\n"
	    "  --server URL      drive a running cairnd (default: start one)\n"
	    "  --store URI       store of the cairnd started (default: "
	    "SQLite in a\n"
	    "                    temporary directory)\n"
	    "  --cairnd PATH     cairnd to start (default: next to "
	    "cairn-bench)\n"
	    "  --durability M    passed to the cairnd started\n"
	    "  --metrics URL     the /metrics of --server, for commit "
	    "counts\n"
	    "  --server-pid PID  the process of --server, for its memory, "
	    "CPU and\n"
	    "                    bytes written (/proc/PID)\n"
	    "  --fsync-count F   the fsync counter file of --server (started "
	    "with\n"
	    "                    LD_PRELOAD=libcairn-fsync-count.so "
	    "CAIRN_FSYNC_COUNT=F)\n"
	    "  --clients N       client threads, one connection each "
	    "(default 16)\n"
	    "  --producers N     lifecycle, batch: producer threads "
	    "(default clients/3;\n"
	    "                    workflow: runs in flight, default "
	    "clients/2)\n"
	    "  --workers N       lifecycle, batch, workflow: (task) worker "
	    "threads\n"
	    "                    (default the rest; workflow: clients/4)\n"
	    "  --duration S      seconds to measure (default 5)\n"
	    "  --payload BYTES   payload size (default 100)\n"
	    "  --batch N         tasks per Enqueue (default 1; batch: 100)\n"
	    "  --lease-batch N   tasks per Lease (default 1; batch: "
	    "--batch)\n"
	    "  --backlog N       tasks enqueued before the clock starts "
	    "(drain:\n"
	    "                    default 10000)\n"
	    "  --complete-next   lifecycle: Complete also leases the next "
	    "task\n"
	    "  --single-complete one Complete per task, never CompleteBatch\n"
	    "  --bind            workers lease with release_on_disconnect "
	    "(as\n"
	    "                    the worker helpers do)\n"
	    "  --queue NAME      queue to use (default: a fresh one)\n"
	    "  --fsync-dir DIR   fsync: where to write (default $TMPDIR)\n"
	    "  --activities N    workflow: activities per run (default 3)\n"
	    "  --parallel        workflow: start them all, then wait for "
	    "all\n"
	    "  --wf-workers N    workflow: turns at once in the workflow "
	    "worker\n"
	    "                    (default clients/4)\n"
	    "  --no-cache        workflow: the worker keeps no logs (every "
	    "lease\n"
	    "                    sends the whole log)\n"
	    "  --pages           SQLite, the cairnd started: the pages its "
	    "commits wrote,\n"
	    "                    by table and index (libcairn-pages.so), "
	    "over its life\n"
	    "  --json            print one JSON object instead of text\n"
	    "  --quiet           no progress line on stderr\n",
	    f);
}

static bool
parse_workload(const char *name, struct bench_options *o)
{
	for (size_t i = 0; i < sizeof(workload_names) / sizeof(char *); i++) {
		if (strcmp(name, workload_names[i]) == 0) {
			o->workload = (enum bench_workload) i;
			o->workload_name = workload_names[i];
			return (true);
		}
	}
	return (false);
}

static bool
parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (s[0] < '0' || s[0] > '9' || *end != 0 || v > max) {
		return (false);
	}
	*out = v;
	return (true);
}

enum {
	O_SERVER = 1000,
	O_STORE,
	O_CAIRND,
	O_DURABILITY,
	O_METRICS,
	O_PID,
	O_FSYNC_COUNT,
	O_CLIENTS,
	O_PRODUCERS,
	O_WORKERS,
	O_DURATION,
	O_PAYLOAD,
	O_BATCH,
	O_LEASE_BATCH,
	O_BACKLOG,
	O_NEXT,
	O_BIND,
	O_SINGLE,
	O_QUEUE,
	O_FSYNC_DIR,
	O_ACTIVITIES,
	O_PARALLEL,
	O_WF_WORKERS,
	O_NO_CACHE,
	O_PAGES,
	O_JSON,
	O_QUIET,
	O_HELP,
};

static const struct option longopts[] = {
	{ "server", required_argument, NULL, O_SERVER },
	{ "store", required_argument, NULL, O_STORE },
	{ "cairnd", required_argument, NULL, O_CAIRND },
	{ "durability", required_argument, NULL, O_DURABILITY },
	{ "metrics", required_argument, NULL, O_METRICS },
	{ "server-pid", required_argument, NULL, O_PID },
	{ "fsync-count", required_argument, NULL, O_FSYNC_COUNT },
	{ "clients", required_argument, NULL, O_CLIENTS },
	{ "producers", required_argument, NULL, O_PRODUCERS },
	{ "workers", required_argument, NULL, O_WORKERS },
	{ "duration", required_argument, NULL, O_DURATION },
	{ "payload", required_argument, NULL, O_PAYLOAD },
	{ "batch", required_argument, NULL, O_BATCH },
	{ "lease-batch", required_argument, NULL, O_LEASE_BATCH },
	{ "backlog", required_argument, NULL, O_BACKLOG },
	{ "complete-next", no_argument, NULL, O_NEXT },
	{ "bind", no_argument, NULL, O_BIND },
	{ "single-complete", no_argument, NULL, O_SINGLE },
	{ "queue", required_argument, NULL, O_QUEUE },
	{ "fsync-dir", required_argument, NULL, O_FSYNC_DIR },
	{ "activities", required_argument, NULL, O_ACTIVITIES },
	{ "parallel", no_argument, NULL, O_PARALLEL },
	{ "wf-workers", required_argument, NULL, O_WF_WORKERS },
	{ "no-cache", no_argument, NULL, O_NO_CACHE },
	{ "pages", no_argument, NULL, O_PAGES },
	{ "json", no_argument, NULL, O_JSON },
	{ "quiet", no_argument, NULL, O_QUIET },
	{ "help", no_argument, NULL, O_HELP },
	{ NULL, 0, NULL, 0 },
};

/* set_number applies a numeric option; false on a bad value. */
static bool
set_number(struct bench_options *o, int key, const char *arg)
{
	uint64_t v;

	if (key == O_DURATION) {
		char *end;
		o->duration_s = strtod(arg, &end);
		return (
		    *end == 0 && o->duration_s > 0 && o->duration_s <= 3600);
	}
	if (!parse_u64(arg, key == O_BACKLOG ? 100000000 : 1 << 24, &v)) {
		return (false);
	}
	switch (key) {
	case O_PID:
		o->server_pid = (pid_t) v;
		return (v > 0);
	case O_CLIENTS:
		o->clients = (int) v;
		return (v >= 1 && v <= MAX_CLIENTS);
	case O_PRODUCERS:
		o->producers = (int) v;
		return (v <= MAX_CLIENTS);
	case O_WORKERS:
		o->workers = (int) v;
		return (v <= MAX_CLIENTS);
	case O_PAYLOAD:
		o->payload = (size_t) v;
		return (true);
	case O_BATCH:
		o->batch = (uint32_t) v;
		return (v >= 1 && v <= 1000);
	case O_LEASE_BATCH:
		o->lease_batch = (uint32_t) v;
		return (v >= 1 && v <= 1000);
	case O_BACKLOG:
		o->backlog = v;
		return (true);
	case O_ACTIVITIES:
		o->activities = (uint32_t) v;
		return (v <= 10000);
	case O_WF_WORKERS:
		o->wf_workers = (int) v;
		return (v >= 1 && v <= MAX_CLIENTS);
	}
	return (false);
}

/* defaults fills what the options left open; false on a contradiction. */
/* workflow_defaults: half the clients keep a run in flight, a quarter
 * run activities, a quarter of turns at once in the workflow worker. */
static bool
workflow_defaults(struct bench_options *o)
{
	if (o->activities == 0) {
		o->activities = 3;
	}
	if (o->producers == 0) {
		o->producers = o->clients / 2 > 0 ? o->clients / 2 : 1;
	}
	if (o->workers == 0) {
		o->workers = o->clients / 4 > 0 ? o->clients / 4 : 1;
	}
	if (o->wf_workers == 0) {
		o->wf_workers = o->clients / 4 > 0 ? o->clients / 4 : 1;
	}
	o->clients = o->producers + o->workers;
	return (true);
}

static bool
defaults(struct bench_options *o, bool backlog_set)
{
	bool split = o->workload == WL_LIFECYCLE || o->workload == WL_BATCH;

	if (o->workload == WL_WORKFLOW) {
		o->batch = 1;
		if (o->lease_batch == 0) {
			o->lease_batch = 1;
		}
		return (workflow_defaults(o));
	}
	if (o->batch == 0) {
		o->batch = o->workload == WL_BATCH ? 100 : 1;
	}
	if (o->lease_batch == 0) {
		o->lease_batch = o->workload == WL_BATCH ? o->batch : 1;
	}
	if (!backlog_set && o->workload == WL_DRAIN) {
		o->backlog = 10000;
	}
	if (!split) {
		o->producers = o->workers = 0;
		return (true);
	}
	if (o->producers == 0 && o->workers == 0) {
		/* A worker makes two rpcs per task, a producer one. */
		o->producers = o->clients / 3 > 0 ? o->clients / 3 : 1;
		o->workers = o->clients - o->producers > 0
		    ? o->clients - o->producers
		    : 1;
	} else if (o->producers == 0 || o->workers == 0) {
		int given = o->producers + o->workers;
		if (given >= o->clients) {
			return (false);
		}
		*(o->producers == 0 ? &o->producers : &o->workers)
		    = o->clients - given;
	}
	o->clients = o->producers + o->workers;
	return (true);
}

static int
parse(struct bench_options *o, int argc, char **argv)
{
	bool backlog_set = false;
	int key;

	memset(o, 0, sizeof(*o));
	o->clients = 16;
	o->duration_s = 5;
	o->payload = 100;
	parse_workload("lifecycle", o);
	while ((key = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (key) {
		case O_SERVER:
			o->server = optarg;
			break;
		case O_STORE:
			o->store = optarg;
			break;
		case O_CAIRND:
			o->cairnd = optarg;
			break;
		case O_DURABILITY:
			o->durability = optarg;
			break;
		case O_METRICS:
			o->metrics = optarg;
			break;
		case O_FSYNC_COUNT:
			o->fsync_count = optarg;
			break;
		case O_QUEUE:
			o->queue = optarg;
			break;
		case O_FSYNC_DIR:
			o->fsync_dir = optarg;
			break;
		case O_SINGLE:
			o->single_complete = true;
			break;
		case O_NEXT:
			o->complete_next = true;
			break;
		case O_BIND:
			o->bind = true;
			break;
		case O_PARALLEL:
			o->parallel = true;
			break;
		case O_NO_CACHE:
			o->no_cache = true;
			break;
		case O_PAGES:
			o->pages = true;
			break;
		case O_JSON:
			o->json = true;
			break;
		case O_QUIET:
			o->quiet = true;
			break;
		case O_HELP:
			usage(stdout);
			exit(0);
		case '?':
			return (-1);
		default:
			backlog_set |= key == O_BACKLOG;
			if (!set_number(o, key, optarg)) {
				fprintf(stderr,
				    "cairn-bench: bad value '%s' for --%s\n",
				    optarg, longopts[key - O_SERVER].name);
				return (-1);
			}
		}
	}
	if (optind < argc && !parse_workload(argv[optind++], o)) {
		fprintf(stderr, "cairn-bench: unknown workload '%s'\n",
		    argv[optind - 1]);
		return (-1);
	}
	if (optind < argc) {
		fprintf(
		    stderr, "cairn-bench: unexpected '%s'\n", argv[optind]);
		return (-1);
	}
	if (!defaults(o, backlog_set)) {
		fprintf(stderr,
		    "cairn-bench: --producers and --workers "
		    "leave no room in --clients\n");
		return (-1);
	}
	return (0);
}

int
main(int argc, char **argv)
{
	struct bench_options opt;
	struct bench_result r;
	struct bench_server srv = { .pid = -1 };
	struct bench_fsyncs given = { NULL };
	const struct bench_fsyncs *fsyncs;
	const char *url, *metrics;
	char err[512] = "";
	pid_t pid;
	int rv;

	if (parse(&opt, argc, argv) != 0) {
		usage(stderr);
		return (2);
	}
	signal(SIGPIPE, SIG_IGN);
	memset(&r, 0, sizeof(r));
	r.rss_kib = r.rss_peak_kib = r.rss_after_fill_kib = -1;
	if (opt.workload == WL_FSYNC) {
		opt.clients = 1;
		rv = bench_fsync(&opt, &r, err, sizeof(err));
		goto report;
	}
	if (opt.server == NULL) {
		if (bench_server_start(&srv, &opt, err, sizeof(err)) != 0) {
			fprintf(stderr, "cairn-bench: %s\n", err);
			bench_server_stop(&srv);
			return (1);
		}
		url = srv.url;
		metrics = opt.metrics != NULL ? opt.metrics : srv.metrics;
		pid = srv.pid;
		fsyncs = &srv.fsyncs;
		snprintf(r.store, sizeof(r.store), "%s", srv.store);
	} else {
		url = opt.server;
		metrics = opt.metrics;
		pid = opt.server_pid > 0 ? opt.server_pid : -1;
		if (opt.fsync_count != NULL
		    && bench_fsyncs_open(&given, opt.fsync_count, false)
		        != 0) {
			fprintf(stderr, "cairn-bench: cannot map %s\n",
			    opt.fsync_count);
			return (1);
		}
		fsyncs = &given;
	}
	snprintf(r.server, sizeof(r.server), "%s", url);
	rv = bench_run(&opt, &r, url, metrics, pid, fsyncs, err, sizeof(err));
	if (rv != 0) {
		fprintf(stderr, "cairn-bench: %s\n", err);
	}
	bench_server_stop(&srv);
	r.pages = srv.pages;
	bench_fsyncs_close(&given);
report:
	if (rv != 0 && opt.workload == WL_FSYNC) {
		fprintf(stderr, "cairn-bench: %s\n", err);
		return (1);
	}
	if (opt.json) {
		bench_report_json(&opt, &r);
	} else {
		bench_report_text(&opt, &r);
	}
	return (rv != 0 || r.errors > 0 ? 1 : 0);
}
