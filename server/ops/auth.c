/*
 * ops/auth.c - the token set of --token-file and its constant-time check.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/auth.h"
#include "cairn_wire.h"

/* A token padded with zeros to a fixed size, and its length. */
struct auth_token {
	unsigned char b[AUTH_TOKEN_MAX];
	size_t len;
};

struct auth {
	struct auth_token *tokens;
	size_t n;
};

/* wipe zeroes memory that held secrets in a way the compiler keeps. */
static void
wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n-- > 0) {
		*v++ = 0;
	}
}

void
auth_free(struct auth *a)
{
	if (a == NULL) {
		return;
	}
	wipe(a->tokens, a->n * sizeof(*a->tokens));
	free(a->tokens);
	free(a);
}

size_t
auth_count(const struct auth *a)
{
	return (a != NULL ? a->n : 0);
}

/* add appends the token in line (trimmed, not NUL-terminated). */
static int
add(struct auth *a, const char *s, size_t len)
{
	struct auth_token *grown;

	grown = realloc(a->tokens, (a->n + 1) * sizeof(*grown));
	if (grown == NULL) {
		return (CAIRN_RESOURCE_EXHAUSTED);
	}
	a->tokens = grown;
	memset(&a->tokens[a->n], 0, sizeof(a->tokens[0]));
	memcpy(a->tokens[a->n].b, s, len);
	a->tokens[a->n++].len = len;
	return (CAIRN_OK);
}

/* parse_line adds the token of one line; lineno names it in messages. */
static int
parse_line(struct auth *a, char *line, unsigned lineno, const char *path,
    char *err, size_t errlen)
{
	size_t len = strlen(line);

	while (len > 0 && strchr(" \t\r\n", line[len - 1]) != NULL) {
		line[--len] = 0;
	}
	while (*line == ' ' || *line == '\t') {
		line++;
		len--;
	}
	if (len == 0 || line[0] == '#') {
		return (CAIRN_OK);
	}
	if (len > AUTH_TOKEN_MAX) {
		snprintf(err, errlen,
		    "%s:%u: a token has at most %d characters", path, lineno,
		    AUTH_TOKEN_MAX);
		return (CAIRN_INVALID_ARGUMENT);
	}
	if (add(a, line, len) != CAIRN_OK) {
		snprintf(err, errlen, "%s: out of memory", path);
		return (CAIRN_RESOURCE_EXHAUSTED);
	}
	return (CAIRN_OK);
}

int
auth_load(const char *path, struct auth **out, char *err, size_t errlen)
{
	char line[AUTH_TOKEN_MAX + 64];
	unsigned lineno = 0;
	struct auth *a;
	FILE *f;
	int rv = CAIRN_OK;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "cannot read token file %s: %s", path,
		    strerror(errno));
		return (CAIRN_INVALID_ARGUMENT);
	}
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		fclose(f);
		snprintf(err, errlen, "out of memory");
		return (CAIRN_RESOURCE_EXHAUSTED);
	}
	while (rv == CAIRN_OK && fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen,
			    "%s:%u: a token has at most %d characters", path,
			    lineno, AUTH_TOKEN_MAX);
			rv = CAIRN_INVALID_ARGUMENT;
			break;
		}
		rv = parse_line(a, line, lineno, path, err, errlen);
	}
	wipe(line, sizeof(line));
	fclose(f);
	if (rv == CAIRN_OK && a->n == 0) {
		snprintf(err, errlen, "token file %s holds no token", path);
		rv = CAIRN_INVALID_ARGUMENT;
	}
	if (rv != CAIRN_OK) {
		auth_free(a);
		return (rv);
	}
	*out = a;
	return (CAIRN_OK);
}

bool
auth_check(const struct auth *a, const char *token)
{
	unsigned char given[AUTH_TOKEN_MAX];
	size_t len;
	unsigned ok = 0;

	if (a == NULL) {
		return (true);
	}
	len = token != NULL ? strnlen(token, AUTH_TOKEN_MAX + 1) : 0;
	memset(given, 0, sizeof(given));
	if (len > 0 && len <= AUTH_TOKEN_MAX) {
		memcpy(given, token, len);
	}
	/* Every byte of every token is looked at: no branch depends on
	 * the secret. An empty or oversized token matches nothing, because
	 * no stored token is empty and each has its length compared. */
	for (size_t i = 0; i < a->n; i++) {
		unsigned diff = 0;
		for (size_t k = 0; k < AUTH_TOKEN_MAX; k++) {
			diff |= (unsigned) (given[k] ^ a->tokens[i].b[k]);
		}
		diff |= (unsigned) (len ^ a->tokens[i].len);
		/* 1 when diff is 0, without a branch. */
		ok |= 1u & ((diff - 1u) >> (sizeof(unsigned) * 8 - 1));
	}
	wipe(given, sizeof(given));
	return (ok != 0);
}
