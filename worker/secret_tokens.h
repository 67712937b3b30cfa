/* secret_tokens.h - the rules for tokens with a fixed literal prefix (AKIA, ghp_,
 * glpat-, xoxb-, sk_live_, rzp_live_, AIza, hvs., pypi-AgEIcHlwaS5vcmc,
 * eyJ JWTs, Slack webhook paths), and Vault's legacy s. tokens assigned to
 * VAULT_TOKEN.
 */
#ifndef WK_SECRET_TOKENS_H
#define WK_SECRET_TOKENS_H

#include <stddef.h>

#include "worker/secret_scan.h"

/* Tries the token rules at t[i], whose next byte is c1 ('\0' at the end).
 * Returns the offset past a token found (its span added), or 0. */
size_t secret_tokens_at(struct scan *s, size_t i, char c1);

#endif
