/*
 * rpc/rpc.h - the request/reply server: an nng rep0 socket with many
 * contexts, each a small state machine driven by its aio callback, that
 * decodes the Request envelope, dispatches through the descriptor protoc-c
 * generates for service Queue, and replies with a Response envelope.
 */
#ifndef CAIRN_RPC_H
#define CAIRN_RPC_H

#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"

/* Zero members take the defaults of the options table (ops/options.c). */
struct rpc_limits {
	size_t max_message; /* envelope bytes (--max-message) */
	size_t max_payload; /* payload, result, details */
	uint32_t
	    max_batch_tasks; /* tasks per Enqueue or batch (--max-batch) */
	int64_t max_wait_ms; /* longest long-poll (--max-wait) */
	uint32_t max_log;    /* entries per run's log (--max-log-entries) */
};

/* TLS of tls+tcp:// listeners (rpc/listen.c): PEM files. */
struct rpc_tls {
	const char *cert_file; /* certificate (chain); required for TLS */
	const char *key_file;  /* its private key; required for TLS */
	const char *ca_file;   /* set: clients must show a certificate that
	                          it signed */
};

struct auth;

struct rpc_config {
	const char *const *listen; /* URLs */
	size_t nlisten;
	struct rpc_limits limits;
	unsigned contexts; /* requests in flight, parked ones included; 0:
	                      the default */
	const char *version;
	const struct auth *auth; /* NULL: no token needed (auth.h) */
	struct rpc_tls tls;
	int64_t send_timeout_ms; /* a reply not taken by then is dropped, so
	                            that a client that never reads cannot
	                            hold contexts; 0: the default */
	const char *store_uri;   /* Backup copies it (rpc/backup.c) */
	const char *backup_dir;  /* where Backup writes; NULL: refused */
};

struct rpc_server;

/* rpc_start opens the socket, listens on every URL and starts serving
 * requests into engine. On failure writes a message into err. */
int rpc_start(struct rpc_server **out, const struct rpc_config *cfg,
    struct engine *engine, char *err, size_t errlen);

/* rpc_stop stops taking requests, lets the engine answer every request it
 * holds, sends those replies, closes the socket and frees the server. The
 * engine is stopped by it but not freed. */
void rpc_stop(struct rpc_server *srv);

#endif /* CAIRN_RPC_H */
