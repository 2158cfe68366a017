/*
 * store/store.c - the backends of this build: chosen by URI scheme, their
 * tables checked before first use, and the calls made on a backend as a
 * whole (backup, watch).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

extern const struct store_backend store_sqlite_backend;
#ifdef CAIRN_WITH_POSTGRES
extern const struct store_backend store_postgres_backend;
#endif

static const struct store_backend *const backends[] = {
	&store_sqlite_backend,
#ifdef CAIRN_WITH_POSTGRES
	&store_postgres_backend,
#endif
};

const struct store_backend *
store_backend_of(const char *uri)
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		for (const char *const *p = backends[i]->schemes; *p != NULL;
		     p++) {
			if (strncmp(uri, *p, strlen(*p)) == 0) {
				return (backends[i]);
			}
		}
	}
	return (NULL);
}

/* wf_fault names what is wrong with a backend's workflow table (NULL:
 * none, which is allowed), or returns NULL. */
static const char *
wf_fault(const struct store_wf_ops *w)
{
	if (w != NULL
	    && (w->insert == NULL || w->find == NULL || w->load == NULL
	        || w->get == NULL || w->save == NULL || w->pick_ready == NULL
	        || w->pick_expired == NULL || w->entry_insert == NULL
	        || w->entry_load == NULL || w->entry_save == NULL
	        || w->entries == NULL || w->pick_fired == NULL
	        || w->find_wait == NULL || w->inbox_put == NULL
	        || w->inbox_take == NULL || w->list == NULL || w->stats == NULL
	        || w->prune == NULL)) {
		return ("store_wf_ops lacks a required member");
	}
	return (NULL);
}

/* queues_fault is wf_fault for the table of per-queue settings. */
static const char *
queues_fault(const struct store_queue_ops *q)
{
	if (q != NULL
	    && (q->get == NULL || q->put == NULL || q->list == NULL
	        || q->active == NULL || q->bucket == NULL)) {
		return ("store_queue_ops lacks a required member");
	}
	return (NULL);
}

/* backend_fault names what is wrong with b's tables, or returns NULL. */
static const char *
backend_fault(const struct store_backend *b)
{
	const struct store_ops *o = b->ops;

	if (b->version != STORE_OPS_VERSION) {
		return ("store_backend of another version");
	}
	if (b->name == NULL || b->schemes == NULL || b->open == NULL
	    || o == NULL || ((b->watch == NULL) != (b->unwatch == NULL))) {
		return ("store_backend lacks a required member");
	}
	if (o->version != STORE_OPS_VERSION) {
		return ("store_ops of another version");
	}
	if (o->close == NULL || o->begin == NULL || o->commit == NULL
	    || o->rollback == NULL || o->insert == NULL || o->load == NULL
	    || o->save == NULL || o->add_event == NULL || o->pick_due == NULL
	    || o->pick_expired == NULL || o->next_wakeup == NULL
	    || o->get == NULL || o->list == NULL || o->stats == NULL
	    || o->history == NULL || o->find_key == NULL || o->prune == NULL) {
		return ("store_ops lacks a required member");
	}
	if ((o->request_get == NULL) != (o->request_put == NULL)
	    || (o->request_get == NULL) != (o->request_prune == NULL)) {
		return ("store_ops has part of the request log");
	}
	if (o->sched != NULL
	    && (o->sched->insert == NULL || o->sched->load == NULL
	        || o->sched->save == NULL || o->sched->remove == NULL
	        || o->sched->list == NULL || o->sched->pick_due == NULL
	        || o->sched->next_fire == NULL)) {
		return ("store_sched_ops lacks a required member");
	}
	return (wf_fault(o->wf) != NULL ? wf_fault(o->wf)
	                                : queues_fault(o->queues));
}

int
store_open_with(const struct store_backend *b, const char *uri,
    const struct store_options *opts, struct store **out, char *err,
    size_t errlen)
{
	const char *fault = backend_fault(b);
	struct store *s;
	int rv;

	if (fault != NULL) {
		snprintf(err, errlen, "store backend %s: %s",
		    b->name != NULL ? b->name : "?", fault);
		return (CAIRN_INTERNAL);
	}
	if ((rv = b->open(uri, opts, &s, err, errlen)) != CAIRN_OK) {
		return (rv);
	}
	s->backend = b;
	*out = s;
	return (CAIRN_OK);
}

int
store_open(const char *uri, const struct store_options *opts,
    struct store **out, char *err, size_t errlen)
{
	const struct store_backend *b = store_backend_of(uri);

	if (b != NULL) {
		return (store_open_with(b, uri, opts, out, err, errlen));
	}
	snprintf(err, errlen,
	    "unsupported store URI '%s' (expected sqlite:PATH"
#ifdef CAIRN_WITH_POSTGRES
	    " or postgres://..."
#endif
	    ")",
	    uri);
	return (CAIRN_INVALID_ARGUMENT);
}

bool
store_can_backup(const char *uri)
{
	const struct store_backend *b = store_backend_of(uri);

	return (b != NULL && b->backup != NULL);
}

int
store_backup(const char *uri, const char *path, bool (*keep_going)(void *arg),
    void *arg, uint64_t *bytes, char *err, size_t errlen)
{
	const struct store_backend *b = store_backend_of(uri);

	if (b == NULL || b->backup == NULL) {
		snprintf(err, errlen, "this store has no online backup");
		return (CAIRN_UNIMPLEMENTED);
	}
	return (b->backup(uri, path, keep_going, arg, bytes, err, errlen));
}

struct store_watch *
store_watch(const struct store *s, void (*due)(void *arg, const char *queue),
    void *arg)
{
	return (
	    s->backend->watch != NULL ? s->backend->watch(s, due, arg) : NULL);
}

void
store_unwatch(const struct store *s, struct store_watch *w)
{
	if (w != NULL) {
		s->backend->unwatch(w);
	}
}
