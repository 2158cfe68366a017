/*
 * dashboard_test.c - the parts of the dashboard that need no server: the
 * rings of queue activity behind its chart (ops/activity.c), and the
 * checks of who asks and from where (ops/webauth.c). The page and its API
 * are tested end to end in a browser (tests/browser/).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ops/activity.h"
#include "ops/webauth.h"

#define B ACTIVITY_BUCKET_MS
#define N ACTIVITY_BUCKETS

static void
activity_counts_by_bucket(void **state)
{
	struct activity a;
	int64_t t0 = 1000 * (int64_t) B; /* the start of a bucket */

	(void) state;
	assert_false(activity_read("act-a", t0, &a));
	activity_note("act-a", t0, true);
	activity_note("act-a", t0 + B - 1, true);
	activity_note("act-a", t0 + 1, false);
	activity_note("act-a", t0 + B, true); /* the next bucket */
	assert_true(activity_read("act-a", t0 + B, &a));
	assert_int_equal(a.succeeded[N - 2], 2);
	assert_int_equal(a.failed[N - 2], 1);
	assert_int_equal(a.succeeded[N - 1], 1);
	assert_int_equal(a.failed[N - 1], 0);
	/* Read later, the same counts have moved left; other queues are
	 * apart. */
	assert_true(activity_read("act-a", t0 + 10 * B, &a));
	assert_int_equal(a.succeeded[N - 11], 2);
	assert_int_equal(a.succeeded[N - 10], 1);
	assert_false(activity_read("act-b", t0, &a));
	assert_int_equal(a.succeeded[N - 1], 0);
}

static void
activity_forgets_what_is_older_than_the_ring(void **state)
{
	struct activity a;
	int64_t t0 = 5000 * (int64_t) B;
	uint32_t total = 0;

	(void) state;
	activity_note("act-old", t0, true);
	/* Read when it has left the ring: gone. */
	activity_read("act-old", t0 + N * B, &a);
	for (size_t i = 0; i < N; i++) {
		total += a.succeeded[i];
	}
	assert_int_equal(total, 0);
	/* Written long after: the old bucket was cleared, not added to. */
	activity_note("act-old", t0 + N * B, true);
	activity_read("act-old", t0 + N * B, &a);
	assert_int_equal(a.succeeded[N - 1], 1);
	/* An outcome older than the ring (a clock set back) is dropped. */
	activity_note("act-old", t0, true);
	activity_read("act-old", t0 + N * B, &a);
	total = 0;
	for (size_t i = 0; i < N; i++) {
		total += a.succeeded[i];
	}
	assert_int_equal(total, 1);
}

static void
sessions_are_random_and_end(void **state)
{
	struct web_sessions *s = web_sessions_new();
	char a[WEB_SESSION_ID_LEN + 1], b[WEB_SESSION_ID_LEN + 1];

	(void) state;
	assert_non_null(s);
	assert_true(web_session_create(s, a));
	assert_true(web_session_create(s, b));
	assert_int_equal(strlen(a), WEB_SESSION_ID_LEN);
	assert_string_not_equal(a, b);
	assert_true(web_session_valid(s, a));
	assert_false(web_session_valid(s, "0123"));
	assert_false(web_session_valid(s, ""));
	web_session_end(s, a);
	assert_false(web_session_valid(s, a));
	assert_true(web_session_valid(s, b));
	web_sessions_free(s);
}

static void
cookies_and_bearer(void **state)
{
	char buf[64];

	(void) state;
	assert_true(web_cookie(
	    "a=1; cairn_session=abc; b=2", "cairn_session", buf, sizeof(buf)));
	assert_string_equal(buf, "abc");
	assert_false(web_cookie(
	    "xcairn_session=abc", "cairn_session", buf, sizeof(buf)));
	assert_false(web_cookie(NULL, "cairn_session", buf, sizeof(buf)));
	assert_false(web_cookie("cairn_session=0123456789", "cairn_session",
	    buf, 4)); /* does not fit */
	assert_string_equal(web_bearer("Bearer tok"), "tok");
	assert_string_equal(web_bearer("bearer  tok"), "tok");
	assert_null(web_bearer("Basic dXNlcg=="));
	assert_null(web_bearer(NULL));
}

static void
hosts_and_cross_site_requests(void **state)
{
	(void) state;
	assert_true(web_host_is_address("127.0.0.1:7421"));
	assert_true(web_host_is_address("localhost:7421"));
	assert_true(web_host_is_address("[::1]:7421"));
	assert_true(web_host_is_address("10.1.2.3"));
	assert_false(web_host_is_address("evil.example:7421"));
	assert_false(web_host_is_address("1.2.3.4.evil.example"));
	assert_false(web_host_is_address(NULL));

	assert_null(web_csrf_check("127.0.0.1:7421", NULL, NULL, "1"));
	assert_null(web_csrf_check(
	    "127.0.0.1:7421", "http://127.0.0.1:7421", "same-origin", "1"));
	assert_non_null(web_csrf_check("127.0.0.1:7421", NULL, NULL, NULL));
	assert_non_null(web_csrf_check(
	    "127.0.0.1:7421", "http://evil.example", NULL, "1"));
	assert_non_null(web_csrf_check("127.0.0.1:7421", "null", NULL, "1"));
	assert_non_null(
	    web_csrf_check("127.0.0.1:7421", NULL, "cross-site", "1"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(activity_counts_by_bucket),
		cmocka_unit_test(activity_forgets_what_is_older_than_the_ring),
		cmocka_unit_test(sessions_are_random_and_end),
		cmocka_unit_test(cookies_and_bearer),
		cmocka_unit_test(hosts_and_cross_site_requests),
	};
	return (cmocka_run_group_tests_name("dashboard", tests, NULL, NULL));
}
