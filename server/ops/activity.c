/*
 * ops/activity.c - per-queue rings of recent outcomes (activity.h).
 *
 * One mutex guards a fixed table of queues, found by hash with linear
 * probing; queues are never removed, so that a probe never has to step
 * over a hole. The engine thread takes the mutex once per outcome, the
 * HTTP thread once per queue that a page asks about: they never wait on
 * each other for long.
 */
#include <pthread.h>
#include <string.h>

#include "ops/activity.h"
#include "store/task.h"

#define SLOTS (ACTIVITY_QUEUES * 2) /* a power of two, half full at most */

struct ring {
	char queue[TASK_QUEUE_MAX + 1]; /* "": a free slot */
	int64_t last;                   /* the newest bucket written */
	struct activity a;              /* indexed by bucket % BUCKETS */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct ring slots[SLOTS]; /* under mu */
static size_t used;              /* under mu */

static size_t
hash(const char *s)
{
	uint64_t h = 1469598103934665603u;

	while (*s != 0) {
		h = (h ^ (uint8_t) *s++) * 1099511628211u;
	}
	return ((size_t) h & (SLOTS - 1));
}

/* find returns queue's ring, or the free slot where it goes (queue[0] ==
 * 0), or NULL when the table is full and queue is not in it. */
static struct ring *
find(const char *queue)
{
	for (size_t i = hash(queue), n = 0; n < SLOTS;
	     i = (i + 1) & (SLOTS - 1), n++) {
		if (slots[i].queue[0] == 0
		    || strcmp(slots[i].queue, queue) == 0) {
			return (
			    slots[i].queue[0] == 0 && used >= ACTIVITY_QUEUES
			        ? NULL
			        : &slots[i]);
		}
	}
	return (NULL);
}

/* advance zeroes the buckets of r that fall between its newest bucket and
 * bucket b, which becomes the newest. */
static void
advance(struct ring *r, int64_t b)
{
	int64_t from = r->last + 1;

	if (b - from >= ACTIVITY_BUCKETS) {
		from = b - ACTIVITY_BUCKETS + 1;
	}
	for (int64_t k = from; k <= b; k++) {
		r->a.succeeded[k % ACTIVITY_BUCKETS] = 0;
		r->a.failed[k % ACTIVITY_BUCKETS] = 0;
	}
	r->last = b;
}

void
activity_note(const char *queue, int64_t now, bool succeeded)
{
	int64_t b = now / ACTIVITY_BUCKET_MS;
	struct ring *r;

	if (now < 0 || queue == NULL || queue[0] == 0
	    || strlen(queue) > TASK_QUEUE_MAX) {
		return;
	}
	pthread_mutex_lock(&mu);
	if ((r = find(queue)) != NULL) {
		if (r->queue[0] == 0) {
			strcpy(r->queue, queue);
			r->last = b;
			used++;
		}
		if (b > r->last) {
			advance(r, b);
		}
		/* An outcome older than the ring (a clock set back) is
		 * dropped. */
		if (b > r->last - ACTIVITY_BUCKETS) {
			uint32_t *c = succeeded ? r->a.succeeded : r->a.failed;
			c[b % ACTIVITY_BUCKETS]++;
		}
	}
	pthread_mutex_unlock(&mu);
}

bool
activity_read(const char *queue, int64_t now, struct activity *out)
{
	int64_t b = now / ACTIVITY_BUCKET_MS;
	struct ring *r;
	bool known = false;

	memset(out, 0, sizeof(*out));
	if (now < 0 || queue == NULL) {
		return (false);
	}
	pthread_mutex_lock(&mu);
	if ((r = find(queue)) != NULL && r->queue[0] != 0) {
		known = true;
		/* Bucket k of the answer is bucket b - BUCKETS + 1 + k. */
		for (int64_t k = 0; k < ACTIVITY_BUCKETS; k++) {
			int64_t at = b - ACTIVITY_BUCKETS + 1 + k;
			if (at <= r->last && at > r->last - ACTIVITY_BUCKETS
			    && at >= 0) {
				out->succeeded[k]
				    = r->a.succeeded[at % ACTIVITY_BUCKETS];
				out->failed[k]
				    = r->a.failed[at % ACTIVITY_BUCKETS];
			}
		}
	}
	pthread_mutex_unlock(&mu);
	return (known);
}
