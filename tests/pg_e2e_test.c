/*
 * pg_e2e_test.c - end to end on PostgreSQL: two real cairnd processes on
 * one database, driven through libcairn.
 *
 *  - many workers leasing from both servers complete every task exactly
 *    once, and no task is ever held by two workers at once;
 *  - a lease parked on server A wakes promptly when a task is enqueued
 *    through server B, or by an application's transaction in SQL;
 *  - the database crashes (pg_ctl stop -m immediate) and restarts under
 *    load: meanwhile calls fail with UNAVAILABLE, never a wrong answer;
 *    the servers reconnect by themselves; every acknowledged enqueue and
 *    completion is still there afterwards.
 *
 * Environment (tests/CMakeLists.postgres.cmake sets it): CAIRN_TEST_STORE
 * (the database), CAIRND, and CAIRN_PG_SCRIPT / CAIRN_PG_CLUSTER to crash
 * and restart the cluster. Each test uses a schema of its own.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "cairn.h"
#include "harness.h"

#define NTASKS 1000
#define MAXID  4096

struct srv {
	pid_t pid;
	char url[64];
};

static char schema[64];
static struct srv servers[2]; /* each test's two servers */
static bool db_down;          /* the crash test stopped the database */

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || v[0] == 0) {
		fail_msg("%s is not set (run through ctest)", name);
	}
	return (v);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static cairn_client *
client(const struct srv *s)
{
	cairn_client *c = NULL;
	char err[256];

	if (cairn_client_open(&c, s->url, NULL, err, sizeof(err)) != 0) {
		fail_msg("connect %s: %s", s->url, err);
	}
	return (c);
}

/* start runs cairnd on the test database and schema and waits until it
 * answers a ping. */
static void
start(struct srv *s)
{
	const char *bin = env("CAIRND");
	cairn_client *c;

	snprintf(s->url, sizeof(s->url), "tcp://127.0.0.1:%d", free_port());
	if ((s->pid = fork()) == 0) {
		execl(bin, bin, "--listen", s->url, "--store",
		    env("CAIRN_TEST_STORE"), "--pg-schema", schema,
		    "--log-level", "error", (char *) NULL);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		if (cairn_client_open(&c, s->url, NULL, NULL, 0) == CAIRN_OK) {
			int rv = cairn_ping(c, NULL, NULL);
			cairn_client_close(c);
			if (rv == CAIRN_OK) {
				return;
			}
		}
		sleep_ms(20);
	}
	fail_msg("cairnd did not answer on %s", s->url);
}

static void
stop(struct srv *s)
{
	int st;

	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, &st, 0);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		s->pid = 0;
	}
}

static int
setup(void **state)
{
	static int n;

	snprintf(schema, sizeof(schema), "e2e_%d_%d", (int) getpid(), ++n);
	memset(servers, 0, sizeof(servers));
	*state = NULL;
	return (0);
}

/* teardown leaves no server behind and the database up, even after a
 * failed test. */
static int
teardown(void **state)
{
	char line[1024];

	for (int i = 0; i < 2; i++) {
		if (servers[i].pid > 0) {
			kill(servers[i].pid, SIGKILL);
			waitpid(servers[i].pid, NULL, 0);
			servers[i].pid = 0;
		}
	}
	if (db_down) {
		snprintf(line, sizeof(line), "bash '%s' restart '%s'",
		    env("CAIRN_PG_SCRIPT"), env("CAIRN_PG_CLUSTER"));
		db_down = system(line) != 0;
	}
	return (0);
}

static uint64_t
enqueue(cairn_client *c, const char *queue, const char *key, int *status)
{
	cairn_task_spec sp = { .queue = queue,
		.payload = "x",
		.payload_len = 1,
		.idempotency_key = key };
	cairn_enqueue_result r = { 0 };

	*status = cairn_enqueue(c, &sp, 1, &r);
	return (*status == CAIRN_OK ? r.id : 0);
}

/* ---- every task once, from two servers ---- */

struct board {
	atomic_uchar held[MAXID];
	atomic_uint done[MAXID];
	atomic_uint completed;
	atomic_uint violations;
	atomic_uint errors;
	unsigned want;
};

struct worker {
	struct board *b;
	const struct srv *s;
	const char *queue;
	pthread_t th;
};

static void *
work(void *arg)
{
	struct worker *w = arg;
	struct board *b = w->b;
	cairn_client *c = NULL;
	cairn_lease_options o = { .max_tasks = 8, .wait_ms = 300 };
	int64_t until = now_ms() + 120000;

	if (cairn_client_open(&c, w->s->url, NULL, NULL, 0) != CAIRN_OK) {
		atomic_fetch_add(&b->errors, 1);
		return (NULL);
	}
	while (atomic_load(&b->completed) < b->want && now_ms() < until) {
		cairn_task **t = NULL;
		size_t n = 0;
		if (cairn_lease(c, &w->queue, 1, &o, &t, &n) != CAIRN_OK) {
			atomic_fetch_add(&b->errors, 1);
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			uint64_t id = t[i]->id;
			unsigned char free_ = 0;
			if (id >= MAXID || atomic_load(&b->done[id]) != 0
			    || !atomic_compare_exchange_strong(
			        &b->held[id], &free_, 1)) {
				atomic_fetch_add(&b->violations, 1);
				continue;
			}
			if (cairn_complete(c, id, t[i]->lease_token, "ok", 2)
			    != CAIRN_OK) {
				atomic_fetch_add(&b->errors, 1);
			} else if (atomic_fetch_add(&b->done[id], 1) == 0) {
				atomic_fetch_add(&b->completed, 1);
			}
			atomic_store(&b->held[id], 0);
		}
		cairn_tasks_free(t, n);
	}
	cairn_client_close(c);
	return (NULL);
}

static void
two_servers_complete_every_task_once(void **state)
{
	static struct board b;
	struct srv *s = servers;
	struct worker w[6];
	cairn_client *c[2];
	int64_t t0;

	memset(&b, 0, sizeof(b));
	b.want = NTASKS;
	start(&s[0]);
	start(&s[1]);
	c[0] = client(&s[0]);
	c[1] = client(&s[1]);
	for (int i = 0; i < NTASKS; i += 50) {
		cairn_task_spec sp[50];
		cairn_enqueue_result r[50];
		for (int j = 0; j < 50; j++) {
			sp[j] = (cairn_task_spec) { .queue = "jobs",
				.payload = "p",
				.payload_len = 1 };
		}
		assert_int_equal(
		    cairn_enqueue(c[(i / 50) % 2], sp, 50, r), CAIRN_OK);
		assert_true(r[49].id < MAXID);
	}
	t0 = now_ms();
	for (int i = 0; i < 6; i++) {
		w[i] = (struct worker) {
			.b = &b, .s = &s[i % 2], .queue = "jobs"
		};
		pthread_create(&w[i].th, NULL, work, &w[i]);
	}
	for (int i = 0; i < 6; i++) {
		pthread_join(w[i].th, NULL);
	}
	print_message("%d tasks leased and completed through 2 servers by 6 "
	              "workers in %lld ms\n",
	    NTASKS, (long long) (now_ms() - t0));
	assert_int_equal(atomic_load(&b.violations), 0);
	assert_int_equal(atomic_load(&b.errors), 0);
	assert_int_equal(atomic_load(&b.completed), NTASKS);
	for (int id = 0; id < MAXID; id++) {
		assert_true(atomic_load(&b.done[id]) <= 1);
	}
	/* The servers agree: all succeeded, each on its first attempt. */
	cairn_queue_stats *st = NULL;
	size_t n = 0;
	assert_int_equal(cairn_stats(c[1], "jobs", &st, &n), CAIRN_OK);
	assert_int_equal(n, 1);
	assert_int_equal(st[0].succeeded, NTASKS);
	assert_int_equal(st[0].pending + st[0].active, 0);
	cairn_stats_free(st, n);
	cairn_client_close(c[0]);
	cairn_client_close(c[1]);
	stop(&s[0]);
	stop(&s[1]);
}

/* ---- a parked lease wakes on another server's commit ---- */

struct parked {
	const struct srv *s;
	size_t n;
	int status;
	int64_t ms;
	pthread_t th;
};

static void *
park(void *arg)
{
	struct parked *p = arg;
	cairn_client *c = NULL;
	cairn_lease_options o = { .max_tasks = 1, .wait_ms = 10000 };
	const char *q = "wake";
	cairn_task **t = NULL;
	int64_t t0 = now_ms();

	p->status = cairn_client_open(&c, p->s->url, NULL, NULL, 0);
	if (p->status == CAIRN_OK) {
		p->status = cairn_lease(c, &q, 1, &o, &t, &p->n);
		cairn_tasks_free(t, p->n);
		cairn_client_close(c);
	}
	p->ms = now_ms() - t0;
	return (NULL);
}

static void
parked_lease_wakes_across_servers(void **state)
{
	struct srv *s = servers;
	struct parked p = { .s = &s[0] };
	cairn_client *b;
	int st;

	start(&s[0]);
	start(&s[1]);
	b = client(&s[1]);

	/* Enqueued through the other server. */
	pthread_create(&p.th, NULL, park, &p);
	sleep_ms(500);
	enqueue(b, "wake", NULL, &st);
	assert_int_equal(st, CAIRN_OK);
	pthread_join(p.th, NULL);
	assert_int_equal(p.status, CAIRN_OK);
	assert_int_equal(p.n, 1);
	print_message(
	    "woke after %lld ms (500 ms of them parked)\n", (long long) p.ms);
	assert_true(p.ms < 500 + 1500);

	/* Enqueued by an application's own transaction, in SQL. */
	PGconn *app = PQconnectdb(env("CAIRN_TEST_STORE"));
	char sql[160];
	assert_int_equal(PQstatus(app), CONNECTION_OK);
	pthread_create(&p.th, NULL, park, &p);
	sleep_ms(500);
	snprintf(sql, sizeof(sql),
	    "BEGIN; SELECT \"%s\".enqueue('wake', 'from sql'); COMMIT",
	    schema);
	PGresult *r = PQexec(app, sql);
	assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	pthread_join(p.th, NULL);
	assert_int_equal(p.n, 1);
	assert_true(p.ms < 500 + 1500);
	PQfinish(app);

	cairn_client_close(b);
	stop(&s[0]);
	stop(&s[1]);
}

/* ---- the database crashes under load ---- */

struct load {
	const struct srv *s;
	int id;
	atomic_bool *quit;
	uint64_t acked[20000];
	size_t nacked;
	uint64_t completed[20000];
	size_t ncompleted;
	unsigned unexpected, refused;
	pthread_t th;
};

/* allowed: what a call may answer while the database is away. */
static bool
allowed(int st)
{
	return (st == CAIRN_UNAVAILABLE || st == CAIRN_DEADLINE_EXCEEDED);
}

/* unexpected counts an answer that no fault explains, and prints the
 * first of each load. */
static void
unexpected(struct load *l, const char *call, int st, cairn_client *c)
{
	if (l->unexpected++ == 0) {
		print_message("load %d: unexpected %s: %s: %s\n", l->id, call,
		    cairn_strerror(st), cairn_client_errmsg(c));
	}
}

static void *
produce(void *arg)
{
	struct load *l = arg;
	cairn_client *c = NULL;
	char key[32];
	int st;

	if (cairn_client_open(&c, l->s->url, NULL, NULL, 0) != CAIRN_OK) {
		l->unexpected++;
		return (NULL);
	}
	for (int i = 0; !atomic_load(l->quit) && l->nacked < 20000;) {
		snprintf(key, sizeof(key), "p%d-%d", l->id, i);
		uint64_t id = enqueue(c, "crash", key, &st);
		if (st == CAIRN_OK) {
			l->acked[l->nacked++] = id;
			i++; /* a refused key is sent again */
		} else if (allowed(st)) {
			l->refused++;
			sleep_ms(20);
		} else {
			unexpected(l, "enqueue", st, c);
		}
	}
	cairn_client_close(c);
	return (NULL);
}

static void *
consume(void *arg)
{
	struct load *l = arg;
	cairn_client *c = NULL;
	cairn_lease_options o = { .max_tasks = 4, .wait_ms = 200 };
	const char *q = "crash";

	if (cairn_client_open(&c, l->s->url, NULL, NULL, 0) != CAIRN_OK) {
		l->unexpected++;
		return (NULL);
	}
	while (!atomic_load(l->quit) && l->ncompleted < 20000 - 4) {
		cairn_task **t = NULL;
		size_t n = 0;
		int st = cairn_lease(c, &q, 1, &o, &t, &n);
		if (st != CAIRN_OK) {
			if (allowed(st)) {
				l->refused++;
			} else {
				unexpected(l, "lease", st, c);
			}
			sleep_ms(20);
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			/* Retried until it is known: OK, or refused because
			 * the lease is gone (never while it is valid). The
			 * database's recovery after the crash may take a while
			 * on a loaded machine: a bound in time, not in tries.
			 */
			int64_t until = now_ms() + 60000;
			while (now_ms() < until) {
				st = cairn_complete(
				    c, t[i]->id, t[i]->lease_token, NULL, 0);
				if (!allowed(st)) {
					break;
				}
				l->refused++;
				sleep_ms(20);
			}
			if (st == CAIRN_OK) {
				l->completed[l->ncompleted++] = t[i]->id;
			} else {
				unexpected(l, "complete", st, c);
			}
		}
		cairn_tasks_free(t, n);
	}
	cairn_client_close(c);
	return (NULL);
}

static void
cluster(const char *cmd)
{
	char line[1024];

	snprintf(line, sizeof(line), "bash '%s' %s '%s' >/dev/null",
	    env("CAIRN_PG_SCRIPT"), cmd, env("CAIRN_PG_CLUSTER"));
	assert_int_equal(system(line), 0);
}

static void
database_crash_under_load(void **state)
{
	static struct load l[4];
	static atomic_bool quit;
	struct srv *s = servers;
	cairn_client *c;
	unsigned refused = 0;
	int st;

	start(&s[0]);
	start(&s[1]);
	atomic_store(&quit, false);
	for (int i = 0; i < 4; i++) {
		memset(&l[i], 0, sizeof(l[i]));
		l[i].s = &s[i % 2];
		l[i].id = i;
		l[i].quit = &quit;
		pthread_create(
		    &l[i].th, NULL, i < 2 ? produce : consume, &l[i]);
	}
	sleep_ms(1500);
	db_down = true;
	cluster("kill"); /* pg_ctl stop -m immediate: a crash */
	sleep_ms(1500);
	/* Meanwhile: a clear refusal, not an answer. */
	c = client(&s[0]);
	enqueue(c, "probe", NULL, &st);
	assert_int_equal(st, CAIRN_UNAVAILABLE);
	print_message("while down: %s\n", cairn_client_errmsg(c));
	cluster("restart");
	db_down = false;
	/* Both servers reconnect by themselves. */
	for (int i = 0; i < 2; i++) {
		cairn_client *ci = client(&s[i]);
		int64_t until = now_ms() + 60000;
		do {
			sleep_ms(100);
			enqueue(ci, "probe", NULL, &st);
		} while (st != CAIRN_OK && now_ms() < until);
		assert_int_equal(st, CAIRN_OK);
		cairn_client_close(ci);
	}
	/* The LISTEN connections are back too: a parked lease on one
	 * server wakes on an enqueue through the other. */
	struct parked p = { .s = &s[0] };
	pthread_create(&p.th, NULL, park, &p);
	sleep_ms(500);
	cairn_client *b = client(&s[1]);
	enqueue(b, "wake", NULL, &st);
	assert_int_equal(st, CAIRN_OK);
	cairn_client_close(b);
	pthread_join(p.th, NULL);
	assert_int_equal(p.n, 1);
	assert_true(p.ms < 500 + 1500);

	sleep_ms(1000);
	atomic_store(&quit, true);
	for (int i = 0; i < 4; i++) {
		pthread_join(l[i].th, NULL);
		assert_int_equal(l[i].unexpected, 0);
		refused += l[i].refused;
	}
	assert_true(refused > 0); /* the load did meet the crash */

	/* Everything acknowledged is there. */
	size_t acked = 0, completed = 0;
	for (int i = 0; i < 4; i++) {
		for (size_t j = 0; j < l[i].nacked; j++, acked++) {
			cairn_task *t = NULL;
			assert_int_equal(
			    cairn_get(c, l[i].acked[j], &t), CAIRN_OK);
			cairn_task_free(t);
		}
		for (size_t j = 0; j < l[i].ncompleted; j++, completed++) {
			cairn_task *t = NULL;
			assert_int_equal(
			    cairn_get(c, l[i].completed[j], &t), CAIRN_OK);
			assert_int_equal(t->state, CAIRN_SUCCEEDED);
			cairn_task_free(t);
		}
	}
	print_message("%zu enqueues and %zu completions acknowledged, all "
	              "there after the crash; %u calls refused meanwhile\n",
	    acked, completed, refused);
	assert_true(acked > 0 && completed > 0);
	cairn_client_close(c);
	stop(&s[0]);
	stop(&s[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    two_servers_complete_every_task_once, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    parked_lease_wakes_across_servers, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    database_crash_under_load, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
