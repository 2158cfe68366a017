/*
 * ops/ui.c - the dashboard's files under /ui/ (ui.h).
 *
 * The files hold no data and no secret (they are this repository's), so
 * they are served to anyone; everything they show comes from /api/,
 * which asks for the token. The Content-Security-Policy lets the page
 * run only its own script and style and talk only to its own origin:
 * even a payload that got into the page as markup could not run.
 */
#include <string.h>

#include "ops/httpq.h"
#include "ops/ui.h"

#define UI_CSP                                                                \
	"default-src 'none'; script-src 'self'; style-src 'self'; "           \
	"img-src 'self' data:; connect-src 'self'; base-uri 'none'; "         \
	"form-action 'none'; frame-ancestors 'none'"

static void
on_ui(nng_aio *aio)
{
	static const char *const headers[]
	    = { "Content-Security-Policy", UI_CSP, "X-Content-Type-Options",
		      "nosniff", "X-Frame-Options", "DENY", "Referrer-Policy",
		      "no-referrer", "Cache-Control", "no-cache", NULL };
	nng_http_req *req = nng_aio_get_input(aio, 0);
	const char *uri = nng_http_req_get_uri(req);
	size_t n = strcspn(uri, "?#");
	const char *name;

	/* "/ui", "/ui/" and "/ui/index.html" are the page. */
	name = n > 4 ? uri + 4 : "index.html";
	if (n > 4) {
		n -= 4;
	} else {
		n = strlen(name);
	}
	for (size_t i = 0; i < ui_nassets; i++) {
		if (strlen(ui_assets[i].name) == n
		    && strncmp(ui_assets[i].name, name, n) == 0) {
			http_reply(aio, NNG_HTTP_STATUS_OK, ui_assets[i].type,
			    ui_assets[i].data, ui_assets[i].len, headers);
			return;
		}
	}
	http_reply_text(aio, NNG_HTTP_STATUS_NOT_FOUND, "no such file\n");
}

int
ui_add_handlers(nng_http_server *srv)
{
	nng_http_handler *hd;
	int rv;

	if ((rv = nng_http_handler_alloc(&hd, "/ui", on_ui)) != 0) {
		return (rv);
	}
	if ((rv = nng_http_handler_set_tree(hd)) != 0
	    || (rv = nng_http_server_add_handler(srv, hd)) != 0) {
		nng_http_handler_free(hd);
		return (rv);
	}
	if ((rv = nng_http_handler_alloc_redirect(
	         &hd, "/", NNG_HTTP_STATUS_FOUND, "/ui/"))
	    != 0) {
		return (rv);
	}
	if ((rv = nng_http_server_add_handler(srv, hd)) != 0) {
		nng_http_handler_free(hd);
	}
	return (rv);
}
