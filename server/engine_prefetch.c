/*
 * engine_prefetch.c - telling the store, as a transaction begins, which
 * rows and request records its ops are about to read (store.h, prefetch),
 * so that a backend that pays a round trip per call reads them all in one.
 */
#include <stdlib.h>

#include "engine_internal.h"
#include "lifecycle_replay.h"

/* task_ids writes into ids (when not NULL) the ids of the tasks that op
 * loads, and returns how many. */
static size_t
task_ids(const struct engine_op *op, uint64_t *ids)
{
	size_t n = 0;

	switch (op->kind) {
	case OP_HEARTBEAT:
	case OP_COMPLETE:
		if (ids != NULL) {
			ids[0] = op->in.touch.id;
		}
		return (1);
	case OP_FAIL:
		if (ids != NULL) {
			ids[0] = op->in.fail.id;
		}
		return (1);
	case OP_CANCEL:
	case OP_RETRY:
		if (ids != NULL) {
			ids[0] = op->in.id;
		}
		return (1);
	case OP_COMPLETE_BATCH:
	case OP_HEARTBEAT_BATCH:
		for (; n < op->in.batch.n; n++) {
			if (ids != NULL) {
				ids[n] = op->in.batch.items[n].id;
			}
		}
		return (n);
	default:
		return (0);
	}
}

/* has_record says whether op looks up its request id's record. */
static bool
has_record(const struct engine_op *op)
{
	return (op->request_id != NULL
	    && (op->kind == OP_ENQUEUE || op->kind == OP_LEASE));
}

int
engine_prefetch(struct store *s, const struct engine_op *list)
{
	size_t nids = 0, nkeys = 0;
	uint64_t *ids;
	char(*keys)[LC_REQUEST_KEY_MAX];
	const char **keyp;
	int rv;

	if (!store_wants_prefetch(s)) {
		return (CAIRN_OK);
	}
	for (const struct engine_op *op = list; op != NULL; op = op->next) {
		nids += task_ids(op, NULL);
		nkeys += has_record(op) ? 1 : 0;
	}
	if (nids == 0 && nkeys == 0) {
		return (CAIRN_OK);
	}
	ids = malloc((nids > 0 ? nids : 1) * sizeof(*ids));
	keys = malloc((nkeys > 0 ? nkeys : 1) * sizeof(*keys));
	keyp = malloc((nkeys > 0 ? nkeys : 1) * sizeof(*keyp));
	if (ids == NULL || keys == NULL || keyp == NULL) {
		/* Only a hint: every call still works without it. */
		free(ids);
		free(keys);
		free(keyp);
		return (CAIRN_OK);
	}
	nids = nkeys = 0;
	for (const struct engine_op *op = list; op != NULL; op = op->next) {
		nids += task_ids(op, ids + nids);
		if (has_record(op)) {
			lifecycle_request_key(keys[nkeys], sizeof(keys[0]),
			    op->kind == OP_LEASE, op->request_id);
			keyp[nkeys] = keys[nkeys];
			nkeys++;
		}
	}
	rv = store_prefetch(s, ids, nids, keyp, nkeys);
	free(ids);
	free(keys);
	free(keyp);
	return (rv);
}
