/* cache_control.h - what a submission's Cache-Control header asks of the
 * result cache (RFC 9111, 5.2.1: request directives).
 *
 * POST /review may be answered from the result cache (docs/admission.md,
 * "Result cache"). A client that wants a fresh review says so:
 *   no-cache (or max-age=0): no stored answer; the new job's result
 *            replaces the stored one for the next identical submission;
 *   no-store: no stored answer, and the new job's result is not stored.
 * Other directives are ignored, as the RFC asks of unknown ones.
 */
#ifndef GW_CACHE_CONTROL_H
#define GW_CACHE_CONTROL_H

/* Cache-Control values longer than this are not read (and ask nothing):
 * a header of a few directives, not kilobytes. */
#define CACHE_CONTROL_MAX 256

enum cache_mode {
    CACHE_USE,          /* look the answer up; a new job's result is stored */
    CACHE_REFRESH,      /* no-cache: no lookup; the result is stored */
    CACHE_BYPASS,       /* no-store: neither */
};

/* The mode a Cache-Control value (NULL: absent) asks for: comma-separated
 * directives, names case-insensitive, blanks around them, arguments (token
 * or quoted string) allowed. no-store wins over no-cache. */
enum cache_mode cache_control_mode(const char *value);

#endif
