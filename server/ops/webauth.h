/*
 * ops/webauth.h - who may use the dashboard, and from where.
 *
 * With --token-file, a request carries a token of the file in
 * "Authorization: Bearer TOKEN" (scripts), or the session cookie that
 * POST /api/login set after checking a token (the page): HttpOnly, so
 * that the page's script never holds it, and SameSite=Strict, so that
 * no other site's page makes the browser send it. Sessions live in
 * memory (a restart asks to log in again) and end after
 * WEB_SESSION_TTL_S or at logout.
 *
 * Requests that change something must also show that they come from the
 * dashboard's own page: a custom header (WEB_CSRF_HEADER), which a page
 * of another origin cannot send without a CORS preflight that cairnd
 * never grants; an Origin, when the browser sends one, that names the
 * host asked; and a Sec-Fetch-Site, when sent, of "same-origin". Without
 * a token, the host asked must be an address or "localhost", so that a
 * DNS name rebound to this server by another site's page is refused.
 *
 * The sessions are used by the API's thread alone: no lock.
 */
#ifndef CAIRN_WEBAUTH_H
#define CAIRN_WEBAUTH_H

#include <stdbool.h>
#include <stddef.h>

#define WEB_SESSION_COOKIE "cairn_session"
#define WEB_SESSION_ID_LEN 32 /* hex characters: 128 random bits */
#define WEB_SESSION_TTL_S  (12 * 3600)
#define WEB_SESSIONS_MAX   256 /* the oldest is ended for a new one */
#define WEB_CSRF_HEADER    "X-Cairn-Csrf"

struct web_sessions;

/* web_sessions_new returns an empty set (NULL: out of memory);
 * web_sessions_free frees it, NULL being a no-op. */
struct web_sessions *web_sessions_new(void);
void web_sessions_free(struct web_sessions *s);

/* web_session_create writes a new session's id (WEB_SESSION_ID_LEN hex
 * characters and a NUL) into id. Returns false when no random bytes could
 * be had. */
bool web_session_create(struct web_sessions *s, char *id);

/* web_session_valid says whether id names a live session; the check
 * takes the same time whatever id holds. */
bool web_session_valid(struct web_sessions *s, const char *id);

/* web_session_end ends the session id, if it is one. */
void web_session_end(struct web_sessions *s, const char *id);

/* web_cookie copies the value of cookie name of a Cookie header (NULL:
 * none) into buf; false when there is none or it does not fit. */
bool web_cookie(const char *header, const char *name, char *buf, size_t len);

/* web_bearer returns the token of an Authorization header of the Bearer
 * scheme (pointing into header), or NULL. */
const char *web_bearer(const char *header);

/* web_host_is_address says whether a Host header names an IPv4 or IPv6
 * address or localhost, with or without a port. */
bool web_host_is_address(const char *host);

/* web_csrf_check returns NULL when a request that changes something may
 * go on, given its Host, Origin, Sec-Fetch-Site and WEB_CSRF_HEADER
 * headers (each NULL when absent); otherwise why not. */
const char *web_csrf_check(const char *host, const char *origin,
    const char *fetch_site, const char *custom);

#endif /* CAIRN_WEBAUTH_H */
