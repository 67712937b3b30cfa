/* test_cli_settings.c - unit tests for cli/settings.c: path, parsing,
 * precedence, the atomic 0600 write and the permission checks on load. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/settings.h"

static void test_path(void **state)
{
    char p[SETTINGS_PATH_MAX], small[16];

    (void)state;
    assert_int_equal(settings_path("/x/cfg", "/home/u", p, sizeof p), 0);
    assert_string_equal(p, "/x/cfg/codeinsight/config");
    assert_int_equal(settings_path(NULL, "/home/u", p, sizeof p), 0);
    assert_string_equal(p, "/home/u/.config/codeinsight/config");
    /* A relative XDG_CONFIG_HOME is ignored, as the spec says. */
    assert_int_equal(settings_path("rel", "/home/u", p, sizeof p), 0);
    assert_string_equal(p, "/home/u/.config/codeinsight/config");
    assert_int_equal(settings_path(NULL, NULL, p, sizeof p), -1);
    assert_int_equal(settings_path("", "", p, sizeof p), -1);
    assert_int_equal(settings_path("/a/very/long/directory", NULL, small, sizeof small), -1);
}

#define TEXT(s) s, sizeof s - 1

static void test_parse(void **state)
{
    struct cli_config c;
    char msg[256];

    (void)state;
    memset(&c, 0, sizeof c);
    assert_int_equal(settings_parse(TEXT("# comment\n\n  url =  http://h:8080  \r\n"
                                       "api_key=ci_live_abc\nfuture = 1\n"), &c, msg,
                                  sizeof msg), 0);
    assert_string_equal(c.url, "http://h:8080");
    assert_string_equal(c.api_key, "ci_live_abc");

    /* No trailing newline, and the last value wins. */
    assert_int_equal(settings_parse(TEXT("url = a\nurl = b"), &c, msg, sizeof msg), 0);
    assert_string_equal(c.url, "b");

    assert_int_equal(settings_parse(TEXT("url = a\njust words\n"), &c, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "line 2"));
    assert_int_equal(settings_parse(TEXT("api_key = a\x01" "b\n"), &c, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "control character"));
}

static void test_parse_too_long(void **state)
{
    static char text[SETTINGS_URL_MAX + 32];
    struct cli_config c;
    char msg[256];
    int n;

    (void)state;
    memset(&c, 0, sizeof c);
    n = snprintf(text, sizeof text, "url = ");
    memset(text + n, 'u', SETTINGS_URL_MAX);
    text[n + SETTINGS_URL_MAX] = '\0';
    assert_int_equal(settings_parse(text, strlen(text), &c, msg, sizeof msg), 0);
    assert_int_equal(strlen(c.url), SETTINGS_URL_MAX);
    text[n + SETTINGS_URL_MAX] = 'u';
    text[n + SETTINGS_URL_MAX + 1] = '\0';
    assert_int_equal(settings_parse(text, strlen(text), &c, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "longer than"));
}

static void test_resolve_precedence(void **state)
{
    struct cli_config file, c;

    (void)state;
    memset(&file, 0, sizeof file);
    snprintf(file.url, sizeof file.url, "http://file");
    snprintf(file.api_key, sizeof file.api_key, "file-key");

    settings_resolve(&c, NULL, NULL, NULL, &file);
    assert_string_equal(c.url, "http://file");
    assert_string_equal(c.api_key, "file-key");
    assert_string_equal(c.key_from, "config file");

    settings_resolve(&c, NULL, "http://env", "env-key", &file);
    assert_string_equal(c.url, "http://env");
    assert_string_equal(c.url_from, "CODEINSIGHT_URL");
    assert_string_equal(c.api_key, "env-key");

    settings_resolve(&c, "http://flag", "http://env", NULL, &file);
    assert_string_equal(c.url, "http://flag");
    assert_string_equal(c.url_from, "--url");
    /* The file's key never follows the URL to another server. */
    assert_string_equal(c.api_key, "");
    assert_null(c.key_from);

    settings_resolve(&c, "http://file", NULL, NULL, &file);
    assert_string_equal(c.api_key, "file-key");

    settings_resolve(&c, NULL, "", "", NULL);
    assert_string_equal(c.url, SETTINGS_DEFAULT_URL);
    assert_string_equal(c.url_from, "default");
    assert_null(c.key_from);

    /* A file without a URL keeps its key, for the default URL only. */
    file.url[0] = '\0';
    settings_resolve(&c, NULL, NULL, NULL, &file);
    assert_string_equal(c.url, SETTINGS_DEFAULT_URL);
    assert_string_equal(c.url_from, "default");
    assert_string_equal(c.api_key, "file-key");
    assert_string_equal(c.key_from, "config file");
    settings_resolve(&c, SETTINGS_DEFAULT_URL, NULL, NULL, &file);
    assert_string_equal(c.api_key, "file-key");
    settings_resolve(&c, NULL, "http://env", NULL, &file);
    assert_string_equal(c.api_key, "");
    assert_null(c.key_from);
    settings_resolve(&c, "http://flag", NULL, NULL, &file);
    assert_null(c.key_from);
    settings_resolve(&c, NULL, NULL, NULL, &file);
    settings_wipe(&c);
    assert_int_equal(c.api_key[0], '\0');
}

static char dir[] = "/tmp/test_cli_settings.XXXXXX";

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_write_then_load(void **state)
{
    char path[256], link_path[256], msg[512];
    struct cli_config c, back;
    struct stat st;
    int found;

    (void)state;
    snprintf(path, sizeof path, "%s/new/sub/config", dir);
    memset(&c, 0, sizeof c);
    snprintf(c.url, sizeof c.url, "https://ci.example");
    snprintf(c.api_key, sizeof c.api_key, "ci_live_secret");
    umask(022);
    assert_int_equal(settings_write(path, &c, msg, sizeof msg), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    snprintf(msg, sizeof msg, "%s/new/sub", dir);
    assert_int_equal(stat(msg, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);

    memset(&back, 0, sizeof back);
    assert_int_equal(settings_load(path, &back, &found, msg, sizeof msg), 0);
    assert_int_equal(found, 1);
    assert_string_equal(back.url, "https://ci.example");
    assert_string_equal(back.api_key, "ci_live_secret");

    /* Rewriting replaces the file, still 0600, with no temporary left. */
    snprintf(c.api_key, sizeof c.api_key, "ci_live_other");
    assert_int_equal(settings_write(path, &c, msg, sizeof msg), 0);
    assert_int_equal(settings_load(path, &back, &found, msg, sizeof msg), 0);
    assert_string_equal(back.api_key, "ci_live_other");
    snprintf(msg, sizeof msg, "%s.tmp.%ld", path, (long)getpid());
    assert_int_not_equal(access(msg, F_OK), 0);

    /* Readable by others: refused, saying how to fix it. */
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(settings_load(path, &back, &found, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "readable by other users; not used (chmod 600 "));
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(settings_load(path, &back, &found, msg, sizeof msg), -1);
    /* A symbolic link to a private file: refused too. */
    assert_int_equal(chmod(path, 0600), 0);
    snprintf(link_path, sizeof link_path, "%s/link", dir);
    assert_int_equal(symlink(path, link_path), 0);
    assert_int_equal(settings_load(link_path, &back, &found, msg, sizeof msg), -1);
    assert_int_equal(found, 1);
    assert_non_null(strstr(msg, "is a symbolic link; not used"));
    /* Writable by others: refused. */
    assert_int_equal(chmod(path, 0620), 0);
    assert_int_equal(settings_load(path, &back, &found, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "changed by other users"));
}

static void test_load_missing_and_bad(void **state)
{
    char path[256], msg[512];
    struct cli_config c;
    FILE *f;
    int found = 1;

    (void)state;
    memset(&c, 0, sizeof c);
    snprintf(path, sizeof path, "%s/none", dir);
    assert_int_equal(settings_load(path, &c, &found, msg, sizeof msg), 0);
    assert_int_equal(found, 0);

    snprintf(path, sizeof path, "%s/bad", dir);
    assert_non_null(f = fopen(path, "w"));
    fputs("url = x\nnonsense\n", f);
    fclose(f);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(settings_load(path, &c, &found, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "line 2"));

    /* A directory is not a config file. */
    assert_int_equal(settings_load(dir, &c, &found, msg, sizeof msg), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_parse_too_long),
        cmocka_unit_test(test_resolve_precedence),
        cmocka_unit_test(test_write_then_load),
        cmocka_unit_test(test_load_missing_and_bad),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
