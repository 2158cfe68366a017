/*
 * rpc/listen.c - listeners of the rpc socket: plain ones, and tls+tcp://
 * ones with the server's certificate and, when a CA is given, required
 * client certificates (nng's TLS, built on mbed TLS in Debian).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/internal.h"

#include <nng/supplemental/tls/tls.h>

/* read_pem returns the NUL-terminated contents of path (caller frees),
 * or NULL with a message in err. */
static char *
read_pem(const char *path, const char *what, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long len;

	if (f == NULL) {
		snprintf(err, errlen, "cannot read the TLS %s %s: %s", what,
		    path, strerror(errno));
		return (NULL);
	}
	if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0
	    || len > (1 << 20) || fseek(f, 0, SEEK_SET) != 0
	    || (buf = malloc((size_t) len + 1)) == NULL
	    || fread(buf, 1, (size_t) len, f) != (size_t) len) {
		snprintf(err, errlen, "cannot read the TLS %s %s", what, path);
		free(buf);
		fclose(f);
		return (NULL);
	}
	buf[len] = 0;
	fclose(f);
	return (buf);
}

/* tls_config builds the server's TLS configuration (*out, a reference
 * the caller drops with nng_tls_config_free). */
static int
tls_config(
    const struct rpc_tls *t, nng_tls_config **out, char *err, size_t errlen)
{
	nng_tls_config *cfg = NULL;
	char *cert = NULL, *key = NULL;
	int rv;

	if (t->cert_file == NULL || t->key_file == NULL) {
		snprintf(err, errlen,
		    "a tls+tcp:// listener needs --tls-cert and --tls-key");
		return (CAIRN_INVALID_ARGUMENT);
	}
	if ((cert = read_pem(t->cert_file, "certificate", err, errlen)) == NULL
	    || (key = read_pem(t->key_file, "key", err, errlen)) == NULL) {
		rv = CAIRN_INVALID_ARGUMENT;
		goto out;
	}
	if ((rv = nng_tls_config_alloc(&cfg, NNG_TLS_MODE_SERVER)) != 0) {
		snprintf(
		    err, errlen, "TLS is not available: %s", nng_strerror(rv));
		rv = CAIRN_INTERNAL;
		goto out;
	}
	if ((rv = nng_tls_config_own_cert(cfg, cert, key, NULL)) != 0) {
		snprintf(err, errlen,
		    "--tls-cert %s / --tls-key %s: not a certificate and its "
		    "key (%s)",
		    t->cert_file, t->key_file, nng_strerror(rv));
		rv = CAIRN_INVALID_ARGUMENT;
		goto out;
	}
	if (t->ca_file != NULL
	    && ((rv = nng_tls_config_ca_file(cfg, t->ca_file)) != 0
	        || (rv = nng_tls_config_auth_mode(
	                cfg, NNG_TLS_AUTH_MODE_REQUIRED))
	            != 0)) {
		snprintf(err, errlen, "--tls-ca %s: %s", t->ca_file,
		    nng_strerror(rv));
		rv = CAIRN_INVALID_ARGUMENT;
		goto out;
	}
	*out = cfg;
	cfg = NULL;
	rv = CAIRN_OK;
out:
	if (cfg != NULL) {
		nng_tls_config_free(cfg);
	}
	/* The key is a secret: do not leave it in freed memory. */
	if (key != NULL) {
		memset(key, 0, strlen(key));
	}
	free(key);
	free(cert);
	return (rv);
}

int
rpc_listen(nng_socket sock, const char *url, const struct rpc_config *cfg,
    char *err, size_t errlen)
{
	nng_listener l;
	nng_tls_config *tls = NULL;
	int rv;

	if ((rv = nng_listener_create(&l, sock, url)) != 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", url,
		    nng_strerror(rv));
		return (CAIRN_INVALID_ARGUMENT);
	}
	if (strncmp(url, "tls+", 4) == 0) {
		if ((rv = tls_config(&cfg->tls, &tls, err, errlen)) != 0) {
			nng_listener_close(l);
			return (rv);
		}
		rv = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, tls);
		nng_tls_config_free(tls); /* the listener holds its own */
		if (rv != 0) {
			snprintf(err, errlen, "cannot set TLS on %s: %s", url,
			    nng_strerror(rv));
			nng_listener_close(l);
			return (CAIRN_INTERNAL);
		}
	}
	if ((rv = nng_listener_start(l, 0)) != 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", url,
		    nng_strerror(rv));
		nng_listener_close(l);
		return (rv == NNG_EADDRINUSE ? CAIRN_UNAVAILABLE
		                             : CAIRN_INVALID_ARGUMENT);
	}
	return (CAIRN_OK);
}
