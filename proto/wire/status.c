/*
 * status.c - names of status codes and task states, and duration parsing.
 * Shared by the client library, the CLI and the server (cairn_common.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cairn_wire.h"

static const char *const status_names[] = {
	[CAIRN_OK] = "OK",
	[CAIRN_CANCELLED] = "CANCELLED",
	[CAIRN_UNKNOWN] = "UNKNOWN",
	[CAIRN_INVALID_ARGUMENT] = "INVALID_ARGUMENT",
	[CAIRN_DEADLINE_EXCEEDED] = "DEADLINE_EXCEEDED",
	[CAIRN_NOT_FOUND] = "NOT_FOUND",
	[CAIRN_ALREADY_EXISTS] = "ALREADY_EXISTS",
	[CAIRN_PERMISSION_DENIED] = "PERMISSION_DENIED",
	[CAIRN_RESOURCE_EXHAUSTED] = "RESOURCE_EXHAUSTED",
	[CAIRN_FAILED_PRECONDITION] = "FAILED_PRECONDITION",
	[CAIRN_ABORTED] = "ABORTED",
	[CAIRN_OUT_OF_RANGE] = "OUT_OF_RANGE",
	[CAIRN_UNIMPLEMENTED] = "UNIMPLEMENTED",
	[CAIRN_INTERNAL] = "INTERNAL",
	[CAIRN_UNAVAILABLE] = "UNAVAILABLE",
	[CAIRN_DATA_LOSS] = "DATA_LOSS",
	[CAIRN_UNAUTHENTICATED] = "UNAUTHENTICATED",
};

const char *
cairn_strerror(int status)
{
	if (status < 0 || status > CAIRN_UNAUTHENTICATED) {
		return ("UNKNOWN");
	}
	return (status_names[status]);
}

static const char *const state_names[] = {
	[CAIRN_STATE_ANY] = "any",
	[CAIRN_PENDING] = "pending",
	[CAIRN_ACTIVE] = "active",
	[CAIRN_SUCCEEDED] = "succeeded",
	[CAIRN_FAILED] = "failed",
	[CAIRN_CANCELED] = "canceled",
};

const char *
cairn_state_name(cairn_state state)
{
	if ((int) state < 0 || state > CAIRN_CANCELED) {
		return ("unknown");
	}
	return (state_names[state]);
}

bool
cairn_state_parse(const char *name, cairn_state *out)
{
	if (name == NULL || name[0] == '\0') {
		*out = CAIRN_STATE_ANY;
		return (true);
	}
	for (int s = CAIRN_STATE_ANY; s <= CAIRN_CANCELED; s++) {
		if (strcasecmp(name, state_names[s]) == 0) {
			*out = (cairn_state) s;
			return (true);
		}
	}
	return (false);
}

bool
cairn_parse_duration(const char *text, int64_t *ms)
{
	static const struct {
		const char *suffix;
		int64_t scale;
	} units[] = {
		{ "ms", 1 },
		{ "s", 1000 },
		{ "m", 60 * 1000 },
		{ "h", 3600 * 1000 },
		{ "d", 24 * 3600 * 1000 },
		{ "", 1 },
	};
	char *end;

	if (text == NULL || !isdigit((unsigned char) text[0])) {
		return (false); /* refuses "-5s", "", " 5s" */
	}
	errno = 0;
	long long n = strtoll(text, &end, 10);
	if (errno != 0) {
		return (false);
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) != 0) {
			continue;
		}
		if (n > INT64_MAX / units[i].scale) {
			return (false);
		}
		*ms = (int64_t) n * units[i].scale;
		return (true);
	}
	return (false);
}
