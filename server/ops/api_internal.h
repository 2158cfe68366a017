/*
 * ops/api_internal.h - what the files of the dashboard's API share: one
 * request being answered, its parameters, its JSON answer, and the engine
 * ops it runs. Everything here runs on the API's thread.
 */
#ifndef CAIRN_API_INTERNAL_H
#define CAIRN_API_INTERNAL_H

#include <stdio.h>

#include "cairn_json.h"
#include "ops/api.h"
#include "ops/httpq.h"
#include "ops/probe.h"
#include "ops/webauth.h"

struct api {
	struct api_config cfg;
	struct http_queue *q;
	struct web_sessions *sessions;
};

/* One request. The answer is written with j into a memory stream and
 * sent by api_send; api_fail throws it away and sends an error instead.
 * A handler answers exactly once, with one of the two. */
struct api_req {
	struct api *api;
	nng_aio *aio;
	nng_http_req *req;
	const char *method;
	const char *query; /* after the '?', or "" */
	FILE *f;
	char *buf;
	size_t len;
	struct json j;
	const char *cookie; /* a Set-Cookie to send with it; NULL: none */
	char cookie_buf[160];
	const char *user; /* "token", "session" or "open", for the log */
};

/* api_param copies the parameter name of the query string, decoded, into
 * buf: 1 found, 0 absent; -1 when it is longer than len - 1 bytes, holds
 * a NUL or is not UTF-8, and then the request has been refused (400). */
int api_param(struct api_req *r, const char *name, char *buf, size_t len);

/* api_param_u64 reads a decimal parameter (absent: *v = dflt) of at most
 * max: 0, or -1 with the request refused. */
int api_param_u64(struct api_req *r, const char *name, uint64_t dflt,
    uint64_t max, uint64_t *v);

/* api_fail answers the request with the HTTP status that matches the
 * cairn status and {"error": {"code": NAME, "message": ...}}. */
void api_fail(struct api_req *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* api_send answers 200 with the document written into r->j. */
void api_send(struct api_req *r);

/* api_run submits p and waits for it; returns p answered with CAIRN_OK,
 * for the caller to free, or NULL when the request has been answered
 * with the op's error (or 503 when the engine did not answer in time). */
struct probe *api_run(struct api_req *r, struct probe *p);

/* api_keep is probe_keep of the string s, answering 503 and returning
 * NULL when out of memory. */
const char *api_keep(struct api_req *r, struct probe *p, const char *s);

/* api_probe is probe_new, answering 503 and returning NULL when out of
 * memory. */
struct probe *api_probe(struct api_req *r, enum engine_op_kind kind);

/* api_run_param names the run of p's op by the parameter "id" (a run id)
 * or "workflow_id", kept in wfid (WF_ID_MAX + 1 bytes, which must live as
 * long as p), with the rpcs' rule; false when the request was refused. */
bool api_run_param(struct api_req *r, struct probe *p, char *wfid);

/* Writers of the server's own structs, with the field names of the CLI's
 * --json (and so of the protocol). Bytes longer than max are cut to max
 * (NAME_size then tells the whole length); 0: no cut. */
void api_json_task(struct json *j, const struct task *t, size_t max);
void api_json_task_brief(struct json *j, const struct task *t);
void api_json_run(struct json *j, const struct wf_run *r, size_t max);
void api_json_entry(struct json *j, const struct wf_entry *e, size_t max);
void api_json_events(struct json *j, const struct task_event *ev, size_t n);

/* The handlers: reads (api_read.c) and actions (api_act.c). */
void api_get_queues(struct api_req *r);
void api_get_tasks(struct api_req *r);
void api_get_task(struct api_req *r);
void api_get_workflows(struct api_req *r);
void api_get_runs(struct api_req *r);
void api_get_run(struct api_req *r);
void api_get_search(struct api_req *r);
void api_post_task_retry(struct api_req *r);
void api_post_task_cancel(struct api_req *r);
void api_post_run_cancel(struct api_req *r);
void api_post_run_terminate(struct api_req *r);
void api_post_run_signal(struct api_req *r);

#endif /* CAIRN_API_INTERNAL_H */
