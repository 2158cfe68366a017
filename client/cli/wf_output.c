/*
 * wf_output.c - how the CLI shows workflow runs and their logs: aligned
 * text and a timeline for people, JSON with the proto's field names for
 * programs.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cairn_json.h"

void
print_run(const cairn_workflow_run *r)
{
	printf("%-18s %" PRIu64 "\n", "run_id:", r->run_id);
	line("workflow_id:", r->workflow_id);
	line("type:", r->type);
	line("queue:", r->queue);
	line("state:", cairn_workflow_state_name(r->state));
	if (r->cancel_requested) {
		line("cancel_requested:", "yes");
	}
	if (r->stuck) {
		line("stuck:", r->stuck_reason);
	}
	printf("%-18s %" PRIu32 " entries, %" PRIu64 " resolved\n",
	    "log:", r->log_length, r->resolved_count);
	printf("%-18s %" PRIu32 "%s\n", "task_attempt:", r->task_attempt,
	    r->leased ? ", leased" : (r->runnable ? ", runnable" : ""));
	if (r->worker_id[0] != '\0') {
		line("worker_id:", r->worker_id);
	}
	if (r->leased) {
		line_time("lease_deadline:", r->lease_deadline_ms);
	}
	if (r->parent_run_id != 0) {
		printf("%-18s run %" PRIu64 ", seq %" PRIu32 "\n",
		    "parent:", r->parent_run_id, r->parent_seq);
	}
	line_time("created_at:", r->created_at_ms);
	line_time("updated_at:", r->updated_at_ms);
	if (r->finished_at_ms != 0) {
		line_time("finished_at:", r->finished_at_ms);
	}
	line_bytes("input:", r->input, r->input_len);
	if (r->state == CAIRN_WF_SUCCEEDED || r->result_len > 0) {
		line_bytes("result:", r->result, r->result_len);
	}
	if (r->error[0] != '\0') {
		line("error:", r->error);
	}
}

/* preview prints up to max bytes of p, cut at a character boundary. */
static void
preview(const uint8_t *p, size_t n, size_t max)
{
	size_t shown = n;

	if (shown > max) {
		shown = max;
		while (shown > 0 && (p[shown] & 0xc0) == 0x80) {
			shown--;
		}
	}
	print_bytes(stdout, p, shown);
	fputs(shown < n ? "..." : "", stdout);
}

void
print_run_table(cairn_workflow_run *const *runs, size_t n, bool header)
{
	char when[64];

	if (header) {
		printf("%-8s  %-24s  %-16s  %-10s  %-5s  %-24s  %s\n", "RUN",
		    "WORKFLOW_ID", "TYPE", "STATE", "LOG", "CREATED", "NOTE");
	}
	for (size_t i = 0; i < n; i++) {
		const cairn_workflow_run *r = runs[i];
		fmt_time(r->created_at_ms, when, sizeof(when));
		printf("%-8" PRIu64 "  %-24s  %-16s  %-10s  %-5" PRIu32
		       "  %-24s  ",
		    r->run_id, r->workflow_id, r->type,
		    cairn_workflow_state_name(r->state), r->log_length, when);
		if (r->stuck) {
			fputs("stuck: ", stdout);
			preview((const uint8_t *) r->stuck_reason,
			    strlen(r->stuck_reason), 60);
		} else if (r->error[0] != '\0') {
			preview(
			    (const uint8_t *) r->error, strlen(r->error), 60);
		} else if (r->cancel_requested) {
			fputs("cancel requested", stdout);
		}
		putchar('\n');
	}
}

/* entry_ref is what an entry refers to: its task, child run or instant. */
static void
entry_ref(const cairn_wf_entry *e, char *buf, size_t len)
{
	char when[64];

	switch (e->kind) {
	case CAIRN_WF_ACTIVITY:
		snprintf(buf, len, "task %" PRIu64, e->task_id);
		break;
	case CAIRN_WF_CHILD:
		snprintf(buf, len, "run %" PRIu64, e->child_run_id);
		break;
	case CAIRN_WF_TIMER:
	case CAIRN_WF_SIGNAL:
		fmt_time(e->fire_at_ms, when, sizeof(when));
		snprintf(buf, len, "%s%s", e->fire_at_ms != 0 ? "at " : "",
		    e->fire_at_ms != 0 ? when : "-");
		break;
	default:
		snprintf(buf, len, "-");
	}
}

void
print_history(const cairn_workflow_run *r, const cairn_wf_entry *e, size_t n,
    bool header)
{
	char when[64], took[32], ref[96], att[16];

	if (header) {
		printf("run %" PRIu64 " (%s): %s, %s, %" PRIu32 " entries\n",
		    r->run_id, r->workflow_id, r->type,
		    cairn_workflow_state_name(r->state), r->log_length);
		printf(
		    "%-5s  %-8s  %-16s  %-9s  %-24s  %-8s  %-8s  %-32s  %s\n",
		    "SEQ", "KIND", "NAME", "STATUS", "CREATED", "TOOK",
		    "ATTEMPTS", "REF", "RESULT/ERROR");
	}
	for (size_t i = 0; i < n; i++) {
		fmt_time(e[i].created_at_ms, when, sizeof(when));
		if (e[i].resolved_at_ms != 0) {
			fmt_duration(e[i].resolved_at_ms - e[i].created_at_ms,
			    took, sizeof(took));
		} else {
			snprintf(took, sizeof(took), "-");
		}
		if (e[i].kind == CAIRN_WF_ACTIVITY) {
			snprintf(att, sizeof(att), "%" PRIu32, e[i].attempts);
		} else {
			snprintf(att, sizeof(att), "-");
		}
		entry_ref(&e[i], ref, sizeof(ref));
		printf("%-5" PRIu32 "  %-8s  %-16s  %-9s  %-24s  %-8s  %-8s  "
		       "%-32s  ",
		    e[i].seq, cairn_wf_kind_name(e[i].kind),
		    e[i].name[0] != '\0' ? e[i].name : "-",
		    cairn_wf_status_name(e[i].status), when, took, att, ref);
		if (e[i].error[0] != '\0') {
			fputs("error: ", stdout);
			preview((const uint8_t *) e[i].error,
			    strlen(e[i].error), 80);
		} else {
			preview(e[i].result, e[i].result_len, 60);
		}
		putchar('\n');
	}
}

void
json_run(struct json *j, const cairn_workflow_run *r)
{
	json_begin_object(j);
	json_kv_uint(j, "run_id", r->run_id);
	json_kv_string(j, "workflow_id", r->workflow_id);
	json_kv_string(j, "type", r->type);
	json_kv_string(j, "queue", r->queue);
	json_kv_bytes(j, "input", r->input, r->input_len);
	json_kv_string(j, "state", cairn_workflow_state_name(r->state));
	json_kv_bytes(j, "result", r->result, r->result_len);
	json_kv_string(j, "error", r->error);
	json_kv_bool(j, "cancel_requested", r->cancel_requested);
	json_kv_bool(j, "stuck", r->stuck);
	json_kv_string(j, "stuck_reason", r->stuck_reason);
	json_kv_uint(j, "log_length", r->log_length);
	json_kv_uint(j, "task_attempt", r->task_attempt);
	json_kv_bool(j, "leased", r->leased);
	json_kv_string(j, "worker_id", r->worker_id);
	json_kv_int(j, "lease_deadline_ms", r->lease_deadline_ms);
	json_kv_uint(j, "parent_run_id", r->parent_run_id);
	json_kv_uint(j, "parent_seq", r->parent_seq);
	json_kv_int(j, "created_at_ms", r->created_at_ms);
	json_kv_int(j, "updated_at_ms", r->updated_at_ms);
	json_kv_int(j, "finished_at_ms", r->finished_at_ms);
	json_kv_bool(j, "runnable", r->runnable);
	json_kv_uint(j, "resolved_count", r->resolved_count);
	json_end_object(j);
}

void
json_entry(struct json *j, const cairn_wf_entry *e)
{
	json_begin_object(j);
	json_kv_uint(j, "seq", e->seq);
	json_kv_string(j, "kind", cairn_wf_kind_name(e->kind));
	json_kv_string(j, "name", e->name);
	json_kv_uint(j, "input_hash", e->input_hash);
	json_kv_bytes(j, "input", e->input, e->input_len);
	json_kv_string(j, "status", cairn_wf_status_name(e->status));
	json_kv_bytes(j, "result", e->result, e->result_len);
	json_kv_string(j, "error", e->error);
	json_kv_int(j, "created_at_ms", e->created_at_ms);
	json_kv_int(j, "resolved_at_ms", e->resolved_at_ms);
	json_kv_uint(j, "resolved_order", e->resolved_order);
	json_kv_uint(j, "task_id", e->task_id);
	json_kv_uint(j, "child_run_id", e->child_run_id);
	json_kv_int(j, "fire_at_ms", e->fire_at_ms);
	json_kv_uint(j, "attempts", e->attempts);
	json_kv_string(j, "queue", e->queue);
	json_end_object(j);
}
