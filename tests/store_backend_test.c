/*
 * store_backend_test.c - the class-level side of the storage interface
 * (store/store.h): backends chosen by scheme, tables of another version or
 * with a required member missing refused before any of their functions
 * is called, and the backup and watch wrappers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/store.h"

/* A working backend to copy and spoil: SQLite's, wrapped so that the
 * test sees whether open was called. */
static struct store_backend good;
static struct store_ops good_ops;
static int opens;
static char uri[160];

static int
counting_open(const char *u, const struct store_options *o, struct store **out,
    char *err, size_t errlen)
{
	const struct store_backend *real = store_backend_of("sqlite:");

	opens++;
	return (real->open(u, o, out, err, errlen));
}

static void
unwatch_only(struct store_watch *w)
{
	(void) w;
	fail(); /* a backend without watch is never asked to unwatch */
}

static void
remove_db(void)
{
	char p[200];

	unlink(uri + strlen("sqlite:"));
	snprintf(p, sizeof(p), "%s-wal", uri + strlen("sqlite:"));
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", uri + strlen("sqlite:"));
	unlink(p);
}

static int
setup(void **state)
{
	const struct store_backend *real = store_backend_of("sqlite:x");

	(void) state;
	assert_non_null(real);
	good = *real;
	good_ops = *real->ops;
	good.ops = &good_ops;
	good.open = counting_open;
	opens = 0;
	snprintf(uri, sizeof(uri), "sqlite:%s/cairn-backend-test-%d.db",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", getpid());
	return (0);
}

static int
teardown(void **state)
{
	(void) state;
	remove_db();
	return (0);
}

/* open_with opens uri through b and returns the status (closing what it
 * opened); err gets the message. */
static int
open_with(const struct store_backend *b, char *err, size_t errlen)
{
	struct store *s = NULL;
	int rv = store_open_with(b, uri, NULL, &s, err, errlen);

	if (rv == CAIRN_OK) {
		assert_ptr_equal(s->backend, b);
		store_close(s);
	}
	return (rv);
}

static void
a_sound_backend_opens(void **state)
{
	char err[256];

	(void) state;
	assert_int_equal(open_with(&good, err, sizeof(err)), CAIRN_OK);
	assert_int_equal(opens, 1);
}

static void
another_version_is_refused_unopened(void **state)
{
	struct store_backend b = good;
	struct store_ops o = good_ops;
	char err[256];

	(void) state;
	b.version = STORE_OPS_VERSION + 1;
	assert_int_equal(open_with(&b, err, sizeof(err)), CAIRN_INTERNAL);
	assert_non_null(strstr(err, "store_backend of another version"));

	b = good;
	o.version = 1; /* the tables before the class-level split */
	b.ops = &o;
	assert_int_equal(open_with(&b, err, sizeof(err)), CAIRN_INTERNAL);
	assert_non_null(strstr(err, "store_ops of another version"));
	assert_int_equal(opens, 0);
}

static void
a_missing_member_is_refused_unopened(void **state)
{
	struct store_backend b = good;
	struct store_ops o = good_ops;
	char err[256];

	(void) state;
	o.insert = NULL;
	b.ops = &o;
	assert_int_equal(open_with(&b, err, sizeof(err)), CAIRN_INTERNAL);
	assert_non_null(strstr(err, "store_ops lacks a required member"));

	o = good_ops;
	o.request_put = NULL; /* half a request log */
	assert_int_equal(open_with(&b, err, sizeof(err)), CAIRN_INTERNAL);

	b = good;
	b.watch = NULL;
	b.unwatch = unwatch_only;
	assert_int_equal(open_with(&b, err, sizeof(err)), CAIRN_INTERNAL);
	assert_non_null(strstr(err, "store_backend lacks a required member"));
	assert_int_equal(opens, 0);

	/* The members that may be NULL may be. */
	o = good_ops;
	o.request_get = NULL;
	o.request_put = NULL;
	o.request_prune = NULL;
	o.prefetch = NULL;
	o.flush = NULL;
	o.commit_wakeup = NULL;
	b = good;
	b.ops = &o;
	b.backup = NULL;
	assert_int_equal(open_with(&b, err, sizeof(err)), CAIRN_OK);
	assert_int_equal(opens, 1);
}

static void
schemes_choose_the_backend(void **state)
{
	struct store *s;
	char err[256];

	(void) state;
	assert_int_equal(store_open(uri, NULL, &s, err, sizeof(err)), 0);
	assert_string_equal(store_name(s), "sqlite");
	/* SQLite has nothing to watch: only this process writes. */
	assert_null(store_watch(s, NULL, NULL));
	store_unwatch(s, NULL);
	store_close(s);
	assert_true(store_can_backup(uri));
	assert_null(store_backend_of("nosuch:x"));
	assert_false(store_can_backup("nosuch:x"));
	assert_int_equal(store_open("nosuch:x", NULL, &s, err, sizeof(err)),
	    CAIRN_INVALID_ARGUMENT);
	assert_int_equal(store_backup("nosuch:x", "/nonexistent", NULL, NULL,
	                     NULL, err, sizeof(err)),
	    CAIRN_UNIMPLEMENTED);
#ifdef CAIRN_WITH_POSTGRES
	assert_string_equal(
	    store_backend_of("postgresql://h/db")->name, "postgres");
	assert_false(store_can_backup("postgres://h/db"));
#endif
}

/* A SQLite file of schema 3 (before per-queue settings), with a task in
 * it, is brought to the current schema by the next open: the task stays,
 * and its queue has no settings until it is given some. */
static void
sqlite_schema_3_migrates_to_queue_settings(void **state)
{
	struct task_spec spec = { .queue = "old",
		.payload = (const uint8_t *) "x",
		.payload_len = 1,
		.max_attempts = 1,
		.run_at_ms = 1 };
	struct queue_settings q = { .queue = "old", .paused = true }, got;
	struct store *s;
	char err[256];
	sqlite3 *db;
	uint64_t id;
	bool created;

	(void) state;
	assert_int_equal(store_open(uri, NULL, &s, err, sizeof(err)), 0);
	assert_int_equal(store_begin(s), CAIRN_OK);
	assert_int_equal(store_insert(s, &spec, 1, &id, &created), CAIRN_OK);
	assert_int_equal(store_commit(s), CAIRN_OK);
	store_close(s);
	assert_int_equal(
	    sqlite3_open(uri + strlen("sqlite:"), &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	                     "DROP TABLE queues; DROP TABLE schedules; "
	                     "PRAGMA user_version = 3",
	                     NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);

	assert_int_equal(store_open(uri, NULL, &s, err, sizeof(err)), 0);
	assert_int_equal(store_begin(s), CAIRN_OK);
	assert_int_equal(
	    store_queue_get(s, "old", false, &got), CAIRN_NOT_FOUND);
	assert_int_equal(store_queue_put(s, &q), CAIRN_OK);
	assert_int_equal(store_queue_get(s, "old", true, &got), CAIRN_OK);
	assert_true(got.paused);
	struct task *t;
	assert_int_equal(store_get(s, id, &t), CAIRN_OK);
	assert_string_equal(t->queue, "old");
	task_free(t);
	assert_int_equal(store_commit(s), CAIRN_OK);
	store_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    a_sound_backend_opens, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    another_version_is_refused_unopened, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    a_missing_member_is_refused_unopened, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    schemes_choose_the_backend, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    sqlite_schema_3_migrates_to_queue_settings, setup,
		    teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
