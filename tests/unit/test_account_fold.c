/* test_account_fold.c - account_email_fold (common/account.c): an email
 * folded as PostgreSQL's lower() folds it under an LC_CTYPE of C.UTF-8, the
 * key the login limiter buckets an address's every case under. (The e2e
 * tests compare it with lower() itself: test_auth_login.) */
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/account.h"

/* 1 when this machine has C.UTF-8, else prints why the test skips. */
static int have_c_utf8(void)
{
    locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);

    if (loc == (locale_t)0) {
        print_message("skipped: no C.UTF-8 locale here (the fold is ASCII-only)\n");
        return 0;
    }
    freelocale(loc);
    return 1;
}

static void assert_folds(const char *in, const char *want)
{
    char out[ACCOUNT_EMAIL_FOLD_MAX];

    assert_int_equal(account_email_fold(in, out, sizeof out), 0);
    assert_string_equal(out, want);
}

static void test_ascii(void **state)
{
    (void)state;
    assert_folds("Alice.B+Tag@Example.COM", "alice.b+tag@example.com");
    assert_folds("already@lower.example", "already@lower.example");
}

static void test_beyond_ascii(void **state)
{
    (void)state;
    if (!have_c_utf8())
        skip();
    assert_folds("\xc3\x84-x@X.Example", "\xc3\xa4-x@x.example");          /* Ä -> ä */
    assert_folds("\xc3\xa4-x@x.example", "\xc3\xa4-x@x.example");
    assert_folds("\xce\xa3\xce\xa9@x", "\xcf\x83\xcf\x89@x");               /* ΣΩ -> σω */
    assert_folds("\xe1\xba\x9e@x", "\xc3\x9f@x");                           /* ẞ -> ß */
    assert_folds("\xc4\xb0@x", "i@x");                                      /* İ -> i */
}

static void test_a_fold_may_grow(void **state)
{
    char out[ACCOUNT_EMAIL_FOLD_MAX], in[ACCOUNT_EMAIL_MAX + 1];
    size_t n = 0;

    (void)state;
    if (!have_c_utf8())
        skip();
    /* U+023A (2 bytes) folds to U+2C65 (3 bytes): the longest email of it
     * still fits ACCOUNT_EMAIL_FOLD_MAX. */
    while (n + 2 <= ACCOUNT_EMAIL_MAX - 2) {
        memcpy(in + n, "\xc8\xba", 2);
        n += 2;
    }
    memcpy(in + n, "@x", 3);
    assert_int_equal(account_email_fold(in, out, sizeof out), 0);
    assert_int_equal(strlen(out), (n / 2) * 3 + 2);
    assert_memory_equal(out, "\xe2\xb1\xa5", 3);
    /* Too small a buffer is refused, not cut. */
    assert_int_equal(account_email_fold(in, out, n + 3), -1);
}

static void test_not_utf8_is_refused(void **state)
{
    char out[ACCOUNT_EMAIL_FOLD_MAX];

    (void)state;
    assert_int_equal(account_email_fold("a\x93@x.example", out, sizeof out), -1);
    assert_int_equal(account_email_fold("\xc3@x", out, sizeof out), -1);
    assert_int_equal(account_email_fold("a@x", out, 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ascii),
        cmocka_unit_test(test_beyond_ascii),
        cmocka_unit_test(test_a_fold_may_grow),
        cmocka_unit_test(test_not_utf8_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
