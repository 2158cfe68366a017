/*
 * store/postgres/listen.c - the backend's watch (store_backend.watch):
 * wakes this server's parked long-polls when another process commits due
 * tasks into the shared PostgreSQL database.
 *
 * A thread of its own holds a second connection that LISTENs on channel
 * cairn_due, which the schema's triggers notify (with the queue as the
 * payload) whenever a commit makes a task PENDING: an enqueue through any
 * cairnd, a retry, an expired lease, or an application's own transaction
 * calling <schema>.enqueue(). Each notification becomes a call of the
 * watch's due callback (the engine's engine_notify_due). Notifications sent by
 * this server's own store connection are skipped: its engine already knows.
 *
 * When the connection drops, the thread reconnects with backoff and then
 * wakes every queue that holds PENDING tasks, since notifications sent
 * meanwhile were lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ops/log.h"
#include "store/postgres/postgres.h"

#define LISTEN_BACKOFF_MIN_MS 100
#define LISTEN_BACKOFF_MAX_MS 5000
#define LISTEN_CATCH_UP_MAX   1000

struct store_watch {
	char *uri;
	char *catch_up_sql;
	const struct store *own;
	void (*due)(void *arg, const char *queue);
	void *arg;
	PGconn *conn;
	int stop_pipe[2]; /* written once by pg_unwatch */
	pthread_t thread;
};

/* stopped sleeps up to ms on the stop pipe (ms < 0: on it and on the
 * connection's socket) and says whether a stop was asked. */
static bool
stopped(struct store_watch *l, int ms)
{
	struct pollfd fds[2] = {
		{ .fd = l->stop_pipe[0], .events = POLLIN },
		{ .fd = l->conn != NULL ? PQsocket(l->conn) : -1,
		    .events = POLLIN },
	};

	if (poll(fds, ms < 0 && l->conn != NULL ? 2 : 1, ms) < 0
	    && errno != EINTR) {
		return (true);
	}
	return ((fds[0].revents & POLLIN) != 0);
}

static void
disconnect(struct store_watch *l, const char *why)
{
	size_t n = strcspn(why, "\n");

	log_warn("postgres LISTEN connection lost: %.*s; reconnecting",
	    (int) n, why);
	PQfinish(l->conn);
	l->conn = NULL;
}

static bool
connect_listen(struct store_watch *l)
{
	PGresult *r;

	l->conn = pg_connect(l->uri, "cairnd-listen");
	if (l->conn == NULL) {
		return (false);
	}
	if (PQstatus(l->conn) != CONNECTION_OK) {
		PQfinish(l->conn);
		l->conn = NULL;
		return (false);
	}
	r = PQexec(l->conn, "LISTEN cairn_due");
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		PQclear(r);
		disconnect(l, PQerrorMessage(l->conn));
		return (false);
	}
	PQclear(r);
	return (true);
}

/*
 * catch_up wakes the queues that hold PENDING tasks, after a reconnection:
 * what was notified while the connection was down is lost. The recursive
 * query walks the lease index from queue to queue (a loose index scan),
 * so it costs one probe per queue, not one per task.
 */
static void
catch_up(struct store_watch *l)
{
	PGresult *r = PQexec(l->conn, l->catch_up_sql);

	if (PQresultStatus(r) == PGRES_TUPLES_OK) {
		for (int i = 0; i < PQntuples(r); i++) {
			l->due(l->arg, PQgetvalue(r, i, 0));
		}
	}
	PQclear(r);
}

static void
deliver(struct store_watch *l)
{
	int own = pg_backend_pid((const struct store_pg *) l->own);
	PGnotify *n;

	while ((n = PQnotifies(l->conn)) != NULL) {
		if (n->be_pid != own) {
			l->due(l->arg, n->extra);
		}
		PQfreemem(n);
	}
}

static void *
listen_main(void *arg)
{
	struct store_watch *l = arg;
	int backoff = 0;
	bool first = true;

	for (;;) {
		if (l->conn == NULL) {
			if (!connect_listen(l)) {
				backoff = backoff == 0 ? LISTEN_BACKOFF_MIN_MS
				    : backoff * 2 > LISTEN_BACKOFF_MAX_MS
				    ? LISTEN_BACKOFF_MAX_MS
				    : backoff * 2;
				if (stopped(l, backoff)) {
					break;
				}
				continue;
			}
			if (!first) {
				log_info("postgres LISTEN connection back");
				catch_up(l);
			}
			first = false;
			backoff = 0;
			deliver(l); /* any that arrived with LISTEN's reply */
		}
		if (stopped(l, -1)) {
			break;
		}
		/* A closed socket reads as an error, or as a status that
		 * went bad (the socket is gone then, and poll would wait on
		 * the stop pipe alone). */
		if (!PQconsumeInput(l->conn)
		    || PQstatus(l->conn) != CONNECTION_OK) {
			disconnect(l, PQerrorMessage(l->conn));
			continue;
		}
		deliver(l);
	}
	PQfinish(l->conn);
	l->conn = NULL;
	return (NULL);
}

static void
free_listen(struct store_watch *l)
{
	if (l->stop_pipe[0] >= 0) {
		close(l->stop_pipe[0]);
		close(l->stop_pipe[1]);
	}
	free(l->catch_up_sql);
	free(l->uri);
	free(l);
}

struct store_watch *
pg_watch(const struct store *own, void (*due)(void *arg, const char *queue),
    void *arg)
{
	const struct store_pg *pg = (const struct store_pg *) own;
	struct store_watch *l;
	const char *q;
	size_t n;

	if ((l = calloc(1, sizeof(*l))) == NULL) {
		goto nomem;
	}
	l->stop_pipe[0] = l->stop_pipe[1] = -1;
	l->own = own;
	l->due = due;
	l->arg = arg;
	/* Set at open and never changed: safe to read from this thread. */
	q = pg->schema_q;
	n = strlen(q) * 4 + 800;
	if ((l->uri = strdup(pg->uri)) == NULL
	    || (l->catch_up_sql = malloc(n)) == NULL) {
		goto nomem;
	}
	/* The workflow queues with runnable runs come as "@queue", and a
	 * "!" wakes the awaits of runs, which may have ended meanwhile. */
	snprintf(l->catch_up_sql, n,
	    "WITH RECURSIVE qs(q) AS ("
	    "SELECT min(queue) FROM %s.tasks WHERE state = 1 "
	    "UNION ALL SELECT (SELECT min(queue) FROM %s.tasks "
	    "WHERE state = 1 AND queue > qs.q) FROM qs WHERE qs.q IS NOT NULL"
	    "), ws(q) AS ("
	    "SELECT min(queue) FROM %s.wf_runs WHERE phase = 1 "
	    "UNION ALL SELECT (SELECT min(queue) FROM %s.wf_runs "
	    "WHERE phase = 1 AND queue > ws.q) FROM ws WHERE ws.q IS NOT NULL"
	    ") (SELECT q FROM qs WHERE q IS NOT NULL LIMIT %d) UNION ALL "
	    "(SELECT '@' || q FROM ws WHERE q IS NOT NULL LIMIT %d) "
	    "UNION ALL SELECT '!'",
	    q, q, q, q, LISTEN_CATCH_UP_MAX, LISTEN_CATCH_UP_MAX);
	if (pipe2(l->stop_pipe, O_CLOEXEC) != 0
	    || pthread_create(&l->thread, NULL, listen_main, l) != 0) {
		log_error("cannot start the postgres LISTEN thread: %s",
		    strerror(errno));
		free_listen(l);
		return (NULL);
	}
	return (l);
nomem:
	log_error("cannot start the postgres LISTEN thread: out of memory");
	if (l != NULL) {
		free_listen(l);
	}
	return (NULL);
}

void
pg_unwatch(struct store_watch *l)
{
	if (l == NULL) {
		return;
	}
	if (write(l->stop_pipe[1], "x", 1) != 1) {
		log_error("pg_unwatch: %s", strerror(errno));
	}
	pthread_join(l->thread, NULL);
	free_listen(l);
}
