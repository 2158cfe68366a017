/*
 * cairn_common.h - the part of Cairn's C API that the client library shares
 * with the server: status codes, task states and durations, with their
 * names. Installed beside cairn.h, which includes it; include cairn.h.
 */
#ifndef CAIRN_COMMON_H
#define CAIRN_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(CAIRN_BUILDING)
#define CAIRN_API __attribute__((visibility("default")))
#else
#define CAIRN_API
#endif

/*
 * Status codes, numbered as gRPC's and as cairn.v1.Code on the wire. The
 * server and the client use this one enum.
 */
typedef enum cairn_status {
	CAIRN_OK = 0,
	CAIRN_CANCELLED = 1,
	CAIRN_UNKNOWN = 2,
	CAIRN_INVALID_ARGUMENT = 3,
	CAIRN_DEADLINE_EXCEEDED = 4,
	CAIRN_NOT_FOUND = 5,
	CAIRN_ALREADY_EXISTS = 6,
	CAIRN_PERMISSION_DENIED = 7,
	CAIRN_RESOURCE_EXHAUSTED = 8,
	CAIRN_FAILED_PRECONDITION = 9,
	CAIRN_ABORTED = 10,
	CAIRN_OUT_OF_RANGE = 11,
	CAIRN_UNIMPLEMENTED = 12,
	CAIRN_INTERNAL = 13,
	CAIRN_UNAVAILABLE = 14,
	CAIRN_DATA_LOSS = 15,
	CAIRN_UNAUTHENTICATED = 16,
} cairn_status;

/* cairn_strerror returns a static name for a status ("NOT_FOUND"). */
CAIRN_API const char *cairn_strerror(int status);

typedef enum cairn_state {
	CAIRN_STATE_ANY = 0, /* in filters only */
	CAIRN_PENDING = 1,
	CAIRN_ACTIVE = 2,
	CAIRN_SUCCEEDED = 3,
	CAIRN_FAILED = 4,
	CAIRN_CANCELED = 5,
} cairn_state;

/* cairn_state_name returns "pending", "active", ... or "any". */
CAIRN_API const char *cairn_state_name(cairn_state state);

/* cairn_state_parse sets *out from a lower-case name; returns false if the
 * name is unknown ("any" and "" give CAIRN_STATE_ANY). */
CAIRN_API bool cairn_state_parse(const char *name, cairn_state *out);

/* cairn_parse_duration reads "250ms", "30s", "5m", "2h", "1d" or a bare
 * number of milliseconds into *ms. Returns false on anything else,
 * including a negative value. */
CAIRN_API bool cairn_parse_duration(const char *text, int64_t *ms);

#ifdef __cplusplus
}
#endif

#endif /* CAIRN_COMMON_H */
