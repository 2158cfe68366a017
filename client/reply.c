/*
 * reply.c - what several rpcs share in the messages they send and read:
 * the repeated fields of batches, and the tasks that a lease hands out.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int
cairn__reply_count(cairn_client *c, size_t got, size_t want)
{
	if (got != want) {
		return (cairn__fail(c, CAIRN_INTERNAL,
		    "server answered %zu results for %zu tasks", got, want));
	}
	return (CAIRN_OK);
}

cairn_task *
cairn__leased_from_pb(const Cairn__V1__LeasedTask *lt)
{
	cairn_task *t;

	if ((t = cairn__task_from_pb(lt->task)) == NULL) {
		return (NULL);
	}
	if ((t->lease_token = strdup(lt->lease_token)) == NULL) {
		cairn_task_free(t);
		return (NULL);
	}
	/* The lease's own deadline is the one that counts. */
	if (lt->deadline_ms != 0) {
		t->lease_deadline_ms = lt->deadline_ms;
	}
	return (t);
}
