/* redact_inputs.h - inputs built to make a backtracking or rescanning secret
 * matcher quadratic, and a helper that repeats a unit to fill a buffer.
 *
 * Shared by tests/unit/test_redact.c (what comes back from 1 MiB of each is
 * right) and bench/redact.c (how long it takes, and how that grows with the
 * size: timing belongs to `make bench`, never to a unit test).
 */
#ifndef TEST_REDACT_INPUTS_H
#define TEST_REDACT_INPUTS_H

#include <stddef.h>
#include <string.h>

static const char *const REDACT_PATHOLOGICAL[] = {
    "eyJ-", "eyJaaaaaaaaaaa.eyJaaaa.", "-----BEGIN PRIVATE KEY-----",
    "a://", "ab://c:dXk9Lm@", "password: ", "password=\"", "token=\"\\", "=",
    "AKIAABCDEFGHIJKLMNOP ", "rzp_live_ABCDEFGHIJKLMN ", "ghp_", "#define TOKEN ",
    "hooks.slack.com/services/", "-----END PRIVATE KEY-----", " -----END PRIVATE KEY-----\n",
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n-----END PRIVATE KEY-----\n",
    "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCg== ", "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB",
    "'a' + ", "\"ghp_\" \\\n", "API_KEY = (\n\"", "- name: DB_PASSWORD\n",
    "variable \"db_password\" {", "<password>", "docker login -p ", "mysql -p", "--api-key ",
    "root:pw@tcp(", "scott/pw@h:1/", "AccountKey=", "os.environ.get(\"DB_PASSWORD\", ", "x ?? ",
    "password: >-\n  ", "AC0123456789abcdef0123456789abcdef ", "SG.aaaaaaaaaaaaaaaa.",
    "token = a(x) or ", "docker -a ", "machine h\n password ", "  token: |\n",
    "fetch(\"API_TOKEN\") { \"", "a=${b:-",
    "getenv(\"API_KEY\") or \"", "token = (a(x) or ",
    "echo \"x\" | docker login --password-stdin ", "default\n password ",
    "docker \\\n -a ",
    "oras login --password-stdin <<< '", "oc login <<A <<A\n", "az login <<<x <<<",
    "cf login <<E\nE\n", "redis-cli -a ", "-storepass ", "--creds=a:", "-passin pass:",
    "smbclient -U a%", "7z -p", "  password \"", "ConvertTo-SecureString -String '",
    "\nh.io:5432:d:u:", "\n*:*:*:*:x", ";Pwd={", ";Pwd={a}}", "jdbc:oracle:thin:u/",
    "$2y$10$", "a:$$apr1$$x$$", "\\$6\\$rounds=5000\\$", "$argon2id$v=19$m=1,t=1,p=1$",
    "$y$j9T$", "-pypi-AgEIcHlwaS5vcmc", "hvs.", "VAULT_TOKEN=s.", "=s.Xk9mP2vQ7rT4wL8nZs4xQw2e",
    " --oauth2-bearer=", "htpasswd -b ", " htpasswd -C ", "net user a ",
    "rabbitmqctl add_user '", "NET USER \\\n",
    "=ATATT3", "=HRKU-", "-GR1348941", "-glrt-", "=glc_+", "dp.st.a.", " key-", "=secret_",
    "=npm_", "0123456789abcdef0123456789abcdef-us", "=123456789:AA",
    "discord.com/api/webhooks/123456789012345678/", ".webhook.office.com/webhookb2/", "&sig=",
    "{SSHA}", "=pbkdf2_sha256$1$a$", "=argon2$argon2id$m=1,t=1,p=1$", "=bcrypt$$2b$12$",
    "vault login ", "vault login token='", ";Pwd={a b",
    "mailgu key-0123456789abcdef0123456789abcdef ", "=sntrys_eyJ", "+sntrys_eyJa=_", "=ops_eyJ",
    "xapp-1-A0123456789-1234567890-", "=xoxe-", "=pscale_tkn_a.", "=NRII-",
    "{PBKDF2-SHA256}1$a$", "{PBKDF2_SHA256}", "{pkcs5s2}", "=sha1$a$", "=md5$$",
    "AGE-SECRET-KEY-1", " sha256~",
};

#define REDACT_PATHOLOGICAL_N (sizeof(REDACT_PATHOLOGICAL) / sizeof(REDACT_PATHOLOGICAL[0]))

/* Fills buf[0..len) with unit[0..n) repeated (the last copy cut short). */
static inline void redact_fill(char *buf, size_t len, const char *unit, size_t n)
{
    size_t o;

    for (o = 0; o < len; o += n)
        memcpy(buf + o, unit, len - o < n ? len - o : n);
}

#endif
