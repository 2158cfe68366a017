/*
 * engine/prefetch.c - telling the store, as a transaction begins, which
 * rows, request records and due tasks its ops are about to read (store.h,
 * prefetch), so that a backend that pays a round trip per call reads them
 * all in one.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "lifecycle/replay.h"

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

/* leases_next says whether op is a Complete that leases the next task. */
static bool
leases_next(const struct engine_op *op)
{
	return (op->kind == OP_COMPLETE && op->in.touch.lease_next);
}

/* has_record says whether op looks up its request id's record, and under
 * a Lease's key (a Complete that leases records as a Lease). */
static bool
has_record(const struct engine_op *op, bool *lease)
{
	*lease = op->kind == OP_LEASE || leases_next(op);
	return (op->request_id != NULL && (op->kind == OP_ENQUEUE || *lease));
}

/* lease_queues is how many queues op may pick from. */
static size_t
lease_queues(const struct engine_op *op)
{
	return (op->kind == OP_LEASE ? op->in.lease.req.nqueues : 0);
}

/* add_picks adds what op may pick to the hints of *n queues. (A Complete
 * that leases the next task picks from its task's queue: unknown yet.) */
static void
add_picks(const struct engine_op *op, struct store_pick_hint *picks, size_t *n)
{
	if (op->kind != OP_LEASE) {
		return;
	}
	const struct lease_request *req = &op->in.lease.req;
	for (size_t q = 0; q < req->nqueues; q++) {
		size_t i = 0;
		while (i < *n && strcmp(picks[i].queue, req->queues[q]) != 0) {
			i++;
		}
		if (i == *n) {
			picks[(*n)++] = (struct store_pick_hint) {
				.queue = req->queues[q],
			};
		}
		uint32_t sum = picks[i].max + req->max_tasks;
		picks[i].max = sum < LC_LEASE_MAX ? sum : LC_LEASE_MAX;
	}
}

int
engine_prefetch(struct store *s, const struct engine_op *list, int64_t now)
{
	struct store_prefetch pf = { .now = now };
	size_t nqueues = 0;
	uint64_t *ids;
	char(*keys)[LC_REQUEST_KEY_MAX];
	const char **keyp;
	struct store_pick_hint *picks;
	int rv;

	if (!store_wants_prefetch(s)) {
		return (CAIRN_OK);
	}
	bool lease;
	for (const struct engine_op *op = list; op != NULL; op = op->next) {
		pf.nids += task_ids(op, NULL);
		pf.nkeys += has_record(op, &lease) ? 1 : 0;
		nqueues += lease_queues(op);
		pf.unknown_picks += leases_next(op) ? 1 : 0;
	}
	if (pf.unknown_picks > LC_LEASE_MAX) {
		pf.unknown_picks = LC_LEASE_MAX;
	}
	ids = malloc((pf.nids > 0 ? pf.nids : 1) * sizeof(*ids));
	keys = malloc((pf.nkeys > 0 ? pf.nkeys : 1) * sizeof(*keys));
	keyp = malloc((pf.nkeys > 0 ? pf.nkeys : 1) * sizeof(*keyp));
	picks = calloc(nqueues > 0 ? nqueues : 1, sizeof(*picks));
	if (ids == NULL || keys == NULL || keyp == NULL || picks == NULL) {
		/* Only a hint: every call still works without it. */
		free(ids);
		free(keys);
		free(keyp);
		free(picks);
		return (CAIRN_OK);
	}
	pf.nids = pf.nkeys = 0;
	for (const struct engine_op *op = list; op != NULL; op = op->next) {
		pf.nids += task_ids(op, ids + pf.nids);
		if (has_record(op, &lease)) {
			lifecycle_request_key(keys[pf.nkeys], sizeof(keys[0]),
			    lease, op->request_id);
			keyp[pf.nkeys] = keys[pf.nkeys];
			pf.nkeys++;
		}
		add_picks(op, picks, &pf.npicks);
	}
	pf.ids = ids;
	pf.keys = keyp;
	pf.picks = picks;
	rv = store_prefetch(s, &pf);
	free(ids);
	free(keys);
	free(keyp);
	free(picks);
	return (rv);
}
