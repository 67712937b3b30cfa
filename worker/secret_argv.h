/* secret_argv.h - the rule for a password that is a command's positional
 * argument, named by no option: htpasswd in batch mode (htpasswd -b FILE
 * USER PASSWORD, htpasswd -bn USER PASSWORD: the password is the last
 * argument), rabbitmqctl add_user, change_password and authenticate_user
 * USER PASSWORD, Windows' net user NAME PASSWORD (not net user NAME *,
 * which prompts), and vault login TOKEN (or token=TOKEN), a Vault token.
 *
 * The command words are found by secret_words.c (secret_words_command_at)
 * with the other commands; the arguments are read here, up to the end of
 * the command.
 */
#ifndef WK_SECRET_ARGV_H
#define WK_SECRET_ARGV_H

#include <stddef.h>

#include "worker/secret_scan.h"

/* Reads the arguments of the command whose words are t[i..e) (htpasswd,
 * rabbitmqctl, net user, NET USER or vault login) up to the end of the
 * command (a line end not continued by '\', ';', '|', '&', '<', '>', ')',
 * '`' or a '#' word) within ARGV_SCAN_MAX bytes, and adds the password's
 * span when it is a literal passing the value filters (a password's lower
 * floor too; not for vault login's token) and no placeholder. A command
 * word before the end of the arguments last read is one of them and reads
 * nothing. Returns e. */
size_t secret_argv_at(struct scan *s, size_t i, size_t e);

#endif
