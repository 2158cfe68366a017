/*
 * ops/probe.h - an engine op submitted from one of the HTTP threads, which
 * waits for it with a time limit: a store that hangs must not hang the
 * threads that answer /readyz, /metrics and the dashboard. Only these
 * threads submit probes; nng's own threads never wait for the store.
 */
#ifndef CAIRN_PROBE_H
#define CAIRN_PROBE_H

#include <pthread.h>
#include <stdint.h>

#include "engine/engine.h"

#define PROBE_KEEP_MAX 4

/* An engine op that its submitter may stop waiting for: the engine still
 * owns it until done, which then frees it. */
struct probe {
	struct engine_op op; /* set its inputs before probe_run */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	enum { PROBE_WAITING, PROBE_DONE, PROBE_ABANDONED } state;
	void *kept[PROBE_KEEP_MAX]; /* probe_keep's copies */
};

/* probe_new returns a probe of kind (NULL: out of memory), owned by the
 * caller until probe_run. */
struct probe *probe_new(enum engine_op_kind kind);

/* probe_run submits p->op to e and waits for it up to timeout_ms.
 * Returns p, answered (p->op.status, outputs), for the caller to free
 * with probe_free; NULL when the engine did not answer in time or refused
 * it, and p is then no longer the caller's. */
struct probe *probe_run(struct engine *e, struct probe *p, int64_t timeout_ms);

/* probe_keep returns a copy of data[0..len) (data NULL: zeros) followed
 * by a NUL, owned by p and freed with it: an input that an op points to must
 * live as long as the op, which outlives a submitter that stopped waiting.
 * NULL when out of memory, or when p keeps PROBE_KEEP_MAX copies already. */
void *probe_keep(struct probe *p, const void *data, size_t len);

/* probe_free frees p and its op's outputs; NULL is a no-op. */
void probe_free(struct probe *p);

#endif /* CAIRN_PROBE_H */
