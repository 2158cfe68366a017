/*
 * engine/guard.c - what keeps the engine safe when its surroundings
 * misbehave: a wall clock that steps back, and a store that had an I/O
 * error (see docs/RELIABILITY.md).
 */
#include "engine/internal.h"
#include "ops/log.h"

void
engine_clock_guard_init(struct engine_clock_guard *g)
{
	pthread_mutex_init(&g->mu, NULL);
	g->last = INT64_MIN;
	g->skew = 0;
}

void
engine_clock_guard_fini(struct engine_clock_guard *g)
{
	pthread_mutex_destroy(&g->mu);
}

/*
 * Engine time is the wall clock plus a skew that only grows. When the wall
 * clock steps back, the skew absorbs the step: engine time neither goes
 * back nor stops, it goes on at the wall clock's pace from where it was.
 * So a lease keeps its real length across the step (a stopped clock would
 * keep a dead worker's task for as long as the step), and a lease whose
 * deadline has passed can never become valid again. A step forward is
 * taken as it comes: it ends leases early, as a pause of the server would,
 * and the fencing token still lets only the newest holder act.
 */
int64_t
engine_clock_guard(struct engine_clock_guard *g, int64_t wall)
{
	int64_t t, step = 0;

	pthread_mutex_lock(&g->mu);
	t = wall + g->skew;
	if (t < g->last) {
		step = g->last - t;
		g->skew += step;
		t = g->last;
	}
	g->last = t;
	pthread_mutex_unlock(&g->mu);
	if (step >= 1000) {
		log_warn("the system clock went back by %lld ms; cairnd's "
		         "time keeps going from where it was (now %lld ms "
		         "ahead of the system clock)",
		    (long long) step, (long long) (g->skew));
	}
	return (t);
}

/*
 * engine_commit_is_fatal says whether a transaction that ended with rv
 * left the store unsafe to commit on. After a failed fsync the kernel may
 * have dropped the dirty pages and marked them clean, so a later fsync can
 * succeed without the data: the only safe course is to stop, and let the
 * restart recover from what is really on disk. The backend knows which of
 * its errors are like that and marks its handle (store.io_failed): the
 * SQLite backend on any I/O error. A full disk, a busy database or a lost
 * connection to PostgreSQL changed nothing that a restart would fix, and
 * is answered "outcome unknown" without stopping.
 */
bool
engine_commit_is_fatal(const struct store *s, int rv)
{
	(void) rv;
	return (s->io_failed);
}
