/*
 * rpc_ops.c - the operator's rpcs: Backup.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define BACKUP_DEFAULT_WAIT_MS (3600 * 1000)

int
cairn_backup(cairn_client *c, const char *file, int64_t wait_ms, char **path,
    uint64_t *bytes)
{
	Cairn__V1__BackupRequest req = CAIRN__V1__BACKUP_REQUEST__INIT;
	Cairn__V1__BackupResponse *resp;
	ProtobufCMessage *m;
	char *p = NULL;
	int rv;

	if (c == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	if (file == NULL || wait_ms < 0) {
		return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		    "cairn_backup: %s",
		    file == NULL ? "file is NULL" : "wait_ms is negative"));
	}
	req.file = (char *) file;
	/* Not mutating: a Backup that arrives twice makes the second one
	 * fail with ALREADY_EXISTS, and the store is not changed. */
	rv = cairn__call(c, "Backup", &req.base,
	    wait_ms > 0 ? wait_ms : BACKUP_DEFAULT_WAIT_MS, 0, &m);
	if (rv != CAIRN_OK) {
		return (rv);
	}
	resp = (Cairn__V1__BackupResponse *) m;
	if (path != NULL && (p = strdup(resp->path)) == NULL) {
		protobuf_c_message_free_unpacked(m, NULL);
		return (cairn__fail(c, CAIRN_RESOURCE_EXHAUSTED,
		    "out of memory reading a Backup reply"));
	}
	if (path != NULL) {
		*path = p;
	}
	if (bytes != NULL) {
		*bytes = resp->bytes;
	}
	protobuf_c_message_free_unpacked(m, NULL);
	return (CAIRN_OK);
}
