/* secret_args.h - the rules for a secret passed to code beside the string
 * or the variable that names it: os.environ.get("DB_PASSWORD", "..."),
 * setProperty("db.password", "..."), Header.Set("Authorization", "Bearer
 * ..."), ENV.fetch("API_TOKEN") { "..." }, process.env.API_TOKEN ?? "..."
 * (and ||), ${DB_PASSWORD:-...} (a shell parameter's default), a call
 * without parentheses (storePassword "...", ConvertTo-SecureString "...").
 */
#ifndef WK_SECRET_ARGS_H
#define WK_SECRET_ARGS_H

#include <stddef.h>

#include "worker/secret_scan.h"

/* Tries the call-argument rule at a quote at t[i]: a first argument
 * ("(" before it) that is a short string naming a secret, then ',' and a
 * quoted value; or a call's only argument or a subscript ("(" or "[" before
 * it) naming a secret, then its closing bracket and the literal the lookup
 * falls back to (secret_assign_default_at: os.getenv("X") or "...",
 * ENV["X"] || "...", ENV.fetch("X") { "..." }). Reads at most
 * SECRET_NAME_MAX bytes of the string and the value. */
void secret_args_call_at(struct scan *s, size_t i);

/* Tries the rule for a call without parentheses at a quote at t[i]: NAME
 * "VALUE" alone on its line (Groovy's and Ruby's DSLs: storePassword "..."
 * in a Gradle signing config, password '...' in repository credentials or
 * a Chef resource), NAME a secret name, the literal ending the statement;
 * or ConvertTo-SecureString [-String] "VALUE" (PowerShell), VALUE a
 * password. Reads at most SECRET_VALUE_MAX bytes of the literal, a name
 * and the blanks before them. */
void secret_args_bare_call_at(struct scan *s, size_t i);

/* Tries the fallback rule at a "??" or "||" at t[i]: a name before it
 * naming a secret, a quoted value after it. */
void secret_args_fallback_at(struct scan *s, size_t i);

/* Tries the shell default rule at a "${" at t[i]: ${NAME:-VALUE},
 * ${NAME:=VALUE}, ${NAME-VALUE} or ${NAME=VALUE}, NAME (or the name the
 * expansion is assigned to: PASSWORD="${X:-...}", KEY: ${X:-...}) naming a
 * secret, VALUE (quoted or not) read up to the closing '}' on its line,
 * at most SECRET_VALUE_MAX bytes, none of them '{'. */
void secret_args_shell_default_at(struct scan *s, size_t i);

#endif
