/*
 * lifecycle/rules.h - rules about tasks that every backend applies the same
 * way, because the lifecycle applies them above the storage interface:
 * defaults, backoff, lease deadlines, lease tokens.
 */
#ifndef CAIRN_LIFECYCLE_RULES_H
#define CAIRN_LIFECYCLE_RULES_H

#include "store/task.h"

/* Defaults applied when a producer leaves a field at zero. */
#define TASK_DEFAULT_MAX_ATTEMPTS   25
#define TASK_DEFAULT_HEARTBEAT_MS   60000
#define TASK_DEFAULT_BACKOFF_MS     1000
#define TASK_DEFAULT_MULTIPLIER     2.0
#define TASK_DEFAULT_MAX_BACKOFF_MS 3600000

/* task_spec_apply_defaults fills zero fields of spec with the defaults. */
void task_spec_apply_defaults(struct task_spec *spec);

/* task_backoff_ms returns the delay before the attempt after `attempt`
 * (1-based) failed: initial * multiplier^(attempt-1), capped at max. */
int64_t task_backoff_ms(const struct retry_policy *p, uint32_t attempt);

/* task_lease_deadline returns when a lease taken or extended at now ends:
 * now + lease_timeout, cut at attempt_deadline (start-to-close), and tells
 * in *by_start_to_close which of the two bounds it. */
int64_t task_lease_deadline(int64_t now, int64_t lease_timeout_ms,
    int64_t attempt_deadline, bool *by_start_to_close);

/* task_token_new writes a fresh random lease token (32 hex characters and
 * a NUL) into buf. */
void task_token_new(char buf[TASK_TOKEN_LEN + 1]);

/* task_outcome_reason returns why a lease that ended with outcome is no
 * longer valid, as a message for FAILED_PRECONDITION. */
const char *task_outcome_reason(enum lease_outcome outcome);

#endif /* CAIRN_LIFECYCLE_RULES_H */
