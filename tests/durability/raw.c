/*
 * raw.c - requests made by hand over a plain nng REQ socket.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "raw.h"

uint8_t *
raw_envelope(const char *method, const ProtobufCMessage *body,
    const char *token, const char *request_id, size_t *len)
{
	Cairn__V1__Request env = CAIRN__V1__REQUEST__INIT;
	uint8_t *b = NULL, *out;
	size_t blen
	    = body != NULL ? protobuf_c_message_get_packed_size(body) : 0;

	if (blen > 0) {
		b = malloc(blen);
		protobuf_c_message_pack(body, b);
	}
	env.method = (char *) method;
	env.body.data = b;
	env.body.len = blen;
	env.token = (char *) (token != NULL ? token : "");
	env.request_id = (char *) (request_id != NULL ? request_id : "");
	*len = cairn__v1__request__get_packed_size(&env);
	out = malloc(*len > 0 ? *len : 1);
	cairn__v1__request__pack(&env, out);
	free(b);
	return (out);
}

int
raw_call(const char *url, const uint8_t *env, size_t len, int ms,
    const ProtobufCMessageDescriptor *desc, ProtobufCMessage **resp, char *msg,
    size_t msglen)
{
	nng_socket sock;
	nng_msg *m;
	Cairn__V1__Response *r;
	int code = -1;

	if (nng_req0_open(&sock) != 0) {
		return (-1);
	}
	nng_socket_set_ms(sock, NNG_OPT_RECVTIMEO, ms);
	nng_socket_set_ms(sock, NNG_OPT_SENDTIMEO, ms);
	/* One attempt: a resend by nng would hide what the test looks at. */
	nng_socket_set_ms(sock, NNG_OPT_REQ_RESENDTIME, ms + 60000);
	nng_socket_set_size(sock, NNG_OPT_RECVMAXSZ, 0);
	if (nng_dial(sock, url, NULL, 0) != 0 || nng_msg_alloc(&m, 0) != 0) {
		nng_close(sock);
		return (-1);
	}
	nng_msg_append(m, env, len);
	if (nng_sendmsg(sock, m, 0) != 0) {
		nng_msg_free(m);
		nng_close(sock);
		return (-1);
	}
	if (nng_recvmsg(sock, &m, 0) != 0) {
		nng_close(sock);
		return (-1);
	}
	r = cairn__v1__response__unpack(NULL, nng_msg_len(m), nng_msg_body(m));
	nng_msg_free(m);
	nng_close(sock);
	if (r == NULL) {
		return (-1);
	}
	code = (int) r->code;
	if (msg != NULL) {
		snprintf(msg, msglen, "%s", r->message);
	}
	if (resp != NULL) {
		*resp = code == 0 && desc != NULL ? protobuf_c_message_unpack(
		            desc, NULL, r->body.len, r->body.data)
		                                  : NULL;
	}
	cairn__v1__response__free_unpacked(r, NULL);
	return (code);
}
