/*
 * ops/auth.h - shared-secret tokens: the set that --token-file names, and the
 * check made on every request before it reaches the engine.
 *
 * Tokens are secrets: nothing here logs them, and the check takes the same
 * time whatever the token sent and however much of it matches.
 */
#ifndef CAIRN_AUTH_H
#define CAIRN_AUTH_H

#include <stdbool.h>
#include <stddef.h>

/* Longest token accepted in a token file or in a request. */
#define AUTH_TOKEN_MAX 256

struct auth;

/*
 * auth_load reads path: one token per line; blank lines and lines that
 * start with '#' are skipped, and spaces, tabs and a CR around a token are
 * trimmed. A file with no token, or a token longer than AUTH_TOKEN_MAX, is
 * an error (an empty set would lock every client out). On success *out
 * owns the set (auth_free). On failure writes a message into err; the
 * message never quotes a token.
 */
int auth_load(const char *path, struct auth **out, char *err, size_t errlen);

/* auth_free frees the set and wipes the tokens; NULL is a no-op. */
void auth_free(struct auth *a);

/* auth_count returns how many tokens the set holds. */
size_t auth_count(const struct auth *a);

/*
 * auth_check says whether token (NULL counts as "") is one of the set's.
 * a NULL set accepts every request: authentication is off. Every token of
 * the set is compared over AUTH_TOKEN_MAX bytes without an early exit, so
 * the time taken does not tell how close a guess was.
 */
bool auth_check(const struct auth *a, const char *token);

#endif /* CAIRN_AUTH_H */
