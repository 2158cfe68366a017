/*
 * engine/prefetch.c - telling the store, as a transaction begins, which
 * rows, runs, request records and due tasks its ops are about to read
 * (store.h, prefetch), so that a backend that pays a round trip per call reads
 * them all in one.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "lifecycle/replay.h"

/* reads fills r with what op will read, and the ids of its tasks into ids
 * when not NULL (its class says). */
static void
reads(const struct engine_op *op, uint64_t *ids, struct engine_reads *r)
{
	const struct engine_op_class *k = engine_op_class(op->kind);

	*r = (struct engine_reads) { 0 };
	if (k->reads != NULL) {
		k->reads(op, ids, r);
	}
}

/* has_record says whether op looks up the record of its request id. */
static bool
has_record(const struct engine_op *op, const struct engine_reads *r)
{
	return (op->request_id != NULL && r->record != ENGINE_RECORD_NONE);
}

/* add_picks adds what a lease of req may pick to the hints of *n queues. */
static void
add_picks(
    const struct lease_request *req, struct store_pick_hint *picks, size_t *n)
{
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

/* add_settings adds the queues of specs, once each, to the *n of qs. */
static void
add_settings(
    const struct task_spec *specs, size_t nspecs, const char **qs, size_t *n)
{
	for (size_t k = 0; k < nspecs; k++) {
		size_t i = 0;
		while (i < *n && strcmp(qs[i], specs[k].queue) != 0) {
			i++;
		}
		if (i == *n) {
			qs[(*n)++] = specs[k].queue;
		}
	}
}

int
engine_prefetch(struct store *s, const struct engine_op *list, int64_t now)
{
	struct store_prefetch pf = { .now = now };
	size_t nqueues = 0;
	uint64_t *ids, *runs;
	char(*keys)[LC_REQUEST_KEY_MAX];
	const char **keyp;
	struct store_pick_hint *picks;
	const char **settings;
	size_t nspecs = 0;
	int rv;

	if (!store_wants_prefetch(s)) {
		return (CAIRN_OK);
	}
	struct engine_reads r;
	for (const struct engine_op *op = list; op != NULL; op = op->next) {
		reads(op, NULL, &r);
		pf.nids += r.nids;
		pf.nruns += r.run != 0 ? 1 : 0;
		pf.nkeys += has_record(op, &r) ? 1 : 0;
		nqueues += r.lease != NULL ? r.lease->nqueues : 0;
		pf.unknown_picks += r.unknown_picks;
		nspecs += r.nspecs;
	}
	if (pf.unknown_picks > LC_LEASE_MAX) {
		pf.unknown_picks = LC_LEASE_MAX;
	}
	ids = malloc((pf.nids > 0 ? pf.nids : 1) * sizeof(*ids));
	runs = malloc((pf.nruns > 0 ? pf.nruns : 1) * sizeof(*runs));
	keys = malloc((pf.nkeys > 0 ? pf.nkeys : 1) * sizeof(*keys));
	keyp = malloc((pf.nkeys > 0 ? pf.nkeys : 1) * sizeof(*keyp));
	picks = calloc(nqueues > 0 ? nqueues : 1, sizeof(*picks));
	settings = calloc(nspecs > 0 ? nspecs : 1, sizeof(*settings));
	if (ids == NULL || runs == NULL || keys == NULL || keyp == NULL
	    || picks == NULL || settings == NULL) {
		/* Only a hint: every call still works without it. */
		free(ids);
		free(runs);
		free(keys);
		free(keyp);
		free(picks);
		free(settings);
		return (CAIRN_OK);
	}
	pf.nids = pf.nruns = pf.nkeys = 0;
	for (const struct engine_op *op = list; op != NULL; op = op->next) {
		reads(op, ids + pf.nids, &r);
		pf.nids += r.nids;
		if (r.run != 0) {
			runs[pf.nruns++] = r.run;
		}
		if (has_record(op, &r)) {
			lifecycle_request_key(keys[pf.nkeys], sizeof(keys[0]),
			    r.record == ENGINE_RECORD_LEASE, op->request_id);
			keyp[pf.nkeys] = keys[pf.nkeys];
			pf.nkeys++;
		}
		if (r.lease != NULL) {
			add_picks(r.lease, picks, &pf.npicks);
		}
		add_settings(r.specs, r.nspecs, settings, &pf.nsettings);
	}
	pf.ids = ids;
	pf.runs = runs;
	pf.keys = keyp;
	pf.picks = picks;
	pf.settings = settings;
	rv = store_prefetch(s, &pf);
	free(ids);
	free(runs);
	free(keys);
	free(keyp);
	free(picks);
	free(settings);
	return (rv);
}
