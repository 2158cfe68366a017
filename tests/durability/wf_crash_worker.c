/*
 * wf_crash_worker.c - a worker process of the workflow crash proofs, to
 * be killed with SIGKILL at any moment and started again:
 *
 *   wf_crash_worker URL workflows --events FILE [--stats FILE]
 *                   [--concurrency N] [--no-cache] [--step-sleep MS]
 *   wf_crash_worker URL tasks --events FILE [--queue Q]... [--threads N]
 *                   [--task-sleep MS] [--plain]
 *
 * workflows: a C workflow worker (cairn_wf_worker) of the crash flow
 * (wf_crash.h) and the scale flows (wf_scale.h). tasks: task workers that
 * lease activities (of the crash flow's queues, or --queue), run them
 * (wfc_activity_result, and unless --plain a name of the execution) and
 * complete them, retrying a Complete whose
 * answer is unknown with the same token. Both write what they did and
 * were told to the events file (wf_crash_lines.c reads it). On SIGTERM
 * they stop after the work in progress; a workflow worker then writes its
 * counters and the process's I/O and CPU to the stats file.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wf_crash.h"
#include "wf_scale.h"

static cairn_wf_worker *wf;
static atomic_bool stopping;

struct opts {
	const char *url, *mode, *events, *stats;
	const char *queues[8];
	size_t nqueues;
	unsigned concurrency, threads;
	bool no_cache, plain;
	int step_sleep_ms, task_sleep_ms;
};

static void
on_signal(int sig)
{
	(void) sig;
	atomic_store(&stopping, true);
	if (wf != NULL) {
		cairn_wf_worker_stop(wf);
	}
}

static void
nap(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static bool
transient(int rv)
{
	return (rv != CAIRN_OK && rv != CAIRN_FAILED_PRECONDITION
	    && rv != CAIRN_NOT_FOUND && rv != CAIRN_INVALID_ARGUMENT);
}

struct task_thread {
	const struct opts *o;
	int fd;
	unsigned seed;
};

/* run_task runs one activity and completes it, telling the events file
 * what it returns before it completes, and once the completion was
 * answered OK. The result is wfc_activity_result's and, unless --plain,
 * this execution's name: an execution after a completion that was lost
 * returns something else. */
static void
run_task(struct task_thread *t, cairn_client *c, const cairn_task *task)
{
	static atomic_uint execs;
	char result[64];
	int rv;

	wfc_activity_result(task->payload, task->payload_len, result);
	if (!t->o->plain) {
		snprintf(result + strlen(result), sizeof(result) - 18,
		    ":%d.%u", (int) getpid(), atomic_fetch_add(&execs, 1));
	}
	wfc_line(t->fd, "exec %" PRIu64 " %" PRIu32 " %s", task->id,
	    task->attempt, result);
	if (t->o->task_sleep_ms > 0) {
		nap(rand_r(&t->seed) % t->o->task_sleep_ms);
	}
	for (int tries = 0; tries < 50; tries++) {
		rv = cairn_complete(
		    c, task->id, task->lease_token, result, strlen(result));
		if (!transient(rv)) {
			break;
		}
		nap(200);
	}
	if (rv == CAIRN_OK) {
		wfc_line(t->fd, "acked %" PRIu64 " %s", task->id, result);
	}
}

static void *
task_main(void *arg)
{
	struct task_thread *t = arg;
	cairn_client_options co = { .timeout_ms = 3000, .lazy_connect = true };
	cairn_lease_options lo = { .max_tasks = 4,
		.wait_ms = 300,
		.lease_timeout_ms = WFC_LEASE_MS };
	cairn_client *c;

	if (cairn_client_open(&c, t->o->url, &co, NULL, 0) != CAIRN_OK) {
		return (NULL);
	}
	while (!atomic_load(&stopping)) {
		cairn_task **ts;
		size_t n;
		if (cairn_lease(c, t->o->queues, t->o->nqueues, &lo, &ts, &n)
		    != CAIRN_OK) {
			nap(50);
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			run_task(t, c, ts[i]);
		}
		cairn_tasks_free(ts, n);
	}
	cairn_client_close(c);
	return (NULL);
}

static int
run_tasks(const struct opts *o, int fd)
{
	pthread_t th[16];
	struct task_thread t[16];
	unsigned n = o->threads > 16 ? 16 : o->threads;

	for (unsigned i = 0; i < n; i++) {
		t[i] = (struct task_thread) { o, fd,
			(unsigned) getpid() * 31 + i };
		pthread_create(&th[i], NULL, task_main, &t[i]);
	}
	for (unsigned i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
	}
	return (0);
}

/* proc_io reads a counter of /proc/self/io (rchar: bytes read by any
 * read call, sockets included). */
static unsigned long long
proc_io(const char *key)
{
	char line[128];
	unsigned long long v = 0;
	FILE *f = fopen("/proc/self/io", "r");

	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, key, strlen(key)) == 0) {
			v = strtoull(line + strlen(key) + 1, NULL, 10);
		}
	}
	if (f != NULL) {
		fclose(f);
	}
	return (v);
}

static void
write_stats(const char *path)
{
	cairn_wf_worker_stats st;
	struct timespec cpu;
	FILE *f;

	if (path == NULL || (f = fopen(path, "w")) == NULL) {
		return;
	}
	cairn_wf_worker_get_stats(wf, &st);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
	fprintf(f,
	    "turns %" PRIu64 "\nleases_full %" PRIu64 "\nleases_delta %" PRIu64
	    "\nentries_leased %" PRIu64 "\nhistory_loads %" PRIu64
	    "\nadvances %" PRIu64 "\ntask_failures %" PRIu64
	    "\nreplayed %" PRIu64 "\nrchar %llu\nwchar %llu\ncpu_ms %lld\n",
	    st.turns, st.leases_full, st.leases_delta, st.entries_leased,
	    st.history_loads, st.advances, st.task_failures,
	    wfs_replayed_commands(), proc_io("rchar"), proc_io("wchar"),
	    (long long) cpu.tv_sec * 1000 + cpu.tv_nsec / 1000000);
	fclose(f);
}

static int
run_workflows(const struct opts *o, int fd)
{
	cairn_client_options co = { .timeout_ms = 3000, .lazy_connect = true };
	const char *q = WFC_QUEUE;
	cairn_wf_worker_options wo = { .queues = &q,
		.nqueues = 1,
		.concurrency = o->concurrency,
		.poll_wait_ms = 300,
		.lease_timeout_ms = WFC_LEASE_MS,
		.no_cache = o->no_cache };
	cairn_client *c;
	int rv;

	if ((rv = cairn_client_open(&c, o->url, &co, NULL, 0)) != CAIRN_OK) {
		return (1);
	}
	if ((rv = cairn_wf_worker_new(&wf, c, &wo)) != CAIRN_OK
	    || (rv = wfc_register(wf, fd, o->step_sleep_ms)) != CAIRN_OK
	    || (rv = wfs_register(wf)) != CAIRN_OK) {
		fprintf(
		    stderr, "wf_crash_worker: %s\n", cairn_client_errmsg(c));
		return (1);
	}
	if (atomic_load(&stopping)) {
		cairn_wf_worker_stop(wf);
	}
	rv = cairn_wf_worker_run(wf);
	write_stats(o->stats);
	cairn_wf_worker_free(wf);
	cairn_client_close(c);
	return (rv == CAIRN_OK ? 0 : 1);
}

static int
parse(struct opts *o, int argc, char **argv)
{
	*o = (struct opts) { .concurrency = 2, .threads = 2 };
	if (argc < 3) {
		return (-1);
	}
	o->url = argv[1];
	o->mode = argv[2];
	for (int i = 3; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "0";
		if (strcmp(a, "--no-cache") == 0
		    || strcmp(a, "--plain") == 0) {
			*(a[2] == 'n' ? &o->no_cache : &o->plain) = true;
			continue;
		}
		i++;
		if (strcmp(a, "--events") == 0) {
			o->events = v;
		} else if (strcmp(a, "--stats") == 0) {
			o->stats = v;
		} else if (strcmp(a, "--queue") == 0 && o->nqueues < 8) {
			o->queues[o->nqueues++] = v;
		} else if (strcmp(a, "--concurrency") == 0) {
			o->concurrency = (unsigned) atoi(v);
		} else if (strcmp(a, "--threads") == 0) {
			o->threads = (unsigned) atoi(v);
		} else if (strcmp(a, "--step-sleep") == 0) {
			o->step_sleep_ms = atoi(v);
		} else if (strcmp(a, "--task-sleep") == 0) {
			o->task_sleep_ms = atoi(v);
		} else {
			return (-1);
		}
	}
	for (size_t i = 0; o->nqueues == 0 && i < WFC_NQUEUES; i++) {
		o->queues[i] = wfc_activity_queues[i];
	}
	if (o->nqueues == 0) {
		o->nqueues = WFC_NQUEUES;
	}
	return (o->events != NULL ? 0 : -1);
}

int
main(int argc, char **argv)
{
	struct opts o;
	int fd, rv;

	if (parse(&o, argc, argv) != 0) {
		fprintf(stderr,
		    "usage: wf_crash_worker URL workflows|tasks "
		    "--events FILE [options]\n");
		return (2);
	}
	if ((fd = open(o.events, O_WRONLY | O_CREAT | O_APPEND, 0644)) < 0) {
		perror(o.events);
		return (1);
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(o.mode, "workflows") == 0) {
		rv = run_workflows(&o, fd);
	} else if (strcmp(o.mode, "tasks") == 0) {
		rv = run_tasks(&o, fd);
	} else {
		fprintf(stderr, "wf_crash_worker: unknown mode %s\n", o.mode);
		rv = 2;
	}
	close(fd);
	return (rv);
}
