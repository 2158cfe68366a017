/*
 * store/postgres/listen.h - wakes this server's parked long-polls when another
 * process commits due tasks into the shared PostgreSQL database.
 *
 * A thread of its own holds a second connection that LISTENs on channel
 * cairn_due, which the schema's triggers notify (with the queue as the
 * payload) whenever a commit makes a task PENDING: an enqueue through any
 * cairnd, a retry, an expired lease, or an application's own transaction
 * calling <schema>.enqueue(). Each notification becomes an
 * engine_notify_due() call. Notifications sent by this server's own store
 * connection are skipped: its engine already knows.
 *
 * When the connection drops, the thread reconnects with backoff and then
 * wakes every queue that holds PENDING tasks, since notifications sent
 * meanwhile were lost.
 */
#ifndef CAIRN_PG_LISTEN_H
#define CAIRN_PG_LISTEN_H

#include "engine/engine.h"
#include "store/store.h"

struct pg_listen;

#ifdef CAIRN_WITH_POSTGRES
/* pg_listen_start starts the listener for store `own` (opened from uri,
 * tables in schema; NULL: "cairn") and engine e. Returns NULL when own is
 * not a PostgreSQL store, or (logged) when the thread cannot start. The
 * caller stops it with pg_listen_stop before freeing the engine. */
struct pg_listen *pg_listen_start(const char *uri, const char *schema,
    const struct store *own, struct engine *e);

/* pg_listen_stop stops the thread, closes its connection and frees l;
 * NULL is a no-op. */
void pg_listen_stop(struct pg_listen *l);
#else
/* Built without PostgreSQL: nothing to listen to. */
static inline struct pg_listen *
pg_listen_start(const char *uri, const char *schema, const struct store *own,
    struct engine *e)
{
	(void) uri;
	(void) schema;
	(void) own;
	(void) e;
	return (NULL);
}

static inline void
pg_listen_stop(struct pg_listen *l)
{
	(void) l;
}
#endif

#endif /* CAIRN_PG_LISTEN_H */
