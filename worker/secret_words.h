/* secret_words.h - the rules for a secret whose name and value are
 * separate words, with no operator between them: command-line options
 * (--api-key VALUE, -storepass VALUE, -passout pass:VALUE, --creds
 * user:VALUE, docker login -p VALUE, mysql -pVALUE, sshpass -p VALUE, curl
 * -u user:VALUE, curl --oauth2-bearer VALUE, redis-cli -a VALUE, sqlcmd -P VALUE, ldapsearch -w VALUE,
 * smbclient -U user%VALUE), aws configure set NAME VALUE, a Dockerfile's
 * ENV NAME VALUE, a .netrc entry (machine HOST login USER password
 * VALUE or default login USER password VALUE, on one line or, machine or
 * default starting its line, over the lines below),
 * and a password piped into a registry login (echo VALUE | docker login
 * --password-stdin). The command words of htpasswd, rabbitmqctl and net
 * user are found here too; their positional passwords are secret_argv.c's.
 *
 * A short option means a password only after the command that defines it
 * (docker run -p is a port): the commands are noted as the scan passes
 * them (secret_words_command_at) and hold until the end of their line (a
 * line ending in '\' continues). docker, podman and nerdctl count as
 * login when only their options stand before login (docker --config DIR
 * login).
 */
#ifndef WK_SECRET_WORDS_H
#define WK_SECRET_WORDS_H

#include <stddef.h>

#include "worker/secret_scan.h"

/* Notes a command whose short options take a password (docker login,
 * podman login and the other logins of secret_words_login_at, sshpass,
 * mysql, mysqldump, mysqladmin, mariadb, curl, redis-cli, sqlcmd, bcp,
 * osql, the mongo and ldap tools, smbclient, zip, 7z, twine) or
 * a .netrc machine or default word starting at t[i]; tries the NAME VALUE
 * rules of aws configure set and ENV (at the start of a line), and a
 * .netrc password on an entry's first line or on a login or password line
 * of its entry below.
 * Returns the offset past the word read when there is one, else 0. */
size_t secret_words_command_at(struct scan *s, size_t i);

/* Tries the option rules at a '-' at t[i] that starts a word: a long option
 * (--NAME, or -NAME of three or more letters) naming a secret and its value
 * (the next word), pass:VALUE after an option, USER:VALUE after --creds or
 * curl's --user, TOKEN after curl's --oauth2-bearer, or a password option
 * of the command noted on this line. */
void secret_words_option_at(struct scan *s, size_t i);

/* Offset past the words of a login command at t[k] (k < n): docker,
 * podman, nerdctl (their options may precede login), buildah, skopeo,
 * oras, cosign, notation, oc, cf login, crane auth login, helm registry
 * login, regctl registry login, az login, az acr login; else 0. */
size_t secret_words_login_at(struct scan *s, size_t k);

/* 1 when the command noted for the line holding i (a line ending in '\'
 * continues) is a login, else 0; s->cmd_at is then where it starts. i
 * must not be before the offsets asked about earlier. */
int secret_words_login_noted(struct scan *s, size_t i);

#endif
