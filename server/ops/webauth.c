/*
 * ops/webauth.c - sessions, cookies and the checks against cross-site
 * requests of the dashboard (webauth.h).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cairn_wire.h"
#include "ops/webauth.h"

struct session {
	char id[WEB_SESSION_ID_LEN + 1]; /* "": a free slot */
	int64_t expires;                 /* monotonic seconds */
};

struct web_sessions {
	struct session s[WEB_SESSIONS_MAX];
};

static int64_t
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t) ts.tv_sec);
}

struct web_sessions *
web_sessions_new(void)
{
	return (calloc(1, sizeof(struct web_sessions)));
}

void
web_sessions_free(struct web_sessions *s)
{
	free(s);
}

bool
web_session_create(struct web_sessions *s, char *id)
{
	uint8_t raw[WEB_SESSION_ID_LEN / 2];
	int64_t now = mono_s();
	struct session *slot = &s->s[0];

	if (!cairn__random_bytes(raw, sizeof(raw))) {
		return (false);
	}
	/* A free or expired slot, else the one that expires first. */
	for (size_t i = 0; i < WEB_SESSIONS_MAX; i++) {
		struct session *c = &s->s[i];
		if (c->id[0] == 0 || c->expires <= now) {
			slot = c;
			break;
		}
		if (c->expires < slot->expires) {
			slot = c;
		}
	}
	for (size_t i = 0; i < sizeof(raw); i++) {
		snprintf(slot->id + 2 * i, 3, "%02x", raw[i]);
	}
	slot->expires = now + WEB_SESSION_TTL_S;
	memcpy(id, slot->id, WEB_SESSION_ID_LEN + 1);
	return (true);
}

/* same compares two ids without an early exit. */
static bool
same(const char *a, const char *b)
{
	unsigned diff = 0;

	for (size_t i = 0; i < WEB_SESSION_ID_LEN; i++) {
		diff |= (unsigned) (uint8_t) a[i] ^ (uint8_t) b[i];
	}
	return (diff == 0);
}

static struct session *
find(struct web_sessions *s, const char *id)
{
	struct session *hit = NULL;
	int64_t now = mono_s();

	if (strlen(id) != WEB_SESSION_ID_LEN) {
		return (NULL);
	}
	for (size_t i = 0; i < WEB_SESSIONS_MAX; i++) {
		struct session *c = &s->s[i];
		if (c->id[0] != 0 && same(c->id, id) && c->expires > now) {
			hit = c;
		}
	}
	return (hit);
}

bool
web_session_valid(struct web_sessions *s, const char *id)
{
	return (find(s, id) != NULL);
}

void
web_session_end(struct web_sessions *s, const char *id)
{
	struct session *c = find(s, id);

	if (c != NULL) {
		memset(c, 0, sizeof(*c));
	}
}

bool
web_cookie(const char *header, const char *name, char *buf, size_t len)
{
	size_t nlen = strlen(name);
	const char *p = header;

	while (p != NULL && *p != 0) {
		while (*p == ' ' || *p == ';') {
			p++;
		}
		const char *end = strchr(p, ';');
		size_t plen = end != NULL ? (size_t) (end - p) : strlen(p);
		if (plen > nlen && strncmp(p, name, nlen) == 0
		    && p[nlen] == '=') {
			size_t vlen = plen - nlen - 1;
			if (vlen >= len) {
				return (false);
			}
			memcpy(buf, p + nlen + 1, vlen);
			buf[vlen] = 0;
			return (true);
		}
		p = end;
	}
	return (false);
}

const char *
web_bearer(const char *header)
{
	if (header == NULL || strncasecmp(header, "Bearer ", 7) != 0) {
		return (NULL);
	}
	header += 7;
	while (*header == ' ') {
		header++;
	}
	return (header);
}

bool
web_host_is_address(const char *host)
{
	char name[64];
	size_t n;

	if (host == NULL) {
		return (false);
	}
	if (host[0] == '[') { /* [v6] or [v6]:port */
		const char *end = strchr(host, ']');
		if (end == NULL || (end[1] != 0 && end[1] != ':')) {
			return (false);
		}
		for (const char *p = host + 1; p < end; p++) {
			if (!isxdigit((unsigned char) *p) && *p != ':'
			    && *p != '.') {
				return (false);
			}
		}
		return (true);
	}
	n = strcspn(host, ":");
	if (n == 0 || n >= sizeof(name)) {
		return (false);
	}
	memcpy(name, host, n);
	name[n] = 0;
	if (strcasecmp(name, "localhost") == 0) {
		return (true);
	}
	/* Dotted decimal: digits and dots alone, as DNS names never are
	 * (a top-level domain is not numeric). */
	return (strspn(name, "0123456789.") == n && strchr(name, '.') != NULL);
}

/* origin_is_host says whether Origin "scheme://HOST" names host. */
static bool
origin_is_host(const char *origin, const char *host)
{
	const char *p = strstr(origin, "://");

	return (p != NULL && host != NULL && strcasecmp(p + 3, host) == 0);
}

const char *
web_csrf_check(const char *host, const char *origin, const char *fetch_site,
    const char *custom)
{
	if (custom == NULL || strcmp(custom, "1") != 0) {
		return ("a request that changes something needs the "
		        "header " WEB_CSRF_HEADER ": 1");
	}
	if (origin != NULL && !origin_is_host(origin, host)) {
		return ("the request comes from a page of another origin");
	}
	if (fetch_site != NULL && strcmp(fetch_site, "same-origin") != 0
	    && strcmp(fetch_site, "none") != 0) {
		return ("the request comes from a page of another site");
	}
	return (NULL);
}
