/*
 * rpc/dispatch.c - a request's method, found in the descriptor that
 * protoc-c generates for service Queue, and its handler called. The
 * service table names every handler (rpc/handlers.h): a new rpc in
 * cairn.proto needs only its handler.
 */
#include "rpc/handlers.h"

static Cairn__V1__Queue_Service queue_service = CAIRN__V1__QUEUE__INIT(rpc_);

void
rpc_dispatch(struct rpc_ctx *c)
{
	const ProtobufCServiceDescriptor *d = &cairn__v1__queue__descriptor;
	const ProtobufCMethodDescriptor *m;
	const char *name = c->req->method;

	if (c->req->deadline_ms < 0) {
		rpc_refuse(c, CAIRN_INVALID_ARGUMENT, "deadline_ms: negative");
		return;
	}
	m = protobuf_c_service_descriptor_get_method_by_name(d, name);
	if (m == NULL) {
		rpc_refuse(c, CAIRN_UNIMPLEMENTED,
		    "unknown method '%.64s' (service cairn.v1.Queue)", name);
		return;
	}
	c->body = protobuf_c_message_unpack(
	    m->input, NULL, c->req->body.len, c->req->body.data);
	if (c->body == NULL) {
		rpc_refuse(c, CAIRN_INVALID_ARGUMENT, "malformed %s body",
		    m->input->name);
		return;
	}
	queue_service.base.invoke(&queue_service.base,
	    (unsigned) (m - d->methods), c->body, rpc_reply, c);
}
