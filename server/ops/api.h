/*
 * ops/api.h - the dashboard: its page under /ui/ (ops/ui.c) and the JSON
 * API under /api/ that the page and scripts use (docs/DASHBOARD.md).
 *
 * Every answer comes from the engine, through the same ops and the same
 * checks of what is asked as the rpcs, on a thread of the API's own that
 * waits for the engine with a time limit (ops/probe.h). Lists are pages
 * read by index; no request reads a whole table, and the counts by queue
 * come from the cache that /metrics shares (ops/stats_cache.h).
 */
#ifndef CAIRN_API_H
#define CAIRN_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "engine/engine.h"
#include "ops/auth.h"
#include "ops/stats_cache.h"

struct api_config {
	struct engine *engine;
	struct stats_cache *cache;
	const struct auth *auth; /* NULL: no token asked for */
	bool read_only;          /* --ui read-only: no actions */
	bool store_read_only;    /* cairnd --read-only: no actions either */
	int64_t probe_timeout_ms;
	size_t max_payload; /* of a signal's payload; 0: 1 MiB */
	const char *version;
	const char *store;
};

struct api;

/* api_start starts the API's thread; cfg's pointers must outlive the
 * api. Returns 0, or -1 (out of memory, no thread). */
int api_start(struct api **out, const struct api_config *cfg);

/* api_add_handlers registers /api/, /ui/ and / (a redirect to /ui/) on
 * srv. Returns 0 or an nng error. */
int api_add_handlers(struct api *a, nng_http_server *srv);

/* api_stop answers what is queued (503) and joins the thread; api_free,
 * once nng calls no handler any more, frees a. NULL is a no-op. */
void api_stop(struct api *a);
void api_free(struct api *a);

#endif /* CAIRN_API_H */
