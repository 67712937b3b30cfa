/* test_redact_leaks.c - secrets, in the shapes developers really submit,
 * that must not survive worker/redact.c.
 *
 * Each test is a table of cases: a realistic snippet (a file, a manifest, a
 * command line) and the secret it holds. A case fails when the redacted
 * text still holds the secret or any PIECE_LEN-byte piece of it, or when
 * it no longer has the original's line count (findings would land on the
 * wrong lines). Every value is fake: typed for these tests, in the shape of
 * the real credential.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "worker/redact.h"

/* A piece of a secret this long left in the text is a leak. */
#define PIECE_LEN 10
/* Bytes of the report of failing cases. */
#define REPORT_MAX 8192

struct leak_case {
    const char *what;       /* where a developer writes it */
    const char *text;       /* the submitted text */
    const char *secret;     /* what must not reach the model */
};

static size_t count_lines(const char *t, size_t len)
{
    size_t i, n = 0;

    for (i = 0; i < len; i++)
        n += t[i] == '\n';
    return n;
}

/* NULL when the redacted text keeps no piece of secret, else the first
 * piece found (borrowed from secret). */
static const char *kept_piece(const char *red, size_t len, const char *secret, size_t *pn)
{
    size_t sn = strlen(secret), i, k = sn < PIECE_LEN ? sn : PIECE_LEN;

    for (i = 0; i + k <= sn; i++)
        if (memmem(red, len, secret + i, k) != NULL) {
            *pn = k;
            return secret + i;
        }
    return NULL;
}

/* Redacts each case (as a diff when diff is set) and fails naming every
 * case that leaks or changes the line count. */
static void check_cases(const struct leak_case *c, size_t n, int diff)
{
    char report[REPORT_MAX];
    size_t i, used = 0, pn = 0;
    int bad = 0;

    report[0] = '\0';
    for (i = 0; i < n; i++) {
        struct redact_result r;
        size_t len = strlen(c[i].text);
        const char *piece;

        assert_int_equal(diff ? redact_diff(c[i].text, len, &r) : redact_text(c[i].text, len, &r),
                         0);
        assert_non_null(r.text);
        piece = kept_piece(r.text, r.len, c[i].secret, &pn);
        if (piece != NULL || count_lines(r.text, r.len) != count_lines(c[i].text, len)) {
            int k = snprintf(report + used, sizeof(report) - used,
                             "\n  %s: %s; redacted text:\n    %.300s", c[i].what,
                             piece != NULL ? "secret kept" : "line count changed", r.text);
            if (k > 0 && (size_t)k < sizeof(report) - used)
                used += (size_t)k;
            bad++;
        }
        redact_result_cleanup(&r);
    }
    if (bad > 0)
        fail_msg("%d of %zu cases leak a secret:%s", bad, n, report);
}

#define CHECK(cases) check_cases((cases), sizeof(cases) / sizeof((cases)[0]), 0)
#define CHECK_DIFF(cases) check_cases((cases), sizeof(cases) / sizeof((cases)[0]), 1)

/* The harness itself: forms the redactor handles pass. */
static void test_control_forms_handled(void **state)
{
    static const struct leak_case cases[] = {
        {"python", "password = \"Xk9mP2vQ7rT4wL8n\"\n", "Xk9mP2vQ7rT4wL8n"},
        {".env", "GITHUB_TOKEN=ghp_64ax6vm2EWmUby6RFnCakeiouTTyPatiK27F\n",
         "ghp_64ax6vm2EWmUby6RFnCakeiouTTyPatiK27F"},
    };

    (void)state;
    CHECK(cases);
}

/* Generated passwords (Terraform random_password, AWS Secrets Manager,
 * password managers) use symbols, often < > { } or $ followed by capitals.
 * The placeholder test (<your-key>, {{ var }}, ${VAR}, $FROM_EMAIL) fires on
 * any such byte anywhere in the value, so the stronger the password the
 * likelier it is sent in clear. */
static void test_generated_passwords_with_symbols(void **state)
{
    static const struct leak_case cases[] = {
        {".env, Terraform random_password", "DB_PASSWORD=\"t8#Qz{v2!Lp9<xR4\"\n",
         "t8#Qz{v2!Lp9<xR4"},
        {"settings.py", "DATABASES['default']['PASSWORD'] = 'Hq3>mW8!zT1@kR6'\n",
         "Hq3>mW8!zT1@kR6"},
        {"docker-compose.yml", "      POSTGRES_PASSWORD: \"r9}Kd2^Lx7&Vb4Wq\"\n",
         "r9}Kd2^Lx7&Vb4Wq"},
        {"application.properties", "spring.datasource.password=Nm4$KLP9xQ2!zr\n",
         "Nm4$KLP9xQ2!zr"},
        {"config.json", "{\"db\": {\"password\": \"Gx8(mZ2]q{P7!w\"}}\n", "Gx8(mZ2]q{P7!w"},
    };

    (void)state;
    CHECK(cases);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_control_forms_handled),
        cmocka_unit_test(test_generated_passwords_with_symbols),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
