/* secret_hash.c - the password-hash rule; see secret_hash.h. The rule is
 * described in the table at the top of secret_rules.c.
 */
#include "worker/secret_hash.h"

#include <string.h>

#include "worker/secret_text.h"

/* Bytes of a scheme's id ("argon2id"). */
#define HASH_ID_MAX 8
/* Bytes of a crypt salt: sha-crypt's are at most 16, md5-crypt's and
 * apr1's at most 8. */
#define HASH_SALT_MAX 16
#define HASH_MD5_SALT_MAX 8
/* Digits of sha-crypt's rounds= (at most 999,999,999). */
#define HASH_ROUNDS_MAX 9
/* Bytes of a parameter field: yescrypt's (j9T), Argon2's (m=65536,t=3,p=4). */
#define HASH_PARAM_MAX 32
/* Bytes of a yescrypt or Argon2 salt, and of an Argon2 hash (base64). */
#define HASH_B64_MAX 128
/* Shortest Argon2 salt and hash, base64 bytes (8 and 16 bytes encoded). */
#define ARGON2_SALT_MIN 11
#define ARGON2_HASH_MIN 22
/* Bytes of each scheme's hash (crypt's base64 alphabet). */
#define BCRYPT_LEN 53          /* 22 of salt, 31 of hash */
#define MD5_CRYPT_LEN 22
#define SHA256_CRYPT_LEN 43
#define SHA512_CRYPT_LEN 86
#define YESCRYPT_LEN 43
/* Django's hashers: bytes of a name (bcrypt_sha256), of a salt, and of
 * each hash (base64, padding included). */
#define DJANGO_NAME_MAX 13
#define DJANGO_SALT_MAX 64
#define DJANGO_SHA256_LEN 44
#define DJANGO_SHA1_LEN 28
#define DJANGO_SCRYPT_LEN 88
/* Django's legacy hashers' hex digests (sha1$SALT$HEX, md5$SALT$HEX). */
#define DJANGO_SHA1_HEX 40
#define DJANGO_MD5_HEX 32
/* Bytes of an LDAP {SSHA}-style salt, at least and at most (slappasswd
 * writes 4, others 8 or 16). */
#define LDAP_SALT_MIN 4
#define LDAP_SALT_MAX 64
/* Bytes of an LDAP scheme's base64, at most (389 Directory Server's
 * {PBKDF2_SHA256} is 432). */
#define LDAP_B64_MAX 600

static int is_crypt_char(unsigned char c)
{
    return ascii_is_alnum(c) || c == '.' || c == '/';
}

static int is_b64_nopad(unsigned char c)
{
    return ascii_is_alnum(c) || c == '+' || c == '/';
}

static int is_argon2_param(unsigned char c)
{
    return ascii_is_digit(c) || (c >= 'a' && c <= 'z') || c == '=' || c == ',';
}

/* A hash being read. */
struct hash_read {
    const struct scan *s;
    size_t k;                /* offset of the next byte to read */
    const char *sep;         /* how its '$' is written: "$", "$$" or "\\$" */
    size_t seplen;
};

/* Moves past the separator at r->k; returns 1, or 0 when none stands
 * there. */
static int take_sep(struct hash_read *r)
{
    if (!scan_has(r->s, r->k, r->sep, r->seplen))
        return 0;
    r->k += r->seplen;
    return 1;
}

/* Moves past a run of min..max pred bytes at r->k (not followed by
 * another); returns 1, or 0 when the run is shorter or longer. */
static int take_run(struct hash_read *r, byte_pred pred, size_t min, size_t max)
{
    size_t n = scan_run_len(r->s, r->k, pred, max);

    if (n < min || n > max)
        return 0;
    r->k += n;
    return 1;
}

/* A field of min..max pred bytes, then the separator. */
static int take_field(struct hash_read *r, byte_pred pred, size_t min, size_t max)
{
    return take_run(r, pred, min, max) && take_sep(r);
}

/* 1 when the id t[p..p+n) is lit. */
static int id_is(const struct scan *s, size_t p, size_t n, const char *lit)
{
    return n == strlen(lit) && memcmp(s->t + p, lit, n) == 0;
}

/* Reads, at r->k, what follows the id t[p..p+n) and its separator, up to
 * the hash, whose offset it returns in *hs. Returns 1 when the whole hash
 * is there (r->k past it), else 0. */
static int take_scheme(struct hash_read *r, size_t p, size_t n, size_t *hs)
{
    const struct scan *s = r->s;
    size_t len;

    if (n == 2 && s->t[p] == '2' && ascii_in_set(s->t[p + 1], "abxy")) {
        /* bcrypt: $2b$COST$ then salt and hash as one run */
        if (!take_field(r, ascii_is_digit, 2, 2))
            return 0;
        *hs = r->k;
        return take_run(r, is_crypt_char, BCRYPT_LEN, BCRYPT_LEN);
    }
    if (id_is(s, p, n, "1") || id_is(s, p, n, "apr1")) {
        if (!take_field(r, is_crypt_char, 1, HASH_MD5_SALT_MAX))
            return 0;
        *hs = r->k;
        return take_run(r, is_crypt_char, MD5_CRYPT_LEN, MD5_CRYPT_LEN);
    }
    if (id_is(s, p, n, "5") || id_is(s, p, n, "6")) {
        len = s->t[p] == '5' ? SHA256_CRYPT_LEN : SHA512_CRYPT_LEN;
        if (scan_has(s, r->k, "rounds=", 7)) {
            r->k += 7;
            if (!take_field(r, ascii_is_digit, 1, HASH_ROUNDS_MAX))
                return 0;
        }
        if (!take_field(r, is_crypt_char, 1, HASH_SALT_MAX))
            return 0;
        *hs = r->k;
        return take_run(r, is_crypt_char, len, len);
    }
    if (id_is(s, p, n, "y")) {
        if (!take_field(r, is_crypt_char, 1, HASH_PARAM_MAX) ||
            !take_field(r, is_crypt_char, 1, HASH_B64_MAX))
            return 0;
        *hs = r->k;
        return take_run(r, is_crypt_char, YESCRYPT_LEN, YESCRYPT_LEN);
    }
    if (id_is(s, p, n, "argon2id") || id_is(s, p, n, "argon2i") || id_is(s, p, n, "argon2d")) {
        if (scan_has(s, r->k, "v=", 2)) {
            r->k += 2;
            if (!take_field(r, ascii_is_digit, 1, 3))
                return 0;
        }
        if (!scan_has(s, r->k, "m=", 2) || !take_field(r, is_argon2_param, 3, HASH_PARAM_MAX) ||
            !take_field(r, is_b64_nopad, ARGON2_SALT_MIN, HASH_B64_MAX))
            return 0;
        *hs = r->k;
        return take_run(r, is_b64_nopad, ARGON2_HASH_MIN, HASH_B64_MAX);
    }
    return 0;
}

/* Reads a crypt-style hash whose first separator (r->sep) stands at r->k:
 * the scheme's id, its fields, the hash not mostly one byte. Returns the
 * offset past it, or 0. */
static size_t crypt_hash(struct hash_read *r)
{
    const struct scan *s = r->s;
    size_t p = r->k + r->seplen, n, hs = 0;

    n = scan_run_len(s, p, ascii_is_alnum, HASH_ID_MAX);
    if (n == 0 || n > HASH_ID_MAX)
        return 0;
    r->k = p + n;
    if (!take_sep(r) || !take_scheme(r, p, n, &hs) ||
        secret_text_mostly_one_byte(s->t + hs, r->k - hs))
        return 0;
    return r->k;
}

size_t secret_hash_at(struct scan *s, size_t i)
{
    const char *t = s->t;
    struct hash_read r = {s, i, "$", 1};
    size_t start = i, e;

    if (i > 0 && t[i - 1] == '\\') {
        r.sep = "\\$";
        r.seplen = 2;
        start = i - 1;
    } else if (i + 1 < s->n && t[i + 1] == '$') {
        r.sep = "$$";
        r.seplen = 2;
    }
    /* not the second '$' of a "$$", nor glued to a word */
    if (start > 0 && (is_crypt_char((unsigned char)t[start - 1]) || t[start - 1] == '$'))
        return 0;
    r.k = start;
    if ((e = crypt_hash(&r)) == 0)
        return 0;
    scan_add(s, start, e, K_PASSWORD_HASH, 0);
    return e;
}

/* Moves past a run of digits, then the separator. */
static int take_number(struct hash_read *r)
{
    return take_field(r, ascii_is_digit, 1, HASH_ROUNDS_MAX);
}

/* A base64 hash of exactly len bytes, its '=' padding included, not
 * followed by another base64 byte. */
static int take_b64_padded(struct hash_read *r, size_t len)
{
    size_t n = scan_run_len(r->s, r->k, is_b64_nopad, len), pad = 0;

    while (n + pad < len && r->k + n + pad < r->s->n && r->s->t[r->k + n + pad] == '=')
        pad++;
    if (n + pad != len || pad > 2 ||
        (r->k + len < r->s->n && (is_b64((unsigned char)r->s->t[r->k + len]))))
        return 0;
    r->k += len;
    return 1;
}

/* What follows a Django hasher's name and its '$' at r->k, up to the end
 * of the hash: returns 1 when it is all there (r->k past it). The hash
 * starts at *hs. */
static int django_scheme(struct hash_read *r, size_t ws, size_t wn, size_t *hs)
{
    const struct scan *s = r->s;
    size_t len;

    if (id_is(s, ws, wn, "argon2") || id_is(s, ws, wn, "bcrypt") ||
        id_is(s, ws, wn, "bcrypt_sha256")) {
        /* argon2$argon2id$..., bcrypt_sha256$$2b$12$...: a crypt hash
         * after the name's '$' (bcrypt's own after a second one) */
        r->k -= 1;
        if (s->t[ws] == 'b' && !take_sep(r))
            return 0;
        *hs = r->k;
        return crypt_hash(r) != 0 &&
               (s->t[ws] == 'a' ? scan_has(s, *hs + 1, "argon2", 6) : s->t[*hs + 1] == '2');
    }
    if (id_is(s, ws, wn, "pbkdf2_sha256") || id_is(s, ws, wn, "pbkdf2_sha1")) {
        /* pbkdf2_sha256$ITERATIONS$SALT$HASH */
        len = s->t[ws + wn - 1] == '6' ? DJANGO_SHA256_LEN : DJANGO_SHA1_LEN;
        if (!take_number(r) || !take_field(r, ascii_is_alnum, 1, DJANGO_SALT_MAX))
            return 0;
        *hs = r->k;
        return take_b64_padded(r, len);
    }
    if (id_is(s, ws, wn, "sha1") || id_is(s, ws, wn, "md5")) {
        /* the legacy sha1$SALT$HEX and md5$SALT$HEX (sha1$$HEX unsalted) */
        len = s->t[ws] == 's' ? DJANGO_SHA1_HEX : DJANGO_MD5_HEX;
        if (!take_field(r, ascii_is_alnum, 0, DJANGO_SALT_MAX))
            return 0;
        *hs = r->k;
        return take_run(r, is_hex_lower, len, len) &&
               (r->k >= s->n || !ascii_is_alnum((unsigned char)s->t[r->k]));
    }
    if (id_is(s, ws, wn, "scrypt")) {
        /* scrypt$N$SALT$R$P$HASH */
        if (!take_number(r) || !take_field(r, ascii_is_alnum, 1, DJANGO_SALT_MAX) ||
            !take_number(r) || !take_number(r))
            return 0;
        *hs = r->k;
        return take_b64_padded(r, DJANGO_SCRYPT_LEN);
    }
    return 0;
}

size_t secret_hash_django_at(struct scan *s, size_t i)
{
    const char *t = s->t;
    struct hash_read r = {s, i + 1, "$", 1};
    size_t ws = i, hs = 0;

    /* every hasher's name ends in one of these */
    if (i == 0 || !ascii_in_set(t[i - 1], "2156t"))
        return 0;
    while (ws > 0 && i - ws <= DJANGO_NAME_MAX && ascii_is_alnum_us((unsigned char)t[ws - 1]))
        ws--;
    if (i - ws > DJANGO_NAME_MAX || (ws > 0 && (t[ws - 1] == '$' || t[ws - 1] == '.')) ||
        !django_scheme(&r, ws, i - ws, &hs) || secret_text_mostly_one_byte(t + hs, r.k - hs))
        return 0;
    scan_add(s, ws, r.k, K_PASSWORD_HASH, 0);
    return r.k;
}

/* LDAP's schemes, {SCHEME}BASE64: the digest's bytes, and whether a salt
 * (SALT_MIN..SALT_MAX bytes) follows it in the base64. */
struct ldap_scheme {
    const char *name;
    size_t digest;
    int salted;
};

/* The PBKDF2 schemes of OpenLDAP's pw-pbkdf2 (and passlib, 389 Directory
 * Server 2): {NAME}ROUNDS$SALT$DK, salt and key in adapted base64
 * ([A-Za-z0-9./], no padding), the key of its digest's length. */
struct ldap_pbkdf2 {
    const char *name;
    size_t len;
};

/* The key of the PBKDF2 scheme p at t[k] (past the scheme's name): returns
 * the offset past it, or 0. */
static size_t ldap_pbkdf2_key(const struct scan *s, size_t k, const struct ldap_pbkdf2 *p)
{
    struct hash_read r = {s, k, "$", 1};
    size_t hs;

    if (!take_number(&r) || !take_field(&r, is_crypt_char, 1, HASH_B64_MAX))
        return 0;
    hs = r.k;
    if (!take_run(&r, is_crypt_char, p->len, p->len) || !secret_text_two_classes(s->t + hs, p->len) ||
        secret_text_mostly_one_byte(s->t + hs, p->len))
        return 0;
    return r.k;
}

size_t secret_hash_ldap_at(struct scan *s, size_t i)
{
    static const struct ldap_scheme schemes[] = {
        {"{sha}", 20, 0},     {"{ssha}", 20, 1},     {"{sha256}", 32, 0},   {"{ssha256}", 32, 1},
        {"{sha384}", 48, 0},  {"{ssha384}", 48, 1},  {"{sha512}", 64, 0},   {"{ssha512}", 64, 1},
        {"{md5}", 16, 0},     {"{smd5}", 16, 1},
        /* Atlassian's (Crowd, Jira): salt 16 and key 32, one base64 */
        {"{pkcs5s2}", 48, 0},
        /* 389 Directory Server's: rounds 4, salt 64, key 256 */
        {"{pbkdf2_sha256}", 324, 0},
    };
    static const struct ldap_pbkdf2 pbkdf2[] = {
        {"{pbkdf2}", 27},
        {"{pbkdf2-sha1}", 27},
        {"{pbkdf2-sha256}", 43},
        {"{pbkdf2-sha512}", 86},
    };
    const char *t = s->t;
    size_t w, p, n, pad = 0, lo, hi;

    for (w = 0; w < sizeof(pbkdf2) / sizeof(pbkdf2[0]); w++)
        if (scan_prefix_ci(t + i, s->n - i, pbkdf2[w].name)) {
            p = ldap_pbkdf2_key(s, i + strlen(pbkdf2[w].name), &pbkdf2[w]);
            if (p != 0)
                scan_add(s, i, p, K_PASSWORD_HASH, 0);
            return p;
        }
    for (w = 0; w < sizeof(schemes) / sizeof(schemes[0]); w++)
        if (scan_prefix_ci(t + i, s->n - i, schemes[w].name))
            break;
    if (w == sizeof(schemes) / sizeof(schemes[0]))
        return 0;
    p = i + strlen(schemes[w].name);
    n = scan_run_len(s, p, is_b64_nopad, LDAP_B64_MAX);
    while (pad < 2 && p + n + pad < s->n && t[p + n + pad] == '=')
        pad++;
    /* base64 of the digest (and its salt), padded to a multiple of 4 */
    lo = (schemes[w].digest + (schemes[w].salted ? LDAP_SALT_MIN : 0) + 2) / 3 * 4;
    hi = (schemes[w].digest + (schemes[w].salted ? LDAP_SALT_MAX : 0) + 2) / 3 * 4;
    if (n + pad < lo || n + pad > hi || (n + pad) % 4 != 0 ||
        (p + n + pad < s->n && is_b64((unsigned char)t[p + n + pad])) ||
        !secret_text_two_classes(t + p, n) || secret_text_mostly_one_byte(t + p, n))
        return 0;
    scan_add(s, i, p + n + pad, K_PASSWORD_HASH, 0);
    return p + n + pad;
}
