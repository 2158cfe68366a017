/*
 * c_throughput.c - the C baseline for bench/throughput.py: enqueue N tasks
 * in batches of 100, then drain them with T threads that each lease one
 * task and complete it, in a loop, through one shared libcairn handle.
 * With "next", a thread completes with cairn_complete_next, which leases
 * the next task in the same request, and leases on its own only when that
 * gave none (as cairn.Worker does).
 *
 * The build makes it as tests/py_c_throughput (target py_c_throughput):
 *
 *   build/release/tests/py_c_throughput URL QUEUE TASKS THREADS [next]
 *
 * Prints one line: tasks, threads, seconds and tasks/s of the drain.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>

#include "cairn.h"

#define BATCH 100

static cairn_client *client;
static const char *queue;
static int use_next; /* complete with cairn_complete_next */
static long left;    /* tasks not completed yet, under lock */
static double end;   /* when the last completion was acknowledged */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

static void
done_one(void)
{
	pthread_mutex_lock(&lock);
	if (--left == 0) {
		end = now();
	}
	pthread_mutex_unlock(&lock);
}

static bool
all_done(void)
{
	bool done;

	pthread_mutex_lock(&lock);
	done = left <= 0;
	pthread_mutex_unlock(&lock);
	return (done);
}

/* run completes t and, with use_next, every task that completing leases,
 * then frees them. */
static void
run(cairn_task *t)
{
	while (t != NULL) {
		cairn_task *next = NULL;
		int rv = use_next
		    ? cairn_complete_next(client, t->id, t->lease_token,
		        t->payload, t->payload_len, NULL, &next)
		    : cairn_complete(client, t->id, t->lease_token, t->payload,
		        t->payload_len);
		if (rv != CAIRN_OK) {
			fprintf(stderr, "complete: %s\n",
			    cairn_client_errmsg(client));
			exit(1);
		}
		done_one();
		cairn_task_free(t);
		t = next;
	}
}

static void *
drain(void *arg)
{
	cairn_lease_options opts = { .max_tasks = 1, .wait_ms = 200 };
	const char *qs[1] = { queue };

	(void) arg;
	while (!all_done()) {
		cairn_task **v;
		size_t n;

		if (cairn_lease(client, qs, 1, &opts, &v, &n) != CAIRN_OK) {
			fprintf(stderr, "lease: %s\n",
			    cairn_client_errmsg(client));
			exit(1);
		}
		for (size_t i = 0; i < n; i++) {
			run(v[i]);
			v[i] = NULL;
		}
		cairn_tasks_free(v, n);
	}
	return (NULL);
}

int
main(int argc, char **argv)
{
	cairn_task_spec specs[BATCH];
	cairn_enqueue_result res[BATCH];
	pthread_t th[64];
	char err[256];
	long total;
	int threads;
	double start, took;

	if (argc != 5 && !(argc == 6 && strcmp(argv[5], "next") == 0)) {
		fprintf(stderr, "usage: %s URL QUEUE TASKS THREADS [next]\n",
		    argv[0]);
		return (2);
	}
	use_next = argc == 6;
	queue = argv[2];
	total = atol(argv[3]);
	threads = atoi(argv[4]);
	if (total <= 0 || threads <= 0 || threads > 64) {
		fprintf(stderr, "TASKS > 0, 0 < THREADS <= 64\n");
		return (2);
	}
	if (cairn_client_open(&client, argv[1], NULL, err, sizeof(err))
	    != CAIRN_OK) {
		fprintf(stderr, "open: %s\n", err);
		return (1);
	}
	for (long done = 0; done < total; done += BATCH) {
		size_t n
		    = total - done < BATCH ? (size_t) (total - done) : BATCH;
		memset(specs, 0, sizeof(specs));
		for (size_t i = 0; i < n; i++) {
			specs[i].queue = queue;
			specs[i].payload = "x";
			specs[i].payload_len = 1;
		}
		if (cairn_enqueue(client, specs, n, res) != CAIRN_OK) {
			fprintf(stderr, "enqueue: %s\n",
			    cairn_client_errmsg(client));
			return (1);
		}
	}
	left = total;
	start = now();
	for (int i = 0; i < threads; i++) {
		pthread_create(&th[i], NULL, drain, NULL);
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
	}
	took = end - start;
	printf("c %s: %ld tasks, %d threads, %.3f s, %.0f tasks/s\n",
	    use_next ? "loop-next" : "loop", total, threads, took,
	    total / took);
	cairn_client_close(client);
	return (0);
}
