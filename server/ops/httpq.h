/*
 * ops/httpq.h - a thread of ours that serves, in their order, the HTTP
 * requests that must wait for the engine (nng's threads, which also run
 * the rpc server, hand them over and never wait); and the replies that
 * every HTTP handler of cairnd sends.
 */
#ifndef CAIRN_HTTPQ_H
#define CAIRN_HTTPQ_H

#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

struct http_queue;

/* serve answers one request (aio is nng's handler aio; kind is what
 * http_queue_put was given), on the queue's thread. */
typedef void (*http_serve_fn)(void *arg, nng_aio *aio, int kind);

/* http_queue_start starts the thread. Returns 0, or -1 when it cannot;
 * *out is the caller's (http_queue_stop). */
int http_queue_start(struct http_queue **out, http_serve_fn serve, void *arg);

/* http_queue_put hands aio to the thread; once the queue stops, the
 * request is answered 503 at once. Called from nng's handler callbacks. */
void http_queue_put(struct http_queue *q, nng_aio *aio, int kind);

/* http_queue_stop answers what is queued with 503 and joins the thread;
 * it must run before nng frees the connections the requests came on
 * (nng_http_server_stop). Requests that arrive later are answered 503 by
 * http_queue_put. http_queue_free frees q once nng calls no handler any
 * more. NULL is a no-op for both. */
void http_queue_stop(struct http_queue *q);
void http_queue_free(struct http_queue *q);

/* http_reply answers aio with status and a body of type; headers (NULL:
 * none) are name, value, ..., NULL. */
void http_reply(nng_aio *aio, uint16_t status, const char *type,
    const void *body, size_t len, const char *const *headers);

/* http_reply_text answers with a text/plain body. */
void http_reply_text(nng_aio *aio, uint16_t status, const char *text);

#endif /* CAIRN_HTTPQ_H */
