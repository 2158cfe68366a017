/*
 * ops/http.h - the operator's HTTP endpoint (nng's HTTP server): /metrics in
 * the Prometheus text format, /healthz (the process serves), /readyz (the
 * store answers through the engine), and the dashboard: its page under
 * /ui/ and its JSON API under /api/ (ops/api.h, docs/DASHBOARD.md).
 */
#ifndef CAIRN_HTTP_H
#define CAIRN_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"
#include "ops/auth.h"

/* --ui: the dashboard with its actions, without them, or not served. */
enum http_ui { HTTP_UI_ON = 0, HTTP_UI_READ_ONLY, HTTP_UI_OFF };

struct http_config {
	const char *addr; /* HOST:PORT, or http://HOST:PORT */
	struct engine *engine;
	const char *version;
	const char *store;        /* backend name, for cairn_build_info */
	int64_t stats_ttl_ms;     /* tasks by queue are read at most this
	                             often; 0: 1 s */
	int64_t probe_timeout_ms; /* an engine that has not answered by then
	                             is not ready; 0: 2 s */
	enum http_ui ui;
	const struct auth *auth; /* --token-file's tokens, which the
	                            dashboard asks for; NULL: none */
	size_t max_payload;      /* of a signal sent from the dashboard */
	bool store_read_only;    /* cairnd --read-only: actions refused */
};

struct http_server;

/* http_start serves cfg->addr until http_stop. On failure returns a
 * cairn_status with a message in err. *out is owned by the caller. */
int http_start(struct http_server **out, const struct http_config *cfg,
    char *err, size_t errlen);

/* http_bound_addr writes the address the server listens on ("HOST:PORT",
 * the real port when 0 was asked for) into buf. */
void http_bound_addr(const struct http_server *h, char *buf, size_t len);

/* http_stop answers what is pending, stops serving and frees h. It must
 * run before the engine is freed. NULL is a no-op. */
void http_stop(struct http_server *h);

#endif /* CAIRN_HTTP_H */
