/*
 * random.c - the kernel's random bytes, a pool per thread (cairn_wire.h).
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>

#include "cairn_wire.h"

#define POOL_BYTES 4096

static _Thread_local unsigned char pool[POOL_BYTES];
static _Thread_local size_t left;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* A child of fork() must not hand out the bytes that its parent will: two
 * processes would make the same request ids and lease tokens. The child's
 * one thread is the one that forked; its pool starts empty. */
static void
forget_in_child(void)
{
	memset(pool, 0, sizeof(pool));
	left = 0;
}

static void
watch_fork(void)
{
	pthread_atfork(NULL, NULL, forget_in_child);
}

bool
cairn__random_bytes(void *buf, size_t n)
{
	pthread_once(&once, watch_fork);
	if (n > 256) {
		errno = EINVAL;
		return (false);
	}
	if (left < n) {
		size_t got = 0;
		while (got < sizeof(pool)) {
			ssize_t r
			    = getrandom(pool + got, sizeof(pool) - got, 0);
			if (r > 0) {
				got += (size_t) r;
			} else if (r < 0 && errno != EINTR) {
				return (false);
			}
		}
		left = sizeof(pool);
	}
	unsigned char *p = pool + sizeof(pool) - left;
	memcpy(buf, p, n);
	memset(p, 0, n); /* served once: no copy stays behind */
	left -= n;
	return (true);
}
