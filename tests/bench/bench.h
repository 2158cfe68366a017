/*
 * bench.h - cairn-bench: what its files share.
 *
 * cairn-bench drives a cairnd (one it starts on a temporary store, or one
 * given by --server) with closed-loop client threads, each with its own
 * connection, and reports throughput and latency per rpc. Every thread
 * keeps histograms of its own, merged once at the end, so that measuring
 * adds no lock to the loop being measured.
 */
#ifndef CAIRN_BENCH_H
#define CAIRN_BENCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/types.h>

#include "cairn.h"

/* Histogram: HDR-like log buckets, 64 linear sub-buckets per power of
 * two (about 1.5 % relative error), exact below 64 ns, up to 2^40 ns. */
#define HIST_SUB_BITS 6
#define HIST_SUB      (1 << HIST_SUB_BITS)
#define HIST_MAX_EXP  40
#define HIST_BUCKETS  (HIST_SUB + (HIST_MAX_EXP - HIST_SUB_BITS) * HIST_SUB)

struct hist {
	uint64_t count;
	uint64_t sum_ns;
	uint64_t max_ns;
	uint64_t bucket[HIST_BUCKETS];
};

void hist_record(struct hist *h, uint64_t ns);
void hist_merge(struct hist *into, const struct hist *from);
/* hist_quantile returns the value (ns) below which a fraction q of the
 * recorded values lie, at the bucket's midpoint; 0 when empty. */
uint64_t hist_quantile(const struct hist *h, double q);

/* The rpcs a workload makes, each with its own histogram. */
enum bench_rpc {
	RPC_PING,
	RPC_ENQUEUE,
	RPC_LEASE,
	RPC_COMPLETE,
	RPC_COMPLETE_BATCH,
	RPC_HEARTBEAT,
	RPC_FSYNC, /* not an rpc: the fsync workload's fdatasync */
	RPC_START_WORKFLOW,
	RPC_WF_RESULT, /* not an rpc: a run's start to its result */
	RPC_COUNT_
};

extern const char *const bench_rpc_name[RPC_COUNT_];

enum bench_workload {
	WL_PING,
	WL_ENQUEUE,
	WL_DRAIN,
	WL_LIFECYCLE,
	WL_BATCH,
	WL_FSYNC,
	WL_WORKFLOW,
	WL_HEARTBEAT,
};

struct bench_options {
	enum bench_workload workload;
	const char *workload_name;
	const char *server;      /* URL of a running cairnd; NULL: start one */
	const char *store;       /* store URI for the cairnd we start */
	const char *cairnd;      /* path of cairnd; NULL: next to us */
	const char *metrics;     /* http://host:port/metrics; NULL: none */
	const char *queue;       /* NULL: a fresh name per run */
	const char *durability;  /* passed to the cairnd we start */
	const char *fsync_dir;   /* fsync workload: where to write */
	pid_t server_pid;        /* --server-pid, to read its memory */
	const char *fsync_count; /* --fsync-count: counter file of --server */
	int clients;
	int producers; /* lifecycle and batch; 0: a third of clients */
	int workers;   /* lifecycle and batch; 0: the rest */
	double duration_s;
	size_t payload;
	uint32_t batch;       /* tasks per Enqueue */
	uint32_t lease_batch; /* tasks per Lease; 0: batch */
	uint64_t backlog;     /* drain: tasks enqueued before the clock */
	bool complete_next;   /* lifecycle: Complete also leases the next */
	bool bind;            /* workers: release_on_disconnect */
	bool single_complete; /* one Complete per task, even for many */
	bool json;
	bool quiet; /* no progress line */
	/* workflow: activities per run, started all at once or one after
	 * the other, turns at once in the workflow worker, and its log
	 * cache (delta leases) off. */
	uint32_t activities;
	bool parallel;
	int wf_workers;
	bool no_cache;
	bool pages; /* count the started server's pages (libcairn-pages.so) */
};

/* What one thread measured. */
struct bench_thread {
	const struct bench_options *opt;
	struct bench_shared *sh;
	int index;
	bool producer;
	cairn_client *client;
	pthread_t thread;
	uint64_t requests;
	uint64_t tasks; /* pings, enqueued or completed tasks */
	uint64_t errors;
	uint64_t last_ns;    /* when its last counted rpc ended */
	uint64_t activities; /* workflow: activities completed */
	cairn_task *held;    /* heartbeat: the task it keeps leased */
	struct hist h[RPC_COUNT_];
	char err[256]; /* first error */
};

/* State all threads of a run share. */
struct bench_shared {
	const char *url;
	const char *queue;
	const char *wf_queue; /* workflow: where runs are leased */
	struct bench_wf *wf;  /* workflow: the workflow worker */
	uint8_t *payload;
	uint64_t deadline_ns; /* rpcs that end later are not counted */
	atomic_bool stop;
	atomic_uint_fast64_t done_ops; /* for the progress line */
	atomic_uint_fast64_t done_tasks;
	atomic_int running;
};

/* What a process wrote (procio.c), from /proc/PID/io. */
struct bench_io {
	bool have;
	uint64_t wchar;       /* bytes passed to write calls */
	uint64_t syscw;       /* write calls */
	uint64_t write_bytes; /* bytes sent to the block device */
};

/* bench_io_of reads pid's write counters; io->have is false when
 * /proc/PID/io cannot be read. */
void bench_io_of(pid_t pid, struct bench_io *io);

/* The fsync counter that libcairn-fsync-count.so (fsync_count.c) keeps in
 * a file for the server it is preloaded into: count maps that file. */
struct bench_fsyncs {
	const uint64_t *count; /* NULL: none */
};

/* bench_fsyncs_open maps the counter file at path (create: make it,
 * zeroed, first); -1 on failure. bench_fsyncs_read gives its value, false
 * when there is none. */
int bench_fsyncs_open(struct bench_fsyncs *c, const char *path, bool create);
bool bench_fsyncs_read(const struct bench_fsyncs *c, uint64_t *out);
void bench_fsyncs_close(struct bench_fsyncs *c);

/* What libcairn-pages.so (pages_preload.c) counted in a server on SQLite
 * over its whole life: the frames appended to the write-ahead log, the
 * pages checkpoints copied, the syncs, and the frames by the table or
 * index that owns the page, most first. */
#define BENCH_PAGE_OWNERS 32
struct bench_pages {
	bool have;
	uint64_t frames, db_writes, syncs;
	int owners;
	char owner[BENCH_PAGE_OWNERS][64];
	uint64_t owner_frames[BENCH_PAGE_OWNERS];
};

/* A server we started (spawn.c). */
struct bench_server {
	pid_t pid;
	struct bench_fsyncs fsyncs; /* count NULL: started without the
	                             * counting library */
	struct bench_pages pages;   /* read by bench_server_stop */
	char pages_out[300];        /* where libcairn-pages.so writes; "" */
	char dir[256]; /* temporary directory, removed at the end */
	char url[64];
	char metrics[96]; /* "" when this cairnd has no --http */
	char store[320];
};

/* The libraries preloaded into a cairnd we start (preload.c). */
struct bench_preload {
	char ld[2 * 4096];  /* their paths, for LD_PRELOAD; "" for none */
	char counter[300];  /* the fsync counter file; "" for none */
	char pages_db[320]; /* the SQLite file libcairn-pages.so reads */
};

/* bench_preload_setup finds the libraries and readies their files in
 * s->dir (s->fsyncs, s->pages_out); bench_preload_apply sets, in the
 * child about to run cairnd, the environment that loads them;
 * bench_pages_read reads what libcairn-pages.so wrote at path. */
void bench_preload_setup(struct bench_server *s,
    const struct bench_options *opt, struct bench_preload *p);
void bench_preload_apply(
    const struct bench_server *s, const struct bench_preload *p);
void bench_pages_read(const char *path, struct bench_pages *out);

int bench_server_start(struct bench_server *s, const struct bench_options *opt,
    char *err, size_t errlen);
void bench_server_stop(struct bench_server *s);
/* bench_rss_kib reads VmRSS (or VmHWM with peak) of pid; -1 if unknown. */
long bench_rss_kib(pid_t pid, bool peak);

/* What a process spent: CPU time (user + system) and context switches,
 * voluntary and not, over all its threads. */
struct bench_usage {
	bool have;
	double cpu_s;
	uint64_t switches;
};

/* bench_usage_of reads pid's usage from /proc; pid 0: this process. */
void bench_usage_of(pid_t pid, struct bench_usage *u);

/* Counters read from cairnd's /metrics (metrics.c). */
struct bench_counters {
	bool have;
	double commits;
	double ops; /* engine operations, the durable requests */
};

void bench_metrics_read(const char *url, struct bench_counters *out);

/* The result of a run (report.c prints it). */
struct bench_result {
	double elapsed_s;
	uint64_t requests;
	uint64_t tasks;
	uint64_t errors;
	uint64_t backlog_filled;
	double fill_s;
	struct hist h[RPC_COUNT_];
	struct bench_counters before, after;
	struct bench_usage srv0, srv1, cli0, cli1;
	struct bench_io io0, io1; /* the server's */
	bool have_fsyncs;
	uint64_t fsyncs0, fsyncs1;
	struct bench_pages pages; /* --pages */
	long rss_kib, rss_peak_kib, rss_after_fill_kib;
	const char *first_error;
	/* workflow: activities completed, and what the workflow worker
	 * did: its counters, the commands its code issued while replaying
	 * and the time spent in the workflow function (replay included). */
	uint64_t activities;
	cairn_wf_worker_stats wf;
	uint64_t wf_replayed;
	uint64_t wf_code_ns;
	char store[320];
	char server[96];
};

/* bench_run (run.c) fills the backlog, runs the client threads until
 * the duration ends (or a drain empties its queue) and gathers r. */
int bench_run(const struct bench_options *opt, struct bench_result *r,
    const char *url, const char *metrics, pid_t pid,
    const struct bench_fsyncs *fsyncs, char *err, size_t errlen);

/* Workloads (workloads.c): run the measured part of opt->workload. */
int bench_fill(struct bench_shared *sh, const struct bench_options *opt,
    uint64_t n, char *err, size_t errlen);
/* bench_hold gives each of the n threads of the heartbeat workload a task
 * of its own, enqueued and leased before the clock starts. */
int bench_hold(struct bench_thread *t, int n, char *err, size_t errlen);
void *bench_thread_main(void *arg);

/* bench_record times one rpc (started at start, returned rv) into the
 * thread's histogram and counts it; false when the run is over (the
 * deadline passed) or the rpc failed. bench_count counts n units of
 * work done; bench_running says whether the run goes on. */
bool bench_record(
    struct bench_thread *t, enum bench_rpc rpc, uint64_t start, int rv);
void bench_count(struct bench_thread *t, uint64_t n);
bool bench_running(const struct bench_thread *t);

/* The workflow workload (wf_bench.c): producers start runs and await
 * their results, task worker threads run the activities, and a C
 * workflow worker (bench_wf_start: before the clock; bench_wf_stop:
 * after it) drives the runs. Its counters go into r as they were when
 * the last counted result came, so that runs still in flight at the end
 * count as little as possible (with one producer: not at all). */
struct bench_wf;
struct bench_shared;
void bench_wf_producer(struct bench_thread *t);
void bench_wf_tasks(struct bench_thread *t);
struct bench_wf *bench_wf_start(struct bench_shared *sh,
    const struct bench_options *opt, char *err, size_t errlen);
void bench_wf_stop(struct bench_wf *w, struct bench_result *r);

/* fsync.c: the disk's commit latency, the floor of a durable rpc. */
int bench_fsync(const struct bench_options *opt, struct bench_result *r,
    char *err, size_t errlen);

void bench_report_text(
    const struct bench_options *opt, const struct bench_result *r);
void bench_report_json(
    const struct bench_options *opt, const struct bench_result *r);

/* bench_now_ns reads the monotonic clock. */
uint64_t bench_now_ns(void);

#endif /* CAIRN_BENCH_H */
