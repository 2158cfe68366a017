/*
 * validate_test.c - the server's checks of what clients send
 * (server/rpc/validate.h), without a socket: each returns a status and a
 * message that names the field and the rule, and writes nothing else.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rpc/validate.h"
#include "store/store_queue.h"

static char msg[RPC_MSG_MAX];

/* refused says that rv is INVALID_ARGUMENT with exactly text in msg. */
static void
refused(int rv, const char *text)
{
	assert_int_equal(rv, CAIRN_INVALID_ARGUMENT);
	assert_string_equal(msg, text);
	memset(msg, 0, sizeof(msg));
}

/* ok says that rv is OK and that msg was left alone. */
static void
ok(int rv)
{
	assert_int_equal(rv, CAIRN_OK);
	assert_string_equal(msg, "");
}

static void
queue_names(void **state)
{
	char longest[TASK_QUEUE_MAX + 2];

	(void) state;
	ok(rpc_check_queue("queue", "emails", msg));
	ok(rpc_check_queue("queue", "A-z_0.9:x", msg));
	memset(longest, 'q', TASK_QUEUE_MAX);
	longest[TASK_QUEUE_MAX] = 0;
	ok(rpc_check_queue("queue", longest, msg));
	longest[TASK_QUEUE_MAX] = 'q';
	longest[TASK_QUEUE_MAX + 1] = 0;
	refused(rpc_check_queue("queue", longest, msg),
	    "queue: a queue name has 1 to 128 characters");
	refused(rpc_check_queue("queues", "", msg),
	    "queues: a queue name has 1 to 128 characters");
	refused(rpc_check_queue("queue", NULL, msg),
	    "queue: a queue name has 1 to 128 characters");
	refused(rpc_check_queue("queue", "a b", msg),
	    "queue: invalid queue name (allowed: A-Z a-z 0-9 _ . : -)");
	refused(rpc_check_queue("queue", "caf\xc3\xa9", msg),
	    "queue: invalid queue name (allowed: A-Z a-z 0-9 _ . : -)");
}

static void
durations(void **state)
{
	const int64_t ten_years = 10LL * 365 * 24 * 3600 * 1000;

	(void) state;
	ok(rpc_check_duration("wait_ms", 0, msg));
	ok(rpc_check_duration("wait_ms", ten_years, msg));
	refused(rpc_check_duration("wait_ms", -1, msg),
	    "wait_ms: -1 ms is not a valid duration (0 to 10 years)");
	refused(rpc_check_duration("delay_ms", ten_years + 1, msg),
	    "delay_ms: 315360000001 ms is not a valid duration (0 to 10 "
	    "years)");
	refused(rpc_check_duration("delay_ms", INT64_MAX, msg),
	    "delay_ms: 9223372036854775807 ms is not a valid duration (0 to "
	    "10 years)");
}

static void
bytes_and_text(void **state)
{
	(void) state;
	ok(rpc_check_bytes("payload", 1024, 1024, msg));
	refused(rpc_check_bytes("payload", 1025, 1024, msg),
	    "payload: 1025 bytes exceeds the limit of 1024 bytes");
	ok(rpc_check_text("worker_id", NULL, 4, msg));
	ok(rpc_check_text("worker_id", "w\xc3\xa9", 4, msg));
	refused(rpc_check_text("worker_id", "abcde", 4, msg),
	    "worker_id: longer than 4 bytes");
	refused(rpc_check_text("error", "\xc3", 100, msg),
	    "error: not valid UTF-8");
	refused(rpc_check_text("error", "\xed\xa0\x80", 100, msg),
	    "error: not valid UTF-8"); /* a surrogate */
	refused(rpc_check_text("error", "\xc0\x80", 100, msg),
	    "error: not valid UTF-8"); /* overlong */
}

static void
ids_and_tokens(void **state)
{
	char token[RPC_TOKEN_MAX + 2];

	(void) state;
	ok(rpc_check_id("id", 1, msg));
	ok(rpc_check_id("id", INT64_MAX, msg));
	refused(rpc_check_id("id", 0, msg), "id: 0 is not a task id");
	refused(rpc_check_id("tasks[2].id", (uint64_t) INT64_MAX + 1, msg),
	    "tasks[2].id: 9223372036854775808 is not a task id");
	ok(rpc_check_token("lease_token", "abc", msg));
	refused(rpc_check_token("lease_token", NULL, msg),
	    "lease_token: required");
	refused(
	    rpc_check_token("lease_token", "", msg), "lease_token: required");
	memset(token, 'a', RPC_TOKEN_MAX + 1);
	token[RPC_TOKEN_MAX + 1] = 0;
	refused(rpc_check_token("lease_token", token, msg),
	    "lease_token: longer than 128 bytes");
}

static void
task_specs(void **state)
{
	Cairn__V1__TaskSpec s = CAIRN__V1__TASK_SPEC__INIT;
	Cairn__V1__RetryPolicy r = CAIRN__V1__RETRY_POLICY__INIT;

	(void) state;
	s.queue = "q";
	s.payload.len = 10;
	ok(rpc_check_spec(0, &s, 10, msg));
	s.retry = &r;
	r.multiplier = 1;
	r.initial_backoff_ms = 5;
	ok(rpc_check_spec(0, &s, 10, msg));

	refused(rpc_check_spec(3, &s, 9, msg),
	    "tasks[3].payload: 10 bytes exceeds the limit of 9 bytes");
	s.queue = "";
	refused(rpc_check_spec(1, &s, 10, msg),
	    "tasks[1].queue: a queue name has 1 to 128 characters");
	s.queue = "q";
	s.delay_ms = -5;
	refused(rpc_check_spec(0, &s, 10, msg),
	    "tasks[0].delay_ms: -5 ms is not a valid duration (0 to 10 "
	    "years)");
	s.delay_ms = 0;
	s.start_to_close_timeout_ms = -1;
	refused(rpc_check_spec(0, &s, 10, msg),
	    "tasks[0].start_to_close_timeout_ms: -1 ms is not a valid "
	    "duration (0 to 10 years)");
	s.start_to_close_timeout_ms = 0;
	s.idempotency_key = "\xff";
	refused(rpc_check_spec(0, &s, 10, msg),
	    "tasks[0].idempotency_key: not valid UTF-8");
	s.idempotency_key = NULL;
	s.run_at_ms = -1;
	refused(
	    rpc_check_spec(0, &s, 10, msg), "tasks[0].run_at_ms: negative");
	s.run_at_ms = 0;
	r.max_backoff_ms = -1;
	refused(rpc_check_spec(0, &s, 10, msg),
	    "tasks[0].retry.max_backoff_ms: -1 ms is not a valid duration "
	    "(0 to 10 years)");
	r.max_backoff_ms = 0;
	const double bad[] = { 0.5, 1000.5, NAN, INFINITY, -1 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r.multiplier = bad[i];
		refused(rpc_check_spec(0, &s, 10, msg),
		    "tasks[0].retry.multiplier: must be 0 (default) or from 1 "
		    "to 1000");
	}
	r.multiplier = 0;
	ok(rpc_check_spec(0, &s, 10, msg));
	r.multiplier = 1000;
	ok(rpc_check_spec(0, &s, 10, msg));
}

static void
batch_items(void **state)
{
	(void) state;
	ok(rpc_check_item(0, 7, "tok", 3, "result", 3, msg));
	refused(rpc_check_item(4, 0, "tok", 3, "result", 3, msg),
	    "tasks[4].id: 0 is not a task id");
	refused(rpc_check_item(1, 7, "", 3, "details", 3, msg),
	    "tasks[1].lease_token: required");
	refused(rpc_check_item(2, 7, "tok", 4, "details", 3, msg),
	    "tasks[2].details: 4 bytes exceeds the limit of 3 bytes");
}

static void
queue_settings(void **state)
{
	Cairn__V1__SetQueueRequest in = CAIRN__V1__SET_QUEUE_REQUEST__INIT;
	Cairn__V1__QueueSettings s = CAIRN__V1__QUEUE_SETTINGS__INIT;
	Cairn__V1__RateLimit r = CAIRN__V1__RATE_LIMIT__INIT;
	char *fields[] = { "paused", "rate", "speed" };
	unsigned bits;

	(void) state;
	refused(rpc_check_queue_set(&in, &bits, msg), "settings: required");
	in.settings = &s;
	s.queue = "emails";
	ok(rpc_check_queue_set(&in, &bits, msg));
	assert_int_equal(bits, QUEUE_F_ALL_);
	in.fields = fields;
	in.n_fields = 2;
	ok(rpc_check_queue_set(&in, &bits, msg));
	assert_int_equal(bits, QUEUE_F_PAUSED | QUEUE_F_RATE);
	in.n_fields = 3;
	refused(rpc_check_queue_set(&in, &bits, msg),
	    "fields[2]: unknown field 'speed' (paused, max_active, rate, "
	    "max_attempts, retry, heartbeat_timeout_ms, "
	    "start_to_close_timeout_ms)");
	in.n_fields = 0;
	s.max_active = 1000001;
	refused(rpc_check_queue_set(&in, &bits, msg),
	    "settings.max_active: at most 1000000 (0: no limit)");
	s.max_active = 3;
	s.rate = &r;
	r.burst = 2;
	refused(rpc_check_queue_set(&in, &bits, msg),
	    "settings.rate: count 0 (no rate limit) takes no interval_ms or "
	    "burst");
	r.count = 10;
	refused(rpc_check_queue_set(&in, &bits, msg),
	    "settings.rate.interval_ms: from 1 ms to a day (86400000), not 0");
	r.interval_ms = 1000;
	ok(rpc_check_queue_set(&in, &bits, msg));
	s.heartbeat_timeout_ms = -5;
	refused(rpc_check_queue_set(&in, &bits, msg),
	    "settings.heartbeat_timeout_ms: -5 ms is not a valid duration (0 "
	    "to 10 years)");
	s.heartbeat_timeout_ms = 0;
	s.queue = "no spaces";
	refused(rpc_check_queue_set(&in, &bits, msg),
	    "settings.queue: invalid queue name (allowed: A-Z a-z 0-9 _ . : "
	    "-)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(queue_names),
		cmocka_unit_test(durations),
		cmocka_unit_test(bytes_and_text),
		cmocka_unit_test(ids_and_tokens),
		cmocka_unit_test(task_specs),
		cmocka_unit_test(batch_items),
		cmocka_unit_test(queue_settings),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
