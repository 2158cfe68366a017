/*
 * wf_worker.h - what the two files of the workflow worker share: its
 * structs, the turn (wf_worker.c) and the threads (wf_worker_loop.c).
 */
#ifndef CAIRN_WF_WORKER_H
#define CAIRN_WF_WORKER_H

#include <pthread.h>
#include <stdatomic.h>

#include "wf_internal.h"

#define IDLE_MS          100   /* how often idle waits look at the flags */
#define RETRY_MS         200   /* between tries of a call that may succeed */
#define DEFAULT_LEASE_MS 60000 /* the server's default lease */
#define DEFAULT_CACHE    64

struct wf_type {
	char *name;
	cairn_wf_fn fn;
	void *arg;
};

/* A turn in progress, as the heartbeat thread sees it (under w->mu). */
struct wf_slot {
	cairn_wf_worker *w;
	pthread_t thread;
	uint64_t turn; /* 0: idle; else a number no other turn had */
	uint64_t run_id;
	char *token;
	int64_t next_hb;
	int64_t deadline; /* past it, the lease is surely gone */
	cairn_wf_ctx *ctx;
	bool lost;
};

struct cairn_wf_worker {
	cairn_client *c;
	cairn_wf_worker_options o;
	const char *default_queue[1];
	int64_t lease_ms, hb_ms;
	struct wf_type *types;
	size_t ntypes;
	atomic_bool stop;

	pthread_mutex_t mu; /* protects what follows */
	pthread_cond_t cv;
	struct wf_slot *slots; /* o.concurrency of them */
	struct cairn__wf_cache cache;
	uint64_t turns;
	bool quit;
	int fatal;
	cairn_wf_worker_stats stats;
	pthread_t hb_thread;
};

int64_t cairn__wf_mono_ms(void);
void cairn__wf_sleep_ms(int64_t ms);
/* cairn__wf_transient: a status whose call may succeed if made again. */
bool cairn__wf_transient(int status);

/* cairn__wf_turn runs the turn of a leased run on slot s: sent is what
 * the lease announced of the run in `known` (NULL: nothing), leased_at
 * when it was asked for. */
void cairn__wf_turn(struct wf_slot *s, cairn_leased_run *lr,
    const cairn_wf_known *sent, int64_t leased_at);

#endif /* CAIRN_WF_WORKER_H */
