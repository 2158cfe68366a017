/*
 * store/postgres/listen.c - the LISTEN thread (see store/postgres/listen.h).
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
#include "store/postgres/listen.h"
#include "store/postgres/postgres.h"

#define LISTEN_BACKOFF_MIN_MS 100
#define LISTEN_BACKOFF_MAX_MS 5000
#define LISTEN_CATCH_UP_MAX   1000

struct pg_listen {
	char *uri;
	char *catch_up_sql;
	const struct store *own;
	struct engine *engine;
	PGconn *conn;
	int stop_pipe[2]; /* written once by pg_listen_stop */
	pthread_t thread;
};

/* stopped sleeps up to ms on the stop pipe (ms < 0: on it and on the
 * connection's socket) and says whether a stop was asked. */
static bool
stopped(struct pg_listen *l, int ms)
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
disconnect(struct pg_listen *l, const char *why)
{
	size_t n = strcspn(why, "\n");

	log_warn("postgres LISTEN connection lost: %.*s; reconnecting",
	    (int) n, why);
	PQfinish(l->conn);
	l->conn = NULL;
}

static bool
connect_listen(struct pg_listen *l)
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
catch_up(struct pg_listen *l)
{
	PGresult *r = PQexec(l->conn, l->catch_up_sql);

	if (PQresultStatus(r) == PGRES_TUPLES_OK) {
		for (int i = 0; i < PQntuples(r); i++) {
			engine_notify_due(l->engine, PQgetvalue(r, i, 0));
		}
	}
	PQclear(r);
}

static void
deliver(struct pg_listen *l)
{
	int own = store_postgres_backend_pid(l->own);
	PGnotify *n;

	while ((n = PQnotifies(l->conn)) != NULL) {
		if (n->be_pid != own) {
			engine_notify_due(l->engine, n->extra);
		}
		PQfreemem(n);
	}
}

static void *
listen_main(void *arg)
{
	struct pg_listen *l = arg;
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
free_listen(struct pg_listen *l)
{
	if (l->stop_pipe[0] >= 0) {
		close(l->stop_pipe[0]);
		close(l->stop_pipe[1]);
	}
	free(l->catch_up_sql);
	free(l->uri);
	free(l);
}

struct pg_listen *
pg_listen_start(const char *uri, const char *schema, const struct store *own,
    struct engine *e)
{
	struct pg_listen *l;
	char *q = NULL;
	size_t n;

	if (store_postgres_backend_pid(own) == 0) {
		return (NULL); /* not a PostgreSQL store */
	}
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		goto nomem;
	}
	l->stop_pipe[0] = l->stop_pipe[1] = -1;
	l->own = own;
	l->engine = e;
	q = pg_quote_ident(schema != NULL ? schema : "cairn");
	n = q != NULL ? strlen(q) * 2 + 400 : 0;
	if (q == NULL || (l->uri = strdup(uri)) == NULL
	    || (l->catch_up_sql = malloc(n)) == NULL) {
		goto nomem;
	}
	snprintf(l->catch_up_sql, n,
	    "WITH RECURSIVE qs(q) AS ("
	    "SELECT min(queue) FROM %s.tasks WHERE state = 1 "
	    "UNION ALL SELECT (SELECT min(queue) FROM %s.tasks "
	    "WHERE state = 1 AND queue > qs.q) FROM qs WHERE qs.q IS NOT NULL"
	    ") SELECT q FROM qs WHERE q IS NOT NULL LIMIT %d",
	    q, q, LISTEN_CATCH_UP_MAX);
	free(q);
	q = NULL;
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
	free(q);
	if (l != NULL) {
		free_listen(l);
	}
	return (NULL);
}

void
pg_listen_stop(struct pg_listen *l)
{
	if (l == NULL) {
		return;
	}
	if (write(l->stop_pipe[1], "x", 1) != 1) {
		log_error("pg_listen_stop: %s", strerror(errno));
	}
	pthread_join(l->thread, NULL);
	free_listen(l);
}
