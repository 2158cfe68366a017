/*
 * ops/stats_cache.h - tasks by queue and state, and runs by type and
 * state, read through the engine and kept for a while, shared by /metrics
 * and the dashboard's API: however often they are asked, the store counts
 * at most once per ttl, and never more often than every ten times the
 * last count took, so that counting a large store cannot take more than a
 * tenth of the engine's time.
 */
#ifndef CAIRN_STATS_CACHE_H
#define CAIRN_STATS_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"

/* One read of the counts. Shared, read-only: released with
 * stats_snap_release by each holder. */
struct stats_snap {
	struct queue_stats *st; /* by queue name */
	size_t nst;
	bool ok; /* the read of tasks succeeded (else st is empty) */
	struct queue_settings *qs; /* every configured queue, by name */
	size_t nqs;
	struct wf_type_stats *wst; /* by type; none: a store without */
	size_t nwst;
	int64_t at_ms;    /* the engine's clock when it was read */
	uint64_t took_ns; /* what the read took */
	int refs;         /* under the cache's lock */
};

struct stats_cache;

/* stats_cache_new reads through e, with probes of timeout_ms, at most
 * every ttl_ms. NULL: out of memory. */
struct stats_cache *stats_cache_new(
    struct engine *e, int64_t ttl_ms, int64_t timeout_ms);

/* stats_cache_free frees c and its snapshot (every holder must have
 * released theirs). NULL is a no-op. */
void stats_cache_free(struct stats_cache *c);

/* stats_cache_get returns the current counts, read now if they are too
 * old; never NULL (a failed first read is an empty snapshot, ok false).
 * Called from the HTTP threads, which may wait for the engine here. */
const struct stats_snap *stats_cache_get(struct stats_cache *c);

/* stats_snap_release gives back what stats_cache_get returned; NULL is a
 * no-op. */
void stats_snap_release(struct stats_cache *c, const struct stats_snap *s);

#endif /* CAIRN_STATS_CACHE_H */
