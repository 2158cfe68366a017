/*
 * raw.h - requests made by hand over a plain nng REQ socket, for tests
 * that need to control the envelope (its request id, its token) or send
 * the same bytes twice.
 */
#ifndef CAIRN_RAW_H
#define CAIRN_RAW_H

#include <stddef.h>
#include <stdint.h>

#include "cairn.pb-c.h"

/* raw_envelope packs a Request envelope around body (the packed method
 * request). token and request_id may be NULL. Returns malloc'd bytes. */
uint8_t *raw_envelope(const char *method, const ProtobufCMessage *body,
    const char *token, const char *request_id, size_t *len);

/* raw_call sends env on a new REQ socket to url and waits up to ms for the
 * reply. Returns the reply's code, or -1 when there was none. When resp is
 * not NULL, the reply's body (the method's response) is unpacked with the
 * descriptor desc into *resp (free with protobuf_c_message_free_unpacked).
 * msg (may be NULL) gets the reply's message. */
int raw_call(const char *url, const uint8_t *env, size_t len, int ms,
    const ProtobufCMessageDescriptor *desc, ProtobufCMessage **resp, char *msg,
    size_t msglen);

#endif /* CAIRN_RAW_H */
