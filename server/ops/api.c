/*
 * ops/api.c - the dashboard's JSON API: its thread, its routes, and the
 * checks every request passes before a handler sees it (who asks, from
 * where, whether actions are allowed), in that order.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ops/api_internal.h"
#include "ops/log.h"
#include "ops/ui.h"

/* What a route needs: PUBLIC answers without a token (the page asks
 * whether to show its login form), ACTION changes something (refused
 * in read-only mode). Every POST passes the checks against cross-site
 * requests. */
enum { PUBLIC = 1, ACTION = 2 };

static void api_get_session(struct api_req *r);
static void api_post_login(struct api_req *r);
static void api_post_logout(struct api_req *r);

static const struct route {
	const char *method;
	const char *path;
	void (*fn)(struct api_req *r);
	int flags;
} routes[] = {
	{ "GET", "/api/session", api_get_session, PUBLIC },
	{ "POST", "/api/login", api_post_login, PUBLIC },
	{ "POST", "/api/logout", api_post_logout, PUBLIC },
	{ "GET", "/api/queues", api_get_queues, 0 },
	{ "GET", "/api/tasks", api_get_tasks, 0 },
	{ "GET", "/api/task", api_get_task, 0 },
	{ "GET", "/api/workflows", api_get_workflows, 0 },
	{ "GET", "/api/runs", api_get_runs, 0 },
	{ "GET", "/api/run", api_get_run, 0 },
	{ "GET", "/api/search", api_get_search, 0 },
	{ "POST", "/api/task/retry", api_post_task_retry, ACTION },
	{ "POST", "/api/task/cancel", api_post_task_cancel, ACTION },
	{ "POST", "/api/run/cancel", api_post_run_cancel, ACTION },
	{ "POST", "/api/run/terminate", api_post_run_terminate, ACTION },
	{ "POST", "/api/run/signal", api_post_run_signal, ACTION },
};

/* Headers of every answer: JSON that no browser may sniff, cache, frame
 * or run. */
#define API_HEADERS                                                           \
	"Cache-Control", "no-store", "X-Content-Type-Options", "nosniff",     \
	    "Content-Security-Policy",                                        \
	    "default-src 'none'; frame-ancestors 'none'", "Referrer-Policy",  \
	    "no-referrer"

static uint16_t
http_status(int status)
{
	switch (status) {
	case CAIRN_OK:
		return (200);
	case CAIRN_INVALID_ARGUMENT:
	case CAIRN_OUT_OF_RANGE:
		return (400);
	case CAIRN_UNAUTHENTICATED:
		return (401);
	case CAIRN_PERMISSION_DENIED:
		return (403);
	case CAIRN_NOT_FOUND:
		return (404);
	case CAIRN_ALREADY_EXISTS:
	case CAIRN_FAILED_PRECONDITION:
	case CAIRN_ABORTED:
		return (409);
	case CAIRN_UNIMPLEMENTED:
		return (501);
	case CAIRN_UNAVAILABLE:
	case CAIRN_RESOURCE_EXHAUSTED:
	case CAIRN_DEADLINE_EXCEEDED:
		return (503);
	default:
		return (500);
	}
}

static void
reply(struct api_req *r, uint16_t code, const char *body, size_t len)
{
	const char *with_cookie[]
	    = { API_HEADERS, "Set-Cookie", r->cookie, NULL };
	const char *plain[] = { API_HEADERS, NULL };

	http_reply(r->aio, code, "application/json; charset=utf-8", body, len,
	    r->cookie != NULL ? with_cookie : plain);
}

/* doc_close ends the memory stream; false when it ran out of memory. */
static bool
doc_close(struct api_req *r)
{
	bool ok = r->f != NULL && !ferror(r->f);

	if (r->f != NULL) {
		fclose(r->f); /* sets buf and len */
		r->f = NULL;
	}
	return (ok && r->buf != NULL);
}

static void
doc_free(struct api_req *r)
{
	doc_close(r);
	free(r->buf);
	r->buf = NULL;
	r->len = 0;
}

void
api_send(struct api_req *r)
{
	if (!doc_close(r)) {
		api_fail(r, CAIRN_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	reply(r, 200, r->buf, r->len);
	doc_free(r);
}

/* fail answers with an error document and HTTP status code. */
static void
fail(struct api_req *r, uint16_t code, int status, const char *msg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	struct json j;

	doc_free(r);
	if ((f = open_memstream(&buf, &len)) == NULL) {
		nng_aio_finish(r->aio, NNG_ENOMEM);
		return;
	}
	json_init(&j, f);
	json_begin_object(&j);
	json_key(&j, "error");
	json_begin_object(&j);
	json_kv_string(&j, "code", cairn_strerror(status));
	json_kv_string(&j, "message", msg);
	json_end_object(&j);
	json_end_object(&j);
	json_end(&j);
	if (ferror(f)) {
		fclose(f);
		free(buf);
		nng_aio_finish(r->aio, NNG_ENOMEM);
		return;
	}
	fclose(f);
	reply(r, code, buf, len);
	free(buf);
}

void
api_fail(struct api_req *r, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fail(r, http_status(status), status, msg);
}

static int
hexval(int c)
{
	return (isdigit(c) ? c - '0' : tolower(c) - 'a' + 10);
}

int
api_param(struct api_req *r, const char *name, char *buf, size_t len)
{
	size_t nlen = strlen(name);
	const char *p = r->query;

	while (*p != 0) {
		const char *end = p + strcspn(p, "&");
		if ((size_t) (end - p) >= nlen && strncmp(p, name, nlen) == 0
		    && (p[nlen] == '=' || p + nlen == end)) {
			size_t o = 0;
			for (p += nlen + (p[nlen] == '='); p < end; p++) {
				int c = (uint8_t) *p;
				if (c == '+') {
					c = ' ';
				} else if (c == '%' && end - p >= 3
				    && isxdigit((uint8_t) p[1])
				    && isxdigit((uint8_t) p[2])) {
					c = hexval(p[1]) * 16 + hexval(p[2]);
					p += 2;
				}
				if (c == 0 || o + 1 >= len) {
					goto bad;
				}
				buf[o++] = (char) c;
			}
			buf[o] = 0;
			if (!cairn__utf8_valid(buf, o)) {
				goto bad;
			}
			return (1);
		}
		p = *end == '&' ? end + 1 : end;
	}
	return (0);
bad:
	api_fail(r, CAIRN_INVALID_ARGUMENT,
	    "%s: at most %zu bytes of UTF-8 text, without NUL", name, len - 1);
	return (-1);
}

int
api_param_u64(struct api_req *r, const char *name, uint64_t dflt, uint64_t max,
    uint64_t *v)
{
	char buf[32], *end;
	int rv = api_param(r, name, buf, sizeof(buf));

	if (rv <= 0) {
		*v = dflt;
		return (rv);
	}
	errno = 0;
	*v = strtoull(buf, &end, 10);
	if (buf[0] < '0' || buf[0] > '9' || *end != 0 || errno != 0
	    || *v > max) {
		api_fail(r, CAIRN_INVALID_ARGUMENT,
		    "%s: a whole number from 0 to %llu", name,
		    (unsigned long long) max);
		return (-1);
	}
	return (0);
}

struct probe *
api_probe(struct api_req *r, enum engine_op_kind kind)
{
	struct probe *p = probe_new(kind);

	if (p == NULL) {
		api_fail(r, CAIRN_RESOURCE_EXHAUSTED, "out of memory");
	}
	return (p);
}

const char *
api_keep(struct api_req *r, struct probe *p, const char *s)
{
	const char *c = probe_keep(p, s, strlen(s));

	if (c == NULL) {
		api_fail(r, CAIRN_RESOURCE_EXHAUSTED, "out of memory");
	}
	return (c);
}

struct probe *
api_run(struct api_req *r, struct probe *p)
{
	struct api *a = r->api;

	if ((p = probe_run(a->cfg.engine, p, a->cfg.probe_timeout_ms))
	    == NULL) {
		api_fail(r, CAIRN_UNAVAILABLE,
		    "the store did not answer within %lld ms",
		    (long long) a->cfg.probe_timeout_ms);
		return (NULL);
	}
	if (p->op.status != CAIRN_OK) {
		api_fail(r, p->op.status, "%s", p->op.msg);
		probe_free(p);
		return (NULL);
	}
	return (p);
}

static const char *
header(struct api_req *r, const char *name)
{
	return (nng_http_req_get_header(r->req, name));
}

/* authenticated says whether the request carries a token of the set or
 * a live session, and notes which. */
static bool
authenticated(struct api_req *r)
{
	struct api *a = r->api;
	const char *tok = web_bearer(header(r, "Authorization"));
	char sid[WEB_SESSION_ID_LEN + 2];

	if (a->cfg.auth == NULL) {
		r->user = "open";
		return (true);
	}
	if (tok != NULL) {
		r->user = "token";
		return (auth_check(a->cfg.auth, tok));
	}
	r->user = "session";
	return (web_cookie(
	            header(r, "Cookie"), WEB_SESSION_COOKIE, sid, sizeof(sid))
	    && web_session_valid(a->sessions, sid));
}

static void
api_get_session(struct api_req *r)
{
	bool in = authenticated(r);

	json_begin_object(&r->j);
	json_kv_bool(&r->j, "token_required", r->api->cfg.auth != NULL);
	json_kv_bool(&r->j, "authenticated", in);
	json_kv_bool(&r->j, "read_only", r->api->cfg.read_only);
	if (in) {
		json_kv_string(&r->j, "version", r->api->cfg.version);
		json_kv_string(&r->j, "store", r->api->cfg.store);
	}
	json_end_object(&r->j);
	api_send(r);
}

static void
api_post_login(struct api_req *r)
{
	char sid[WEB_SESSION_ID_LEN + 1];
	char *body = NULL;
	size_t len = 0;
	int rv;

	/* The token comes as the body "token=..." (a form's encoding), not
	 * in the URL, which proxies and browsers keep in logs. */
	nng_http_req_get_data(r->req, (void **) &body, &len);
	char *form = strndup(body != NULL ? body : "", len);
	if (form == NULL) {
		api_fail(r, CAIRN_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	char token[AUTH_TOKEN_MAX + 1];
	const char *saved = r->query;
	r->query = form;
	rv = api_param(r, "token", token, sizeof(token));
	r->query = saved;
	free(form);
	if (rv < 0) {
		return;
	}
	if (rv == 0 || !auth_check(r->api->cfg.auth, token)) {
		log_info("dashboard: refused a login");
		api_fail(
		    r, CAIRN_UNAUTHENTICATED, "not a token of the server");
		return;
	}
	if (r->api->cfg.auth != NULL) {
		if (!web_session_create(r->api->sessions, sid)) {
			api_fail(r, CAIRN_UNAVAILABLE, "no random bytes");
			return;
		}
		snprintf(r->cookie_buf, sizeof(r->cookie_buf),
		    "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d",
		    WEB_SESSION_COOKIE, sid, WEB_SESSION_TTL_S);
		r->cookie = r->cookie_buf;
		log_info("dashboard: login");
	}
	json_begin_object(&r->j);
	json_kv_bool(&r->j, "authenticated", true);
	json_end_object(&r->j);
	api_send(r);
}

static void
api_post_logout(struct api_req *r)
{
	char sid[WEB_SESSION_ID_LEN + 2];

	if (web_cookie(
	        header(r, "Cookie"), WEB_SESSION_COOKIE, sid, sizeof(sid))) {
		web_session_end(r->api->sessions, sid);
	}
	r->cookie = WEB_SESSION_COOKIE
	    "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0";
	json_begin_object(&r->j);
	json_kv_bool(&r->j, "authenticated", false);
	json_end_object(&r->j);
	api_send(r);
}

/* gate runs the checks that come before a handler; false when the
 * request has been answered. */
static bool
gate(struct api_req *r, const struct route *rt)
{
	struct api *a = r->api;
	const char *host = header(r, "Host");
	const char *why;

	if (a->cfg.auth == NULL && !web_host_is_address(host)) {
		api_fail(r, CAIRN_PERMISSION_DENIED,
		    "without --token-file the dashboard answers only to an "
		    "address or localhost, not to the host name %s",
		    host != NULL ? host : "(none)");
		return (false);
	}
	if (strcmp(r->method, "POST") == 0
	    && (why = web_csrf_check(host, header(r, "Origin"),
	            header(r, "Sec-Fetch-Site"), header(r, WEB_CSRF_HEADER)))
	        != NULL) {
		api_fail(r, CAIRN_PERMISSION_DENIED, "%s", why);
		return (false);
	}
	if (!(rt->flags & PUBLIC) && !authenticated(r)) {
		api_fail(r, CAIRN_UNAUTHENTICATED,
		    "log in, or send Authorization: Bearer TOKEN");
		return (false);
	}
	if ((rt->flags & ACTION) && a->cfg.store_read_only) {
		/* As the rpcs answer: the store, not the dashboard, is
		 * read-only. */
		api_fail(r, CAIRN_FAILED_PRECONDITION,
		    "cairnd serves this store read-only (--read-only), for "
		    "inspection: actions are refused");
		return (false);
	}
	if ((rt->flags & ACTION) && a->cfg.read_only) {
		api_fail(r, CAIRN_PERMISSION_DENIED,
		    "the dashboard is read-only (--ui read-only)");
		return (false);
	}
	return (true);
}

static void
serve(void *arg, nng_aio *aio, int kind)
{
	struct api_req r = {
		.api = arg,
		.aio = aio,
		.req = nng_aio_get_input(aio, 0),
	};
	const char *uri = nng_http_req_get_uri(r.req);
	size_t plen = strcspn(uri, "?");
	const struct route *found = NULL;
	bool other_method = false;

	(void) kind;
	r.method = nng_http_req_get_method(r.req);
	r.query = uri[plen] == '?' ? uri + plen + 1 : "";
	if ((r.f = open_memstream(&r.buf, &r.len)) == NULL) {
		nng_aio_finish(aio, NNG_ENOMEM);
		return;
	}
	json_init(&r.j, r.f);
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (strlen(routes[i].path) != plen
		    || strncmp(routes[i].path, uri, plen) != 0) {
			continue;
		}
		if (strcmp(routes[i].method, r.method) == 0) {
			found = &routes[i];
		} else {
			other_method = true;
		}
	}
	if (found == NULL) {
		char msg[300];
		snprintf(msg, sizeof(msg), "%.*s: %s%s",
		    (int) (plen < 200 ? plen : 200), uri,
		    other_method ? "no such method: " : "no such API",
		    other_method ? r.method : "");
		fail(&r, other_method ? 405 : 404,
		    other_method ? CAIRN_INVALID_ARGUMENT : CAIRN_NOT_FOUND,
		    msg);
		return;
	}
	if (gate(&r, found)) {
		found->fn(&r);
	}
}

static void
on_api(nng_aio *aio)
{
	nng_http_handler *hd = nng_aio_get_input(aio, 1);
	struct api *a = nng_http_handler_get_data(hd);

	http_queue_put(a->q, aio, 0);
}

int
api_start(struct api **out, const struct api_config *cfg)
{
	struct api *a = calloc(1, sizeof(*a));

	if (a == NULL || (a->sessions = web_sessions_new()) == NULL) {
		free(a);
		return (-1);
	}
	a->cfg = *cfg;
	if (a->cfg.max_payload == 0) {
		a->cfg.max_payload = 1 << 20;
	}
	if (http_queue_start(&a->q, serve, a) != 0) {
		web_sessions_free(a->sessions);
		free(a);
		return (-1);
	}
	*out = a;
	return (0);
}

int
api_add_handlers(struct api *a, nng_http_server *srv)
{
	nng_http_handler *hd;
	int rv;

	/* Every method reaches serve, which answers 400 for one a route
	 * does not take: OPTIONS (a CORS preflight) among them, so that
	 * no other origin is ever allowed in. */
	if ((rv = nng_http_handler_alloc(&hd, "/api", on_api)) != 0) {
		return (rv);
	}
	if ((rv = nng_http_handler_set_tree(hd)) != 0
	    || (rv = nng_http_handler_set_method(hd, NULL)) != 0
	    || (rv = nng_http_handler_collect_body(
	            hd, true, a->cfg.max_payload + 1))
	        != 0
	    || (rv = nng_http_handler_set_data(hd, a, NULL)) != 0
	    || (rv = nng_http_server_add_handler(srv, hd)) != 0) {
		nng_http_handler_free(hd);
		return (rv);
	}
	return (ui_add_handlers(srv));
}

void
api_stop(struct api *a)
{
	if (a != NULL) {
		http_queue_stop(a->q);
	}
}

void
api_free(struct api *a)
{
	if (a != NULL) {
		http_queue_free(a->q);
		web_sessions_free(a->sessions);
		free(a);
	}
}
