/*
 * wf_crash_load.c - the load of the workflow crash proofs (wf_crash.h):
 * producers that start runs and signal them, observers that read runs'
 * logs while they go on and compare each snapshot with what they saw
 * before, worker processes, and a chaos thread that kills those with
 * SIGKILL at random moments and starts them again. Each thread has a
 * client of its own; every call goes on through the server's deaths.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dur_util.h"
#include "wf_crash_internal.h"

struct thread_arg {
	struct wfc_load *l;
	int index;
};

static cairn_client *
client(const char *url)
{
	cairn_client_options o = { .timeout_ms = 3000, .lazy_connect = true };
	cairn_client *c = NULL;

	if (cairn_client_open(&c, url, &o, NULL, 0) != CAIRN_OK) {
		abort();
	}
	return (c);
}

static bool
retryable(int rv)
{
	return (rv != CAIRN_OK && rv != CAIRN_INVALID_ARGUMENT
	    && rv != CAIRN_NOT_FOUND);
}

/* start_one starts a run and sends it its signal, each sent again until
 * it is answered (the workflow id makes a second start find the first
 * run; a second signal would wait unused in the inbox). */
static void
start_one(struct wfc_load *l, cairn_client *c, struct wfc_run *r)
{
	int64_t until = mono_ms() + 60000;
	uint64_t id = 0;
	char payload[80];
	int rv;

	while (retryable(
	           rv = cairn_workflow_start(c, r->wfid, WFC_TYPE, WFC_QUEUE,
	               r->wfid, strlen(r->wfid), &id, NULL, NULL))
	    && mono_ms() < until) {
		sleep_ms(100);
	}
	if (rv != CAIRN_OK) {
		return; /* unknown: the checker reads the run if it exists */
	}
	pthread_mutex_lock(&l->mu);
	r->run_id = id;
	pthread_mutex_unlock(&l->mu);
	/* A signal whose first copy took effect, unanswered, and whose run
	 * then finished is refused (FAILED_PRECONDITION): not sent again. */
	snprintf(payload, sizeof(payload), "go:%s", r->wfid);
	while (retryable(rv = cairn_workflow_signal(c, id, NULL, WFC_SIGNAL,
	                     payload, strlen(payload), NULL, NULL))
	    && rv != CAIRN_FAILED_PRECONDITION && mono_ms() < until) {
		sleep_ms(100);
	}
	pthread_mutex_lock(&l->mu);
	r->signaled = rv == CAIRN_OK;
	pthread_mutex_unlock(&l->mu);
}

static void *
producer(void *arg)
{
	struct thread_arg *a = arg;
	struct wfc_load *l = a->l;
	cairn_client *c = client(l->url);
	unsigned seed = l->seed * 13 + (unsigned) a->index;

	for (int i = 0; !atomic_load(&l->stop_producers); i++) {
		struct wfc_run *r = NULL;
		pthread_mutex_lock(&l->mu);
		uint64_t inflight = l->nruns - l->finished_seen;
		if (l->nruns < l->cap
		    && inflight < (uint64_t) l->max_inflight) {
			r = &l->runs[l->nruns++];
			memset(r, 0, sizeof(*r));
			snprintf(r->wfid, sizeof(r->wfid), "c%u-%d-%d",
			    l->seed, a->index, i);
		}
		pthread_mutex_unlock(&l->mu);
		if (r != NULL) {
			start_one(l, c, r);
		}
		sleep_ms(10 + rand_r(&seed) % 40);
	}
	cairn_client_close(c);
	free(a);
	return (NULL);
}

/* observe_one reads run r's log and compares it with what was seen. */
static void
observe_one(struct wfc_load *l, cairn_client *c, struct wfc_run *r)
{
	cairn_workflow_run *run;
	cairn_wf_entry *e;
	size_t n;

	if (wfc_read_log(c, r->run_id, &run, &e, &n) != CAIRN_OK) {
		return; /* the server is away, or the run is lost: the end
		           check says which */
	}
	pthread_mutex_lock(&l->mu);
	bool was = r->state >= (int) CAIRN_WF_SUCCEEDED;
	wfc_observe(r, run, e, n, &l->counts);
	if (!was && r->state >= (int) CAIRN_WF_SUCCEEDED) {
		l->finished_seen++;
	}
	pthread_mutex_unlock(&l->mu);
	cairn_wf_entries_free(e, n);
	cairn_workflow_run_free(run);
}

/* observer reads the runs of its share (index modulo observers), so that
 * the snapshots of one run are taken and compared in order. Finished runs
 * are read again now and then: a finished run must stay as it was. */
static void *
observer(void *arg)
{
	struct thread_arg *a = arg;
	struct wfc_load *l = a->l;
	cairn_client *c = client(l->url);
	unsigned seed = l->seed * 17 + (unsigned) a->index;

	while (!atomic_load(&l->stop_observers)) {
		pthread_mutex_lock(&l->mu);
		size_t n = l->nruns;
		pthread_mutex_unlock(&l->mu);
		for (size_t i = (size_t) a->index; i < n; i += l->observers) {
			struct wfc_run *r = &l->runs[i];
			pthread_mutex_lock(&l->mu);
			uint64_t id = r->run_id;
			bool done = r->state >= (int) CAIRN_WF_SUCCEEDED;
			pthread_mutex_unlock(&l->mu);
			if (id != 0 && (!done || rand_r(&seed) % 50 == 0)) {
				observe_one(l, c, r);
				sleep_ms(5);
			}
			if (atomic_load(&l->stop_observers)) {
				break;
			}
		}
		sleep_ms(20);
	}
	cairn_client_close(c);
	free(a);
	return (NULL);
}

/* spawn starts worker process p (mu held). */
static void
spawn(struct wfc_load *l, struct wfc_proc *p, int slot)
{
	char events[512];
	pid_t pid;

	snprintf(events, sizeof(events), "%s/%s%d-%d.events", l->dir,
	    p->tasks ? "task" : "wf", slot, p->gen++);
	if ((pid = fork()) == 0) {
		execl(l->worker, l->worker, l->url,
		    p->tasks ? "tasks" : "workflows", "--events", events,
		    "--step-sleep", "15", "--task-sleep", "20", (char *) NULL);
		_exit(127);
	}
	p->pid = pid;
}

static void *
chaos(void *arg)
{
	struct wfc_load *l = arg;
	unsigned seed = l->seed * 19;

	while (!atomic_load(&l->stop_chaos)) {
		sleep_ms(150 + rand_r(&seed) % 600);
		pthread_mutex_lock(&l->mu);
		int i = rand_r(&seed) % l->nprocs;
		struct wfc_proc *p = &l->procs[i];
		if (p->pid > 0) {
			kill(p->pid, SIGKILL);
			waitpid(p->pid, NULL, 0);
			l->kills++;
		}
		spawn(l, p, i);
		pthread_mutex_unlock(&l->mu);
	}
	return (NULL);
}

static void
start_thread(struct wfc_load *l, void *(*fn)(void *), int index)
{
	struct thread_arg *a = malloc(sizeof(*a));

	a->l = l;
	a->index = index;
	pthread_create(&l->thr[l->nthr++], NULL, fn, a);
}

int
wfc_load_start(struct wfc_load *l, int nwf, int ntw)
{
	if (nwf + ntw > WFC_MAX_PROCS || l->producers + l->observers > 32
	    || l->observers < 1) {
		return (-1);
	}
	pthread_mutex_init(&l->mu, NULL);
	atomic_init(&l->stop_producers, false);
	atomic_init(&l->stop_observers, false);
	atomic_init(&l->stop_chaos, false);
	if ((l->runs = calloc(l->cap, sizeof(*l->runs))) == NULL) {
		return (-1);
	}
	pthread_mutex_lock(&l->mu);
	for (int i = 0; i < nwf + ntw; i++) {
		l->procs[i].tasks = i >= nwf;
		spawn(l, &l->procs[i], i);
	}
	l->nprocs = nwf + ntw;
	pthread_mutex_unlock(&l->mu);
	for (int i = 0; i < l->producers; i++) {
		start_thread(l, producer, i);
	}
	for (int i = 0; i < l->observers; i++) {
		start_thread(l, observer, i);
	}
	if (l->chaos) {
		pthread_create(&l->chaos_thr, NULL, chaos, l);
	}
	return (0);
}

void
wfc_load_stop_producers(struct wfc_load *l)
{
	atomic_store(&l->stop_producers, true);
	for (int i = 0; i < l->producers; i++) {
		pthread_join(l->thr[i], NULL);
	}
	atomic_store(&l->stop_chaos, true);
	if (l->chaos) {
		pthread_join(l->chaos_thr, NULL);
	}
}

uint64_t
wfc_load_drain(struct wfc_load *l, int ms)
{
	cairn_client *c = client(l->url);
	cairn_workflow_filter f = { .state = CAIRN_WF_RUNNING };
	int64_t until = mono_ms() + ms;
	uint64_t left = UINT64_MAX;

	while (mono_ms() < until) {
		cairn_workflow_run **v;
		size_t n;
		if (cairn_workflow_list(c, &f, 1000, 0, &v, &n, NULL)
		    == CAIRN_OK) {
			cairn_workflow_runs_free(v, n);
			if ((left = n) == 0) {
				break;
			}
		}
		sleep_ms(200);
	}
	cairn_client_close(c);
	return (left);
}

void
wfc_load_stop(struct wfc_load *l)
{
	atomic_store(&l->stop_observers, true);
	for (int i = l->producers; i < l->nthr; i++) {
		pthread_join(l->thr[i], NULL);
	}
	for (int i = 0; i < l->nprocs; i++) {
		if (l->procs[i].pid > 0) {
			kill(l->procs[i].pid, SIGTERM);
		}
	}
	for (int i = 0; i < l->nprocs; i++) {
		pid_t pid = l->procs[i].pid;
		int64_t until = mono_ms() + 5000;
		while (pid > 0 && waitpid(pid, NULL, WNOHANG) == 0) {
			if (mono_ms() > until) {
				kill(pid, SIGKILL);
				waitpid(pid, NULL, 0);
				break;
			}
			sleep_ms(20);
		}
		l->procs[i].pid = -1;
	}
}
