/* json.h - the one place cJSON is included; JSON helpers shared by every module.
 *
 * cJSON is our in-memory document type, so other files use its API directly
 * through this header rather than through a wrapper.
 */
#ifndef CI_JSON_H
#define CI_JSON_H

#include <stddef.h>
#include <cjson/cJSON.h>

/* cJSON decodes "\u0000" into a NUL that silently cuts the string short.
 * Scans a JSON text for that escape inside a string and, when found, copies
 * the name of the top-level member holding it into key (cap bytes; "" when
 * it is not inside a top-level member's value) and returns 1; returns 0
 * otherwise. Never reads past len. */
int json_find_nul_escape(const char *text, size_t len, char *key, size_t cap);

/* cJSON accepts raw control characters inside strings; RFC 8259 does not.
 * Returns 1 and their offset in *at (may be NULL) when text holds one inside
 * a string, else 0. */
int json_raw_control(const char *text, size_t len, size_t *at);

/* Whether an object anywhere in v holds two members of one name (cJSON keeps
 * both and lookups see only the first, so another reader of the same text
 * could see the other). Copies the name into name (cap bytes, truncated) and
 * returns 1 when so; 0 when not; -1 when memory ran out. O(n log n) in the
 * number of members. */
int json_duplicate_name(const cJSON *v, char *name, size_t cap);

/* Where json_write_string sends its text, piece by piece. */
typedef void json_sink(void *ctx, const char *s, size_t n);

/* Writes s[0..n) as a JSON string, quotes included: '"', '\\' and control
 * characters escaped, an invalid UTF-8 byte replaced by U+FFFD, so that the
 * text is always valid JSON. */
void json_write_string(json_sink *put, void *ctx, const char *s, size_t n);

/* Adds name: value to o, or name: null when value is NULL or empty. */
void json_add_str_or_null(cJSON *o, const char *name, const char *value);

/* Member name of obj (case-sensitive), or NULL. Borrowed. */
cJSON *json_item(const cJSON *obj, const char *name);

/* String member of obj, or NULL when absent or not a string. Borrowed. */
const char *json_str(const cJSON *obj, const char *name);

#endif
