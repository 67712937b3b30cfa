/* test_cli_termtext.c - unit tests for cli/termtext.c: what may reach the
 * terminal from someone else's text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/termtext.h"

static const char *flat(const char *s)
{
    static char buf[256];

    return termtext_clean(buf, sizeof buf, s, TERMTEXT_FLAT);
}

static const char *lines(const char *s)
{
    static char buf[256];

    return termtext_clean(buf, sizeof buf, s, TERMTEXT_LINES);
}

/* No byte below 0x20 but '\n' and '\t', no DEL, no C1, and valid UTF-8. */
static void assert_safe(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        assert_false(*p < 0x20 && *p != '\n' && *p != '\t');
        assert_false(*p == 0x7f);
        assert_false(*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f);
    }
}

static void test_escapes(void **state)
{
    (void)state;
    /* A window title (OSC ... BEL), clearing the screen, a colour, cursor up. */
    assert_string_equal(flat("a\x1b]0;pwned\x07" "b\x1b[2Jc\x1b[31md\x1b[1Ae"),
                        "a?]0;pwned?b?[2Jc?[31md?[1Ae");
    assert_string_equal(lines("x\x1b[2J\ny"), "x?[2J\ny");
    /* Every other C0 control and DEL. */
    assert_string_equal(flat("\x01\x08\x0b\x0c\x7f."), "?????.");
    /* C1 controls in UTF-8: CSI (U+009B), NEL (U+0085), OSC (U+009D). */
    assert_string_equal(flat("a\xc2\x9b" "2Jb\xc2\x85\xc2\x9d"), "a?2Jb??");
    /* U+00A0 and U+00E9 are not C1: kept. */
    assert_string_equal(flat("\xc2\xa0\xc3\xa9"), "\xc2\xa0\xc3\xa9");
    /* Bidirectional controls: RLO (U+202E), LRE (U+202A), RLI (U+2067), PDI
     * (U+2069) become stand-ins; their neighbours U+2029 and U+206A stay. */
    assert_string_equal(flat("ok\xe2\x80\xae" "txt.exe"), "ok?txt.exe");
    assert_string_equal(flat("\xe2\x80\xaa" "a\xe2\x81\xa7" "b\xe2\x81\xa9"), "?a?b?");
    assert_string_equal(flat("\xe2\x80\xa9\xe2\x81\xaa"), "\xe2\x80\xa9\xe2\x81\xaa");
}

static void test_utf8(void **state)
{
    (void)state;
    /* Valid text passes: Cyrillic, CJK, an emoji. */
    assert_string_equal(flat("\xd0\x9f\xd1\x80\xd0\xb8 \xe6\x97\xa5 \xf0\x9f\x98\x80"),
                        "\xd0\x9f\xd1\x80\xd0\xb8 \xe6\x97\xa5 \xf0\x9f\x98\x80");
    /* A raw C1 byte, a lone continuation, an overlong '/', a surrogate, a
     * sequence cut by the end, a byte never used: one stand-in per byte. */
    assert_string_equal(flat("a\x9b" "b"), "a?b");
    assert_string_equal(flat("\x80x"), "?x");
    assert_string_equal(flat("\xc0\xaf"), "??");
    assert_string_equal(flat("\xed\xa0\x80"), "???");
    assert_string_equal(flat("ok\xe6\x97"), "ok??");
    assert_string_equal(flat("\xff\xfe"), "??");
}

static void test_lines_and_flat(void **state)
{
    (void)state;
    assert_string_equal(flat("one\ntwo\tthree\r\nfour\rfive"), "one two three  four five");
    assert_string_equal(lines("one\ntwo\tthree\r\nfour\rfive"), "one\ntwo\tthree\nfour?five");
    assert_string_equal(lines("end\r"), "end?");
    assert_string_equal(flat(""), "");
    assert_string_equal(flat(NULL), "");
}

static void test_cut(void **state)
{
    char buf[6];

    (void)state;
    assert_string_equal(termtext_clean(buf, sizeof buf, "abcdefgh", TERMTEXT_FLAT), "abcde");
    /* Never inside a character: "ab" + U+65E5 (3 bytes) + "c" in 5 bytes. */
    assert_string_equal(termtext_clean(buf, 5, "ab\xe6\x97\xa5" "c", TERMTEXT_FLAT), "ab");
    assert_string_equal(termtext_clean(buf, 1, "abc", TERMTEXT_FLAT), "");
}

#define WANT "fix:\n?]0;t?x = 1\n\ty?\na b"

static void test_put(void **state)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    char big[3000];

    (void)state;
    assert_non_null(out);
    termtext_put(out, "fix:\r\n\x1b]0;t\x07x = 1\n\ty\xc2\x9b\n", TERMTEXT_LINES);
    termtext_put(out, NULL, TERMTEXT_LINES);
    termtext_put(out, "a\nb", TERMTEXT_FLAT);
    /* Longer than any buffer: written whole. */
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    big[1000] = '\x1b';
    termtext_put(out, big, TERMTEXT_FLAT);
    assert_int_equal(fclose(out), 0);
    assert_int_equal(strncmp(text, WANT, strlen(WANT)), 0);
    assert_int_equal(len, strlen(WANT) + sizeof big - 1);
    assert_int_equal(text[strlen(WANT) + 1000], '?');
    assert_safe(text);
    free(text);
}

/* JSON keeps its content: DEL and C1 become escapes cJSON does not write. */
static void test_put_json(void **state)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);

    (void)state;
    assert_non_null(out);
    termtext_put_json(out, "{\"m\":\"a\\u001b[2J\xc2\x9b\x7f\xc2\xa0\xc3\x9b\"}");
    assert_int_equal(fclose(out), 0);
    assert_string_equal(text, "{\"m\":\"a\\u001b[2J\\u009b\\u007f\xc2\xa0\xc3\x9b\"}");
    assert_safe(text);
    free(text);

    /* Bytes that are not UTF-8 (a lone C1 byte, which some terminals take
     * as CSI; a cut sequence) and the bidirectional controls. */
    out = open_memstream(&text, &len);
    assert_non_null(out);
    termtext_put_json(out, "{\n\t\"m\":\t\"\x9b" "2J|\xe2\x80\xae" "cba|\xe2\x81\xa6|\xe2\x82"
                           "|\xf0\x9f\x98\x80\"\n}");
    assert_int_equal(fclose(out), 0);
    assert_string_equal(text, "{\n\t\"m\":\t\"\\ufffd2J|\\u202ecba|\\u2066|\\ufffd\\ufffd"
                              "|\xf0\x9f\x98\x80\"\n}");
    assert_safe(text);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_lines_and_flat),
        cmocka_unit_test(test_cut),
        cmocka_unit_test(test_put),
        cmocka_unit_test(test_put_json),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
