/*
 * wf_cache.c - the logs of runs a workflow worker held (wf_internal.h).
 *
 * Without it, every turn of a run sends its whole log: a run of n entries
 * that takes n turns costs n^2/2 entries on the wire. With it, each turn
 * sends the entries appended or resolved since the worker's last turn of
 * the run, n in all.
 */
#include <stdlib.h>
#include <string.h>

#include "wf_internal.h"

bool
cairn__wf_cache_init(struct cairn__wf_cache *c, size_t cap)
{
	memset(c, 0, sizeof(*c));
	if (cap > 0 && (c->v = calloc(cap, sizeof(*c->v))) == NULL) {
		return (false);
	}
	c->cap = cap;
	return (true);
}

void
cairn__wf_cache_clear(struct cairn__wf_cache *c)
{
	for (size_t i = 0; i < c->n; i++) {
		cairn__wf_log_clear(&c->v[i].log);
	}
	free(c->v);
	memset(c, 0, sizeof(*c));
}

size_t
cairn__wf_cache_known(const struct cairn__wf_cache *c, cairn_wf_known *out)
{
	for (size_t i = 0; i < c->n; i++) {
		out[i].run_id = c->v[i].run_id;
		out[i].log_length = c->v[i].log_length;
		out[i].resolved_count = c->v[i].resolved_count;
	}
	return (c->n);
}

static void
remove_at(struct cairn__wf_cache *c, size_t i)
{
	c->v[i] = c->v[--c->n];
	memset(&c->v[c->n], 0, sizeof(c->v[c->n]));
}

bool
cairn__wf_cache_take(
    struct cairn__wf_cache *c, uint64_t run_id, struct cairn__wf_cached *out)
{
	for (size_t i = 0; i < c->n; i++) {
		if (c->v[i].run_id == run_id) {
			*out = c->v[i];
			remove_at(c, i);
			return (true);
		}
	}
	return (false);
}

void
cairn__wf_cache_put(struct cairn__wf_cache *c, struct cairn__wf_cached *e)
{
	struct cairn__wf_cached old;
	size_t lru = 0;

	if (c->cap == 0) {
		cairn__wf_log_clear(&e->log);
		return;
	}
	if (cairn__wf_cache_take(c, e->run_id, &old)) {
		cairn__wf_log_clear(&old.log);
	}
	if (c->n == c->cap) {
		for (size_t i = 1; i < c->n; i++) {
			if (c->v[i].used < c->v[lru].used) {
				lru = i;
			}
		}
		cairn__wf_log_clear(&c->v[lru].log);
		remove_at(c, lru);
	}
	e->used = ++c->tick;
	c->v[c->n++] = *e;
	memset(e, 0, sizeof(*e));
}

bool
cairn__wf_log_merge(
    struct cairn__wf_log *log, cairn_wf_entry *entries, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		cairn_wf_entry *e = &entries[i];
		if (e->seq >= 1 && e->seq <= log->n) {
			/* A new outcome of an entry held: it replaces it. */
			cairn__wf_entry_clear(&log->v[e->seq - 1]);
			log->v[e->seq - 1] = *e;
			memset(e, 0, sizeof(*e));
		} else if (e->seq != log->n + 1
		    || !cairn__wf_log_push(log, e)) {
			return (false);
		}
	}
	return (true);
}
