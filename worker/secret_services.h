/* secret_services.h - the rules for the API tokens of services that give
 * them a shape of their own: a prefix (npm_, dop_v1_, shpat_, HRKU-, key-,
 * PMAK-, lin_api_, ntn_ and secret_, dp.pt., dapi, glc_ and glsa_, NRAK-,
 * NRII- and NRJS-, ATATT3, sntrys_ and sntryu_, pscale_tkn_, pul-,
 * rubygems_, ops_, AGE-SECRET-KEY-1, sha256~), a Mailchimp key's -us<N> data-centre suffix,
 * a New Relic license key's NRAL suffix and a Telegram bot
 * token's BOT_ID:AA... The rules are described in the table at the top of
 * secret_rules.c.
 */
#ifndef WK_SECRET_SERVICES_H
#define WK_SECRET_SERVICES_H

#include <stddef.h>

#include "worker/secret_scan.h"

/* The second bytes of the prefixes (the table's) that start with each
 * byte: NULL, or a string of them. */
extern const char *const secret_services_seconds[256];

/* 1 when a prefix starts with c0 c1. Most words that start with one of
 * the prefixes' first bytes (public, return, object...) go no further, so
 * the scan tests this before it calls secret_services_at. */
static inline int secret_services_may_start(char c0, char c1)
{
    const char *c2 = secret_services_seconds[(unsigned char)c0];

    while (c2 != NULL && *c2 != '\0' && *c2 != c1)
        c2++;
    return c2 != NULL && *c2 != '\0';
}

/* Tries the prefixed service tokens at t[i], whose next byte is c1 ('\0'
 * at the end). Returns the offset past a token found (its span added), or
 * 0. */
size_t secret_services_at(struct scan *s, size_t i, char c1);

/* At the '-' t[i] of "-us": a Mailchimp API key, 32 [0-9a-f] before it and
 * one or two digits after "us". Returns the offset past it (its span
 * added), or 0. */
size_t secret_services_mailchimp_at(struct scan *s, size_t i);

/* At the 'N' t[i] of "NRAL": a New Relic license key, 36 [0-9a-f] before
 * it, the whole standing alone. Returns the offset past it (its span
 * added), or 0. */
size_t secret_services_new_relic_license_at(struct scan *s, size_t i);

/* At the ':' t[i] before "AA": a Telegram bot token, the bot's id (digits)
 * before it and 33 more bytes after "AA". Returns the offset past it (its
 * span added), or 0. */
size_t secret_services_telegram_at(struct scan *s, size_t i);

#endif
