/*
 * wf_flows.h - the workflows the end-to-end tests run, shared by the test
 * programs and by wf_test_worker (a workflow worker in a process of its
 * own, to be killed).
 *
 *   order     reserve, charge (activities), the step "receipt", a timer,
 *             ship (activity); succeeds with what they returned
 *   approval  reserve, a wait for the signal "approve" (v2: an activity
 *             "charge2" before the wait: a changed function), ship; ends
 *             CANCELED when the wait was
 *   inbox     a one-second timer, then the signal "go" (sent before it waits)
 *   parent    a child run of "child"; child: succeeds with "child:INPUT"
 *   slow      the activity "slow" (held until canceled); ends CANCELED
 *             when it was
 *   expect    a signal wait with a 300 ms timeout that nobody answers
 */
#ifndef CAIRN_WF_FLOWS_H
#define CAIRN_WF_FLOWS_H

#include <stdint.h>

#include "cairn.h"

struct wf_flows_config {
	int version;           /* 1, or 2: the changed approval */
	int64_t timer_ms;      /* order's timer */
	int64_t step_sleep_ms; /* how long the receipt step takes */
	const char *step_log;  /* a file the receipt step appends to (may be
	                          NULL): "start ID" and "done ID" lines */
};

/* wf_flows_register registers every flow on w with cfg (which must
 * outlive w). */
int wf_flows_register(cairn_wf_worker *w, const struct wf_flows_config *cfg);

/* The queues of the activities, for the task workers. */
extern const char *const wf_flows_activity_queues[];
#define WF_FLOWS_NQUEUES 5

#endif /* CAIRN_WF_FLOWS_H */
