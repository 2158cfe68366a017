/*
 * engine_internal.h - what the engine's files share; not for other
 * modules.
 */
#ifndef CAIRN_ENGINE_INTERNAL_H
#define CAIRN_ENGINE_INTERNAL_H

#include <stdio.h>

#include "engine.h"

#define ENGINE_DUE_SLOTS 16

/* What one transaction changed that parked ops may be waiting for. */
struct engine_batch {
	struct store *store;
	bool terminal_changed; /* some task may have become terminal */
	bool due_overflow;     /* too many queues to track: wake all */
	size_t expired;        /* leases ended by the sweep */
	size_t pruned;         /* terminal tasks deleted */
	size_t ndue;
	struct {
		char queue[TASK_QUEUE_MAX + 1];
		uint32_t count; /* tasks made due */
	} due[ENGINE_DUE_SLOTS];
};

/* engine_batch_made_due notes that n tasks of queue became due. */
void engine_batch_made_due(struct engine_batch *b, const char *queue,
    uint32_t n);

/* engine_apply applies op inside the open transaction. */
void engine_apply(struct engine_batch *b, struct engine_op *op, int64_t now);

#endif /* CAIRN_ENGINE_INTERNAL_H */
