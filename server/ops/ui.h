/*
 * ops/ui.h - the dashboard's page: its files (server/ops/ui/), compiled
 * into cairnd at build time (cmake/embed.cmake) and served under /ui/
 * with headers that let the page load nothing but them.
 */
#ifndef CAIRN_UI_H
#define CAIRN_UI_H

#include <stddef.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

struct ui_asset {
	const char *name; /* "index.html" */
	const char *type; /* its Content-Type */
	const unsigned char *data;
	size_t len;
};

/* The files, from the generated ui_assets.c. */
extern const struct ui_asset ui_assets[];
extern const size_t ui_nassets;

/* ui_add_handlers registers /ui/ (the files; /ui/ itself is index.html)
 * and / (a redirect to /ui/) on srv. Returns 0 or an nng error. */
int ui_add_handlers(nng_http_server *srv);

#endif /* CAIRN_UI_H */
