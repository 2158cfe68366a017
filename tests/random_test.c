/*
 * random_test.c - the per-thread pool of random bytes (proto/wire/random.c)
 * that lease tokens and request ids come from: no byte is handed out
 * twice, not across the pool's refills and not across a fork.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cairn_wire.h"

/* Many draws across several refills: all distinct. */
static void
draws_are_distinct(void **state)
{
	enum { N = 2000 };
	static uint8_t seen[N][16];

	(void) state;
	for (int i = 0; i < N; i++) {
		assert_true(cairn__random_bytes(seen[i], sizeof(seen[i])));
		for (int j = 0; j < i; j++) {
			assert_memory_not_equal(seen[i], seen[j], 16);
		}
	}
}

/* A child draws other bytes than its parent's next ones. */
static void
fork_does_not_share_the_pool(void **state)
{
	uint8_t warm[16], parent[16], child[16];
	int fds[2], status;

	(void) state;
	assert_true(cairn__random_bytes(warm, sizeof(warm))); /* filled */
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		bool ok = cairn__random_bytes(child, sizeof(child));
		ssize_t w = ok ? write(fds[1], child, sizeof(child)) : -1;
		_exit(w == (ssize_t) sizeof(child) ? 0 : 1);
	}
	assert_true(cairn__random_bytes(parent, sizeof(parent)));
	assert_int_equal(read(fds[0], child, sizeof(child)), sizeof(child));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_memory_not_equal(parent, child, sizeof(parent));
	close(fds[0]);
	close(fds[1]);
}

static void
refuses_more_than_256(void **state)
{
	uint8_t big[257];

	(void) state;
	assert_false(cairn__random_bytes(big, sizeof(big)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(draws_are_distinct),
		cmocka_unit_test(fork_does_not_share_the_pool),
		cmocka_unit_test(refuses_more_than_256),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
