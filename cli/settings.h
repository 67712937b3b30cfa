/* settings.h - where the CLI finds the service URL and its API key.
 *
 * Precedence: --url > CODEINSIGHT_URL / CODEINSIGHT_API_KEY > the config file
 * $XDG_CONFIG_HOME/codeinsight/config (default ~/.config/codeinsight/config),
 * which `codeinsight login` writes:
 *
 *     # written by codeinsight login
 *     url = http://127.0.0.1:8080
 *     api_key = ci_live_...
 *
 * Lines are `name = value`; blank lines and lines starting with '#' are
 * ignored, as are unknown names (a newer CLI's file still loads). The file
 * is written atomically with mode 0600, creating missing directories with
 * mode 0700. As ssh does with a private key, a file that is a symbolic
 * link, that another user could change (group/world-writable, or not ours)
 * or read (group/world-readable) is refused, saying how to fix it.
 */
#ifndef CI_CLI_SETTINGS_H
#define CI_CLI_SETTINGS_H

#include <stddef.h>

/* Longest service URL, bytes excluding the NUL. */
#define SETTINGS_URL_MAX 2047
/* Longest API key, bytes excluding the NUL. */
#define SETTINGS_KEY_MAX 511
/* Largest config file read, bytes. */
#define SETTINGS_FILE_MAX (64 * 1024)
/* Longest config file path, bytes including the NUL. */
#define SETTINGS_PATH_MAX 4096

/* Used when neither --url, CODEINSIGHT_URL nor the file names one. */
#define SETTINGS_DEFAULT_URL "http://127.0.0.1:8080"

struct cli_config {
    char url[SETTINGS_URL_MAX + 1];       /* "" when unset */
    char api_key[SETTINGS_KEY_MAX + 1];   /* secret: "" when unset; wipe with settings_wipe */
    const char *url_from;               /* "--url", "CODEINSIGHT_URL", the file, "default" */
    const char *key_from;               /* "CODEINSIGHT_API_KEY", "config file", NULL: none */
};

/* The config file's path from $XDG_CONFIG_HOME (used when absolute) or
 * $HOME into out (cap bytes). Returns 0, or -1 when neither is usable or
 * the path does not fit. */
int settings_path(const char *xdg_config_home, const char *home, char *out, size_t cap);

/* Parses a config file's text[0..len) into c (members it names; others
 * untouched). Returns 0, or -1 with msg naming the line at fault (a line
 * without '=', a value too long or with a control character). */
int settings_parse(const char *text, size_t len, struct cli_config *c, char *msg, size_t cap);

/* Reads path into c. A missing file is not an error (*found = 0).
 * Returns 0, or -1 with msg on error (unreadable, too large, a symbolic
 * link, unsafe permissions, bad syntax). */
int settings_load(const char *path, struct cli_config *c, int *found, char *msg, size_t cap);

/* Writes c's url and api_key to path atomically (a temporary file in the
 * same directory, fsync, rename), mode 0600, creating missing directories
 * with mode 0700. Returns 0, or -1 with msg. */
int settings_write(const char *path, const struct cli_config *c, char *msg, size_t cap);

/* Fills c by precedence from --url (may be NULL), the environment values
 * (may be NULL or "") and the file's values (file: may be NULL). The file's
 * key is used only with the file's URL, SETTINGS_DEFAULT_URL when it names
 * none: it is never sent to another server chosen by --url or
 * CODEINSIGHT_URL. Never fails:
 * a missing key leaves api_key "" and key_from NULL. */
void settings_resolve(struct cli_config *c, const char *flag_url, const char *env_url,
                    const char *env_key, const struct cli_config *file);

/* Overwrites the key. Accepts NULL. */
void settings_wipe(struct cli_config *c);

#endif
