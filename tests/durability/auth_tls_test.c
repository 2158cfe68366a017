/*
 * auth_tls_test.c - --token-file and tls+tcp:// listeners, end to end:
 * requests without a valid token are refused before anything else looks
 * at them and tokens never reach the log; TLS with the server verified by
 * its CA, and with client certificates required (--tls-ca). Certificates
 * are made by openssl for each run (gen_certs.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dur_util.h"
#include "raw.h"

#define TOKEN_A "s3cret-token-alpha-0123456789"
#define TOKEN_B "s3cret-token-bravo-9876543210"

struct fx {
	struct dsrv srv;
	char certs[160]; /* DIR/certs */
	char path[8][320];
};

static const char *
cert(struct fx *f, int slot, const char *name)
{
	snprintf(
	    f->path[slot], sizeof(f->path[slot]), "%s/%s", f->certs, name);
	return (f->path[slot]);
}

static int
setup(void **state, const char *scheme)
{
	struct fx *f = calloc(1, sizeof(*f));
	char cmd[512];

	if (dsrv_init(&f->srv, "CAIRND", scheme) != 0) {
		fail_msg("cannot prepare cairnd");
	}
	snprintf(f->certs, sizeof(f->certs), "%.128s/certs", f->srv.dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s' && bash '%s' '%s'", f->certs,
	    getenv("GEN_CERTS"), f->certs);
	if (system(cmd) != 0) {
		fail_msg("cannot make certificates with openssl");
	}
	*state = f;
	return (0);
}

static int
setup_tcp(void **state)
{
	return (setup(state, "tcp"));
}

static int
setup_tls(void **state)
{
	return (setup(state, "tls+tcp"));
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	dsrv_cleanup(&f->srv);
	free(f);
	return (0);
}

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static int
open_with(struct fx *f, const cairn_client_options *o, cairn_client **c)
{
	char err[256];
	int rv = cairn_client_open(c, f->srv.url, o, err, sizeof(err));

	if (rv != CAIRN_OK) {
		print_message("open: %s: %s\n", cairn_strerror(rv), err);
	}
	return (rv);
}

static uint64_t
count_tasks(struct fx *f)
{
	char *n = dsrv_sql(&f->srv, "SELECT count(*) FROM tasks");
	uint64_t v;

	assert_non_null(n);
	v = strtoull(n, NULL, 10);
	free(n);
	return (v);
}

static void
tokens_are_required_and_never_logged(void **state)
{
	struct fx *f = *state;
	char tokens[320], msg[256];
	const char *args[]
	    = { "--token-file", tokens, "--log-level", "debug", NULL };
	cairn_client *none, *wrong, *a, *b;
	cairn_client_options o = { 0 };
	cairn_task_spec spec
	    = { .queue = "q", .payload = "x", .payload_len = 1 };
	cairn_enqueue_result r;

	snprintf(tokens, sizeof(tokens), "%s/tokens", f->srv.dir);
	write_file(tokens, "# workers\n  " TOKEN_A "  \n\n" TOKEN_B "\r\n");
	f->srv.opts.token = TOKEN_A;
	assert_int_equal(dsrv_start(&f->srv, args), 0);

	assert_int_equal(open_with(f, &o, &none), CAIRN_OK);
	o.token = "s3cret-token-alpha-012345678"; /* one character short */
	assert_int_equal(open_with(f, &o, &wrong), CAIRN_OK);
	o.token = TOKEN_A;
	assert_int_equal(open_with(f, &o, &a), CAIRN_OK);
	o.token = TOKEN_B;
	assert_int_equal(open_with(f, &o, &b), CAIRN_OK);

	assert_int_equal(cairn_ping(none, NULL, NULL), CAIRN_UNAUTHENTICATED);
	assert_int_equal(
	    cairn_enqueue(none, &spec, 1, &r), CAIRN_UNAUTHENTICATED);
	assert_int_equal(
	    cairn_enqueue(wrong, &spec, 1, &r), CAIRN_UNAUTHENTICATED);
	assert_non_null(strstr(cairn_client_errmsg(wrong), "token"));
	assert_int_equal(count_tasks(f), 0);
	assert_int_equal(cairn_enqueue(a, &spec, 1, &r), CAIRN_OK);
	assert_int_equal(cairn_enqueue(b, &spec, 1, &r), CAIRN_OK);
	assert_int_equal(count_tasks(f), 2);

	/* Refused before the body is even decoded: a malformed Enqueue
	 * without a token is UNAUTHENTICATED, not INVALID_ARGUMENT. */
	Cairn__V1__PingRequest ping = CAIRN__V1__PING_REQUEST__INIT;
	size_t len;
	uint8_t *env = raw_envelope("Enqueue", &ping.base, NULL, NULL, &len);
	env[len - 1] ^= 0xff; /* the body is now garbage */
	assert_int_equal(
	    raw_call(f->srv.url, env, len, 5000, NULL, NULL, msg, sizeof(msg)),
	    CAIRN_UNAUTHENTICATED);
	free(env);
	env = raw_envelope("NoSuchMethod", NULL, "guess", NULL, &len);
	assert_int_equal(
	    raw_call(f->srv.url, env, len, 5000, NULL, NULL, msg, sizeof(msg)),
	    CAIRN_UNAUTHENTICATED);
	free(env);

	cairn_client_close(none);
	cairn_client_close(wrong);
	cairn_client_close(a);
	cairn_client_close(b);
	assert_int_equal(dsrv_stop(&f->srv), 0);
	assert_true(dsrv_log_has(&f->srv, "token authentication on (2"));
	assert_false(dsrv_log_has(&f->srv, "s3cret"));
}

static void
bad_token_files_stop_the_start(void **state)
{
	struct fx *f = *state;
	char tokens[320], longer[400];
	const char *args[] = { "--token-file", tokens, NULL };

	snprintf(tokens, sizeof(tokens), "%s/empty", f->srv.dir);
	write_file(tokens, "# nothing but a comment\n\n");
	assert_int_equal(dsrv_spawn(&f->srv, args), 0);
	assert_int_equal(dsrv_wait_exit(&f->srv, 10000), 1);
	assert_true(dsrv_log_has(&f->srv, "holds no token"));

	memset(longer, 'k', 300);
	longer[300] = '\n';
	longer[301] = 0;
	write_file(tokens, longer);
	assert_int_equal(dsrv_spawn(&f->srv, args), 0);
	assert_int_equal(dsrv_wait_exit(&f->srv, 10000), 1);
	assert_true(dsrv_log_has(&f->srv, "at most 256"));
	assert_false(dsrv_log_has(&f->srv, "kkkkkkkk"));

	snprintf(tokens, sizeof(tokens), "%s/missing", f->srv.dir);
	assert_int_equal(dsrv_spawn(&f->srv, args), 0);
	assert_int_equal(dsrv_wait_exit(&f->srv, 10000), 1);
}

static void
tls_verifies_the_server(void **state)
{
	struct fx *f = *state;
	const char *args[] = { "--tls-cert", cert(f, 0, "server.pem"),
		"--tls-key", cert(f, 1, "server.key"), NULL };
	cairn_client_options o = { .timeout_ms = 3000 };
	cairn_client *c;
	cairn_task_spec spec
	    = { .queue = "q", .payload = "x", .payload_len = 1 };
	cairn_enqueue_result r;

	f->srv.opts.tls_ca_file = cert(f, 2, "ca.pem");
	assert_int_equal(dsrv_start(&f->srv, args), 0);

	o.tls_ca_file = cert(f, 2, "ca.pem");
	assert_int_equal(open_with(f, &o, &c), CAIRN_OK);
	assert_int_equal(cairn_enqueue(c, &spec, 1, &r), CAIRN_OK);
	cairn_client_close(c);

	/* A server whose certificate the client's CAs did not sign. */
	o.tls_ca_file = cert(f, 3, "rogue-ca.pem");
	assert_int_equal(open_with(f, &o, &c), CAIRN_UNAVAILABLE);
	/* The right CA, but the certificate is not for that name. */
	o.tls_ca_file = cert(f, 2, "ca.pem");
	o.tls_server_name = "cairn.example.com";
	assert_int_equal(open_with(f, &o, &c), CAIRN_UNAVAILABLE);
	/* Plain TCP to a TLS listener gets nowhere. */
	char plain[128];
	snprintf(plain, sizeof(plain), "tcp://localhost:%d", f->srv.port);
	o.tls_server_name = NULL;
	assert_int_equal(
	    cairn_client_open(&c, plain, &o, NULL, 0), CAIRN_UNAVAILABLE);
	/* A key without its certificate is a usage error. */
	o.tls_key_file = cert(f, 4, "client.key");
	assert_int_equal(open_with(f, &o, &c), CAIRN_INVALID_ARGUMENT);
}

static void
tls_requires_client_certificates(void **state)
{
	struct fx *f = *state;
	char tokens[320];
	const char *args[] = { "--tls-cert", cert(f, 0, "server.pem"),
		"--tls-key", cert(f, 1, "server.key"), "--tls-ca",
		cert(f, 2, "ca.pem"), "--token-file", tokens, NULL };
	cairn_client_options o = { .timeout_ms = 3000, .token = TOKEN_A };
	cairn_client *c;
	char cmd[2048];

	snprintf(tokens, sizeof(tokens), "%s/tokens", f->srv.dir);
	write_file(tokens, TOKEN_A "\n");
	f->srv.opts = (cairn_client_options) { .token = TOKEN_A,
		.tls_ca_file = cert(f, 2, "ca.pem"),
		.tls_cert_file = cert(f, 3, "client.pem"),
		.tls_key_file = cert(f, 4, "client.key") };
	assert_int_equal(dsrv_start(&f->srv, args), 0);

	o.tls_ca_file = cert(f, 2, "ca.pem");
	/* No certificate: the handshake fails. */
	assert_int_not_equal(open_with(f, &o, &c), CAIRN_OK);
	/* A certificate from another CA. */
	o.tls_cert_file = cert(f, 5, "rogue.pem");
	o.tls_key_file = cert(f, 6, "rogue.key");
	assert_int_not_equal(open_with(f, &o, &c), CAIRN_OK);
	/* The right one. */
	o.tls_cert_file = cert(f, 3, "client.pem");
	o.tls_key_file = cert(f, 4, "client.key");
	assert_int_equal(open_with(f, &o, &c), CAIRN_OK);
	assert_int_equal(cairn_ping(c, NULL, NULL), CAIRN_OK);
	cairn_client_close(c);

	/* The CLI's flags, with the token from the environment. */
	snprintf(cmd, sizeof(cmd),
	    "CAIRN_TOKEN=" TOKEN_A " '%s' --server '%s' --tls-ca '%s' "
	    "--tls-cert '%s' --tls-key '%s' ping >/dev/null",
	    getenv("CAIRN_CLI"), f->srv.url, cert(f, 2, "ca.pem"),
	    cert(f, 3, "client.pem"), cert(f, 4, "client.key"));
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd),
	    "CAIRN_TOKEN=" TOKEN_A " '%s' --timeout 2s --server '%s' "
	    "--tls-ca '%s' ping 2>/dev/null",
	    getenv("CAIRN_CLI"), f->srv.url, cert(f, 2, "ca.pem"));
	assert_int_not_equal(system(cmd), 0);
}

static void
tls_listener_needs_a_certificate(void **state)
{
	struct fx *f = *state;
	const char *args[] = { "--tls-key", cert(f, 1, "server.key"), NULL };

	assert_int_equal(dsrv_spawn(&f->srv, args), 0);
	assert_int_equal(dsrv_wait_exit(&f->srv, 10000), 1);
	assert_true(dsrv_log_has(&f->srv, "needs --tls-cert and --tls-key"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    tokens_are_required_and_never_logged, setup_tcp, teardown),
		cmocka_unit_test_setup_teardown(
		    bad_token_files_stop_the_start, setup_tcp, teardown),
		cmocka_unit_test_setup_teardown(
		    tls_verifies_the_server, setup_tls, teardown),
		cmocka_unit_test_setup_teardown(
		    tls_requires_client_certificates, setup_tls, teardown),
		cmocka_unit_test_setup_teardown(
		    tls_listener_needs_a_certificate, setup_tls, teardown),
	};
	return (cmocka_run_group_tests_name("auth_tls", tests, NULL, NULL));
}
