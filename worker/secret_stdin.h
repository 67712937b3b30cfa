/* secret_stdin.h - the rules for a literal password written to the
 * standard input of a registry or platform login that reads it
 * (--password-stdin, regctl's --pass-stdin): piped by echo or printf (echo
 * VALUE | docker login ... --password-stdin), given as a here-string
 * (docker login ... --password-stdin <<< 'VALUE') or as the one line of a
 * here-document (<<EOF, VALUE, EOF). The logins are secret_words.h's
 * (docker, podman, nerdctl, buildah, skopeo, oras, crane auth, helm
 * registry, regctl registry, cosign, notation, oc, az, cf).
 */
#ifndef WK_SECRET_STDIN_H
#define WK_SECRET_STDIN_H

#include <stddef.h>

#include "worker/secret_scan.h"

/* Tries the piped password rule at a '|' at t[i] (not part of ||): echo
 * or printf writing a literal (echo "VALUE" | ..., printf '%s' VALUE |
 * ...) into a login (after sudo; docker, podman and nerdctl after their
 * options) that has --password-stdin among its words (within
 * STDIN_SEARCH_MAX bytes, '\\'-continued lines too). Reads the value back
 * from the pipe, at most SECRET_VALUE_MAX bytes. */
void secret_stdin_pipe_at(struct scan *s, size_t i);

/* Notes, at a '-' at t[i], that the login noted on this line reads its
 * standard input (--password-stdin), and adds the span of the here-string
 * or here-document value that waited for it. */
void secret_stdin_option_at(struct scan *s, size_t i);

/* Tries the here-string and here-document rules at a "<<" at t[i] (not
 * after another '<') on the line of a login: <<< then a word, or << (<<-)
 * then a delimiter (quoted or not) whose body is one line, the password,
 * then the delimiter. Its span is added when the login has
 * --password-stdin before or after it on its line. One here-string or
 * here-document per login, each line's body read once. */
void secret_stdin_here_at(struct scan *s, size_t i);

#endif
