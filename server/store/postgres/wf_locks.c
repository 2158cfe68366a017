/*
 * store/postgres/wf_locks.c - the runs of a transaction locked in one
 * order.
 *
 * Two servers that work on the same runs lock them as their ops come: a
 * batch that completes an activity of run 7 and then one of run 9 locks
 * 7 then 9, while the other server's batch, with the same kinds of ops
 * in the other order, locks 9 then 7, and PostgreSQL aborts one of them
 * as a deadlock after deadlock_timeout (a second by default), which the
 * engine then retries. So prefetch locks, before any op applies, every
 * run the transaction is about to change, sorted by id: those its ops
 * name, those of the tasks it loads (an activity's run), and their
 * parents. Later loads of those runs wait for nothing. Reads that change
 * nothing take no lock at all (store_wf_ops.get).
 *
 * The statement is pipelined with the rest of prefetch and its answer
 * dropped; it costs no round trip. A server that has never seen a run
 * does not send it: a store without workflows pays nothing.
 */
#include <stdlib.h>

#include "store/postgres/postgres.h"

int
pgw_lock_runs(struct store_pg *q, const struct store_prefetch *pf)
{
	struct pg_params p = { 0 };
	char *runs, *tasks;
	int rv;

	if (pf->nruns > 0) {
		q->runs_seen = true;
	}
	if (!q->runs_seen || pf->nruns + pf->nids == 0) {
		return (CAIRN_OK);
	}
	runs = pg_ids_literal(pf->runs, pf->nruns);
	tasks = pg_ids_literal(pf->ids, pf->nids);
	if (runs == NULL || tasks == NULL) {
		free(runs);
		free(tasks);
		return (CAIRN_OK); /* only a hint: loads lock one by one */
	}
	pg_p_text(&p, runs);
	pg_p_text(&p, tasks);
	rv = pgw_defer(q, PGW_LOCK_RUNS, &p, "lock runs");
	free(runs);
	free(tasks);
	return (rv);
}

int
pgw_check_runs(struct store_pg *q)
{
	PGresult *r = PQexec(q->conn, "SELECT EXISTS (SELECT 1 FROM wf_runs)");

	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		int rv = pg_fail(q, r, "looking for workflow runs");
		PQclear(r);
		return (rv);
	}
	q->runs_seen = PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	return (CAIRN_OK);
}
