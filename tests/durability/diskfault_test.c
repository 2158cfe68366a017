/*
 * diskfault_test.c - a disk that fails under cairnd-faultfs. A failed
 * fsync or write makes the server answer "the outcome is unknown" and stop
 * (it never commits again on that handle), and after the restart every
 * acknowledged change is there. A full disk is RESOURCE_EXHAUSTED, not a
 * crash, and the server works again once there is room: on a small tmpfs
 * where mounting one is allowed, and always through faultfs's quota.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "dur_util.h"

struct fx {
	struct dsrv srv;
	cairn_client *c;
	char mnt[160];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (dsrv_init(&f->srv, "CAIRND_FAULTFS", "tcp") != 0) {
		fail_msg("cannot prepare cairnd-faultfs");
	}
	*state = f;
	return (0);
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	cairn_client_close(f->c);
	dsrv_kill(&f->srv, SIGKILL);
	if (f->mnt[0] != 0) {
		umount2(f->mnt, MNT_DETACH);
	}
	dsrv_cleanup(&f->srv);
	free(f);
	return (0);
}

static void
start(struct fx *f)
{
	cairn_client_options o = { .timeout_ms = 5000, .lazy_connect = true };

	assert_int_equal(dsrv_start(&f->srv, NULL), 0);
	if (f->c == NULL) {
		assert_int_equal(
		    cairn_client_open(&f->c, f->srv.url, &o, NULL, 0),
		    CAIRN_OK);
	}
}

static int
enqueue(struct fx *f, size_t payload, uint64_t *id)
{
	static uint8_t buf[256 * 1024];
	cairn_task_spec spec
	    = { .queue = "q", .payload = buf, .payload_len = payload };
	cairn_enqueue_result r;
	int rv = cairn_enqueue(f->c, &spec, 1, &r);

	if (rv == CAIRN_OK && id != NULL) {
		*id = r.id;
	}
	return (rv);
}

/* all_there checks that every id in ids is still a task. */
static void
all_there(struct fx *f, const uint64_t *ids, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		cairn_task *t;
		assert_int_equal(cairn_get(f->c, ids[i], &t), CAIRN_OK);
		cairn_task_free(t);
	}
}

struct hammer {
	struct fx *f;
	atomic_bool stop;
	int codes[4096];
	size_t n;
};

static void *
hammer(void *arg)
{
	struct hammer *h = arg;

	while (!atomic_load(&h->stop) && h->n < 4096) {
		h->codes[h->n++] = enqueue(h->f, 16, NULL);
	}
	return (NULL);
}

/* io_error_stops_the_server injects fault (a control line) under load:
 * the server must answer "outcome unknown", never OK again, exit 1, and
 * keep every acknowledged change. */
static void
io_error_stops_the_server(struct fx *f, const char *fault)
{
	uint64_t ids[50];
	struct hammer h = { .f = f };
	pthread_t t;

	start(f);
	for (size_t i = 0; i < 50; i++) {
		assert_int_equal(enqueue(f, 100, &ids[i]), CAIRN_OK);
	}
	pthread_create(&t, NULL, hammer, &h);
	sleep_ms(200);
	assert_int_equal(dsrv_ctl(&f->srv, fault), 0);
	int code = dsrv_wait_exit(&f->srv, 10000);
	atomic_store(&h.stop, true);
	pthread_join(t, NULL);
	assert_int_equal(code, 1); /* fail-stop: a supervisor restarts it */
	assert_true(dsrv_log_has(&f->srv, "storage failure, stopping"));

	/* Acknowledged, then refused; never acknowledged again after the
	 * first refusal, and the first says the outcome is unknown. */
	size_t first = h.n;
	for (size_t i = 0; i < h.n; i++) {
		if (h.codes[i] != CAIRN_OK) {
			first = i;
			break;
		}
	}
	print_message(
	    "%zu enqueues: %zu acknowledged before the fault\n", h.n, first);
	assert_true(first > 0 && first < h.n);
	for (size_t i = first; i < h.n; i++) {
		assert_int_not_equal(h.codes[i], CAIRN_OK);
	}
	dsrv_ctl(&f->srv, "");
	start(f);
	all_there(f, ids, 50);
	char *ok = dsrv_sql(&f->srv, "PRAGMA integrity_check");
	assert_string_equal(ok, "ok");
	free(ok);
	/* At least the acknowledged ones of the hammer are there. */
	char *n = dsrv_sql(&f->srv, "SELECT count(*) FROM tasks");
	assert_true(strtoul(n, NULL, 10) >= 50 + first);
	free(n);
}

static void
fsync_error_fails_stop(void **state)
{
	io_error_stops_the_server(*state, "fail_sync 1\n");
}

static void
write_error_fails_stop(void **state)
{
	io_error_stops_the_server(*state, "fail_write 1\n");
}

static void
the_answer_says_the_outcome_is_unknown(void **state)
{
	struct fx *f = *state;

	start(f);
	assert_int_equal(enqueue(f, 10, NULL), CAIRN_OK);
	assert_int_equal(dsrv_ctl(&f->srv, "fail_sync 1\n"), 0);
	sleep_ms(100);
	assert_int_equal(enqueue(f, 10, NULL), CAIRN_UNAVAILABLE);
	assert_non_null(
	    strstr(cairn_client_errmsg(f->c), "outcome is unknown"));
	assert_int_equal(dsrv_wait_exit(&f->srv, 10000), 1);
}

/* fill enqueues 64 KiB tasks until the disk is full; returns how many
 * were acknowledged, their ids in ids. */
static size_t
fill(struct fx *f, uint64_t *ids, size_t max)
{
	size_t n = 0;
	int rv = CAIRN_OK;

	while (n < max && (rv = enqueue(f, 64 * 1024, &ids[n])) == CAIRN_OK) {
		n++;
	}
	assert_int_equal(rv, CAIRN_RESOURCE_EXHAUSTED);
	print_message(
	    "full after %zu tasks: %s\n", n, cairn_client_errmsg(f->c));
	return (n);
}

static void
full_then_free(struct fx *f, void (*free_space)(struct fx *f))
{
	static uint64_t ids[4096];
	uint64_t id;

	size_t n = fill(f, ids, 4096);
	assert_true(n > 0);
	/* Still up, still reading; writes refused the same way. */
	assert_int_equal(cairn_ping(f->c, NULL, NULL), CAIRN_OK);
	all_there(f, ids, n);
	assert_int_equal(enqueue(f, 64 * 1024, &id), CAIRN_RESOURCE_EXHAUSTED);
	assert_true(dsrv_rss_kb(&f->srv) > 0); /* alive */
	free_space(f);
	assert_int_equal(enqueue(f, 64 * 1024, &id), CAIRN_OK);
	all_there(f, ids, n);
	assert_int_equal(dsrv_stop(&f->srv), 0);
}

static void
lift_quota(struct fx *f)
{
	assert_int_equal(dsrv_ctl(&f->srv, ""), 0);
	sleep_ms(100);
}

static void
disk_full_through_the_quota(void **state)
{
	struct fx *f = *state;
	FILE *ctl = fopen(f->srv.ctl, "w");

	fputs("quota 3000000\n", ctl);
	fclose(ctl);
	start(f);
	full_then_free(f, lift_quota);
}

static void
remove_filler(struct fx *f)
{
	char path[200];

	snprintf(path, sizeof(path), "%s/filler", f->mnt);
	assert_int_equal(unlink(path), 0);
}

static void
disk_full_on_a_small_tmpfs(void **state)
{
	struct fx *f = *state;
	char path[200];

	snprintf(f->mnt, sizeof(f->mnt), "%s/mnt", f->srv.dir);
	mkdir(f->mnt, 0755);
	if (mount("tmpfs", f->mnt, "tmpfs", 0, "size=4m") != 0) {
		print_message("cannot mount a tmpfs here (%s): the quota "
		              "test stands in for it\n",
		    strerror(errno));
		f->mnt[0] = 0;
		skip();
	}
	/* 1 MiB to give back once the disk is full. */
	snprintf(path, sizeof(path), "%s/filler", f->mnt);
	FILE *fp = fopen(path, "w");
	static char mib[1 << 20];
	fwrite(mib, 1, sizeof(mib), fp);
	fclose(fp);
	snprintf(f->srv.db, sizeof(f->srv.db), "%s/cairn.db", f->mnt);
	snprintf(f->srv.store, sizeof(f->srv.store), "sqlite:%s", f->srv.db);
	start(f);
	full_then_free(f, remove_filler);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(fsync_error_fails_stop),
		T(write_error_fails_stop),
		T(the_answer_says_the_outcome_is_unknown),
		T(disk_full_through_the_quota),
		T(disk_full_on_a_small_tmpfs),
#undef T
	};
	return (cmocka_run_group_tests_name("diskfault", tests, NULL, NULL));
}
