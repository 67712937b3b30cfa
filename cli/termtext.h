/* termtext.h - text from the service or from a diff, made safe to print on
 * a terminal.
 *
 * A job's messages, a diagnosis, a design, an error's detail, an account's
 * email and a diff's file names are someone else's text: written as they
 * are, an escape sequence in them could retitle the window, clear the
 * screen, move the cursor over earlier lines or hide what follows. Every
 * such string the CLI prints goes through here:
 *  - C0 controls, DEL, C1 controls (U+0080..U+009F), the bidirectional
 *    overrides and isolates (U+202A..U+202E, U+2066..U+2069: they reorder
 *    what follows, "Trojan Source") and bytes that are not UTF-8 become
 *    TERMTEXT_STANDIN, one per character or bad byte;
 *  - flat text (TERMTEXT_FLAT: one item per line) has its newlines, tabs
 *    and carriage returns as spaces;
 *  - multi-line text (TERMTEXT_LINES: a fix, a diagram) keeps '\n' and
 *    '\t'; a '\r' before '\n' is dropped, any other becomes the stand-in.
 * Printable UTF-8 passes unchanged. JSON output keeps its content:
 * termtext_put_json escapes what cJSON leaves raw.
 *
 *     fprintf(err, "codeinsight: %s\n", termtext_clean(buf, sizeof buf, msg, TERMTEXT_FLAT));
 *     termtext_put(out, fix, TERMTEXT_LINES);
 */
#ifndef CI_CLI_TERMTEXT_H
#define CI_CLI_TERMTEXT_H

#include <stddef.h>
#include <stdio.h>

/* What a character that may not reach the terminal is printed as. */
#define TERMTEXT_STANDIN "?"

enum termtext_mode {
    TERMTEXT_FLAT,              /* one line: '\n', '\t', '\r' as spaces */
    TERMTEXT_LINES,             /* several lines: '\n' and '\t' kept */
};

/* Writes s (NUL-terminated; NULL: "") cleaned as mode says into buf (cap
 * bytes, cap > 0), cut after the last whole character that fits. Returns
 * buf. */
char *termtext_clean(char *buf, size_t cap, const char *s, enum termtext_mode mode);

/* Writes s (NULL: nothing) cleaned as mode says to out, whole. Write errors
 * are left in out's error flag. */
void termtext_put(FILE *out, const char *s, enum termtext_mode mode);

/* Writes "codeinsight: ", msg cleaned as TERMTEXT_FLAT, and a newline to
 * out: the way to say a message that may hold a user's words (a file name,
 * an option's value, a URL, a path from the environment) or the service's. */
void termtext_say(FILE *out, const char *msg);

/* Writes json, a document as cJSON prints it (C0 controls already escaped),
 * with what termtext_put would replace inside its strings written as JSON
 * escapes of the same characters: DEL and C1 controls as "\u007f",
 * "\u0080".."\u009f", the bidirectional overrides and isolates as
 * "\u202a".."\u202e", "\u2066".."\u2069", and each byte that is not
 * UTF-8 as "\ufffd": the same document (bar those bytes), safe on a
 * terminal. Other bytes are written as they are. */
void termtext_put_json(FILE *out, const char *json);

#endif
