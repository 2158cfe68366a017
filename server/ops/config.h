/*
 * ops/config.h - cairnd's config file and --check-config.
 *
 * A config file holds `key = value` lines, keys named as the flags
 * without "--" (max-batch, or max_batch), `#` starting a comment line, and
 * `listen` repeatable. Its values are the lowest but the defaults: the
 * environment overrides them and flags override both.
 */
#ifndef CAIRN_CONFIG_H
#define CAIRN_CONFIG_H

#include <stddef.h>
#include <stdio.h>

struct options;

/* config_apply reads the file named by --config in argv, or else by
 * CAIRN_CONFIG, when there is one, and applies its options to o. Its text
 * stays allocated for the life of the process (o points into it). Returns
 * 0, or -1 with "FILE:LINE: message" in err. */
int config_apply(
    struct options *o, int argc, char **argv, char *err, size_t errlen);

/* config_check validates what parsing cannot: level and format names, the
 * store URI's scheme, the addresses, and that named files can be read.
 * Returns 0, or -1 with the first problem in err. */
int config_check(const struct options *o, char *err, size_t errlen);

/* config_print writes the effective options to f as a config file, with
 * defaults filled in and secrets (passwords in URIs) masked. */
void config_print(const struct options *o, FILE *f);

/* config_redact_uri copies uri into buf with a password in it (user:PW@
 * or password=PW) replaced by "***", for logs and printed configs. */
void config_redact_uri(const char *uri, char *buf, size_t len);

/* config_check_main implements --check-config: prints the effective
 * options to stdout, and the first problem to stderr. Returns the exit
 * status: 0 valid, 2 not. */
int config_check_main(const struct options *o);

/* config_backup_dir returns where backups go: --backup-dir, or else the
 * directory of a sqlite: store (written into buf), or else NULL. */
const char *config_backup_dir(const struct options *o, char *buf, size_t len);

/* config_log_start logs the start-up: version, store (no password),
 * durability, and every address served (http: NULL when off). */
void config_log_start(
    const struct options *o, const char *version, const char *http);

#endif /* CAIRN_CONFIG_H */
