/* secret_tokens.h - the rules for tokens with a fixed literal prefix (AKIA,
 * ghp_, glpat- and GitLab's other tokens, xoxb- and xapp-, sk_live_,
 * rzp_live_, AIza, hvs., pypi-AgEIcHlwaS5vcmc, eyJ JWTs), webhook URLs
 * (Slack's, Discord's and Microsoft Teams' paths), and Vault's legacy s.
 * tokens assigned to VAULT_TOKEN. Other services' tokens are
 * secret_services.h's.
 */
#ifndef WK_SECRET_TOKENS_H
#define WK_SECRET_TOKENS_H

#include <stddef.h>

#include "worker/secret_scan.h"

/* Tries the token rules at t[i], whose next byte is c1 ('\0' at the end).
 * Returns the offset past a token found (its span added), or 0. */
size_t secret_tokens_at(struct scan *s, size_t i, char c1);

/* Tries the Discord and Microsoft Teams webhook rules at t[i], which
 * starts a word (the caller checks the byte before it), whose next byte is
 * c1. Returns the offset past the webhook's path (its span added), or 0. */
size_t secret_tokens_webhook_at(struct scan *s, size_t i, char c1);

#endif
