/* fix_blocks.h - a finding's `fix` (a unified diff of one file) as change
 * blocks: which old lines each run of '-'/'+' lines replaces, and the new
 * text. What SARIF replacements and rdjson suggestions are made of.
 *
 * Blocks are in order, do not overlap, and their positions refer to the
 * file before any of them is applied (as both formats want). A hunk's
 * context lines separate blocks; a block with no '-' line is an insertion
 * before old line old_start (one past the last line at the end of the
 * file). Parsing is common/udiff.c's; a diff of more than one file is
 * refused.
 *
 *     struct fix_blocks fb;
 *     if (fix_blocks_parse(fix, strlen(fix), &fb) == 0) {
 *         ... fb.v[0] ...
 *         fix_blocks_cleanup(&fb);
 *     }
 */
#ifndef GW_FIX_BLOCKS_H
#define GW_FIX_BLOCKS_H

#include <stddef.h>

struct fix_block {
    long old_start;     /* first old line replaced, 1-based; for an insertion
                         * the old line the text goes before */
    long old_count;     /* old lines replaced; 0 for a pure insertion */
    long end_line;      /* exclusive end of the replaced old text: (old_start
                         * + old_count, 1), or just past the last character
                         * of the last replaced line when it has no newline */
    long end_column;    /* 1-based, in Unicode code points */
    char *text;         /* owns, NUL-terminated: the new lines, each with its
                         * newline unless "\ No newline at end of file"
                         * follows it; "" for a pure deletion */
    size_t text_len;    /* bytes, excluding the NUL */
};

struct fix_blocks {
    char *path;         /* owns: the diff's new (else old) file name, "a/"
                         * and "b/" stripped; NULL when it names none */
    struct fix_block *v;    /* owns: n blocks */
    size_t n;
};

/* Parses diff[0..len) (need not be NUL-terminated). Returns 0 and fills out
 * (release with fix_blocks_cleanup), or -1 when the diff is malformed, names
 * more than one file, holds no change, or memory ran out (out then empty,
 * safe to clean up). */
int fix_blocks_parse(const char *diff, size_t len, struct fix_blocks *out);

/* Frees what out holds and empties it. Accepts NULL and an emptied one. */
void fix_blocks_cleanup(struct fix_blocks *out);

#endif
