/* test_redact_tokens.c - secrets told by their own shape, whatever name
 * stands before them, that must not survive worker/redact.c: credential
 * formats (.pgpass lines, ODBC and Oracle JDBC strings), services' tokens
 * and webhooks, signed URLs, Vault and PyPI tokens, password hashes
 * (crypt(3), Argon2, Django's, LDAP's); and, beside each rule's table, the
 * lookalikes it must leave as they are. The checks are
 * tests/unit/leak_check.h's; the other forms are test_redact_leaks.c's.
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

#include "tests/unit/leak_check.h"

/* A 1Password service account token (ops_ and the base64 of its JSON
 * object) and a 389 Directory Server {PBKDF2_SHA256} hash (rounds, salt
 * and key in one base64), each long enough to be written once. */
#define ONEPASSWORD_TOKEN \
    "ops_eyJzaWduSW5BZGRyZXNzIjoiYWNtZS4xcGFzc3dvcmQuY29tIiwidXNlckF1dGgiOnsibWV0aG9kIjoiU1JQ" \
    "Zy00MDk2IiwiYWxnIjoiUEJFUzJnLUhTMjU2IiwiaXRlcmF0aW9ucyI6NjUwMDAwLCJzYWx0IjoibkdvT1daM256" \
    "eWpYYm1WR01XMVp6YiJ9LCJlbWFpbCI6InZ4ZmR1aW1ramN0c2dAMXBhc3N3b3Jkc2VydmljZWFjY291bnRzLmNv" \
    "bSIsInNycFgiOiJlNGE3NTU0ZjBkZjhiMWMzNDEyMWNhNjViOWM3NWFlY2Y0YmM2YjQ2N2QyNjIyODE1MDAwZWM2" \
    "ZDIxZDIwZDcxIiwibXVrIjp7ImFsZyI6IkEyNTZHQ00iLCJleHQiOnRydWUsImsiOiIxbXp0dmgyeWZISjYtc0xl" \
    "OUdUOXJsQkY1OXBIa25pdERTVUhtb0pScDM5Iiwia2V5X29wcyI6WyJlbmNyeXB0IiwiZGVjcnlwdCJdLCJrdHki" \
    "OiJvY3QiLCJraWQiOiJtcCJ9LCJzZWNyZXRLZXkiOiJBMy04STk4QlItS0dVNzJPLVZXSFNZLUpYQUM0LTY3NlVF" \
    "LVFRM0NPIiwidGhyb3R0bGVTZWNyZXQiOnsic2VlZCI6ImE2ZjFkMzA0NGI5NGFmOThjMjI4MmUzNjg2YmY4ZWM4" \
    "NzY0YTcxNWVjMTA3ZDJhN2RkZTIzNmNlMmZhMDc3N2IiLCJ1dWlkIjoiNjlLTTNRMUQ2OVJRN0hETUg0Q0pUTlVL" \
    "SUcifSwiZGV2aWNlVXVpZCI6ImxoMWdreGFpdnI2emhwM2lzZWl0bjRuZnAwIn0="
#define DS389_HASH \
    "AAAnECoZBrN31QtWmsEc8+XhLgs+IrsRdU8//HiHMWsLEJK5YZxUOHhGRs8GqQ3HJ060wJQ1aycV/SOXYl2SRS1U" \
    "Iry8pqqQoO9I6KuDxx3z0cSxriKsHiui/A/LY/TnOW8uSMZ/+F76getURyuk3TQwQzafYmtaOSfHp+EVL/jlJb5o" \
    "ZJsqx0oLZB1HVks/Tj46SFIwEC3mPY/n3Zop7p8T34IdOub6t6KRlF1ROghXB6C8ah7CSn9elhkSAcpVDCAuv2Up" \
    "s+ZPUtcGk/z2SeuyFJ4VZicdC0daNYGOO+BbeitfT9AUmwqFjpRE5A3R2dSHT+KCQZa9hZcTj+4Pa6RgTwBSJawq" \
    "THZJKT4iHwMymfYCq1kjUsZ7D/n5ioKNDjQz+AAIZP7rz8n/qV4kSN2wpAqWqnqk7UafQwOB9UJgIkd7"

/* A PostgreSQL password file (~/.pgpass, PGPASSFILE) line:
 * host:port:database:user:password, any of the first four '*'; written
 * by Dockerfiles and CI scripts too. */
static void test_pgpass_lines(void **state)
{
    static const struct leak_case cases[] = {
        {".pgpass", "db.acme.io:5432:app:appuser:Xk9mP2vQ7rT4wL8nZs4x\n", "Xk9mP2vQ7rT4wL8nZs4x",
         "db.acme.io:5432:app:appuser:"},
        {".pgpass, wildcards", "*:*:*:postgres:Tg5hY7uJ9kL2mN4bVc8x\n", "Tg5hY7uJ9kL2mN4bVc8x",
         "*:*:*:postgres:"},
        {"second line, CRLF",
         "localhost:5432:*:replicator:Vb8nM1qW3eR5tY7u\r\n10.0.0.4:6432:billing:ro:Rf4tG6yH8u!K5o\r\n",
         "Rf4tG6yH8u!K5o", "10.0.0.4:6432:billing:ro:"},
        {"written by a script",
         "echo \"db:5432:*:app:Zs4xD6cF8vG1bH3nQw2e\" > ~/.pgpass && chmod 600 ~/.pgpass\n",
         "Zs4xD6cF8vG1bH3nQw2e", "\" > ~/.pgpass && chmod 600 ~/.pgpass\n"},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* Colon-separated lines that are no .pgpass entry (times, MAC addresses,
 * /etc/passwd, image references, a YAML mapping) or whose password is a
 * stand-in. */
static void test_pgpass_kept(void **state)
{
    static const char *const lines[] = {
        "12:30:45:123:Abc12345xyZ\n",
        "00:1a:2b:3c:4d:5e\n",
        "app:x:1000:1000:App User42,,,:/home/app:/bin/bash\n",
        "root:x:0:0:root:/root:/bin/bash\n",
        "image: registry.acme.io:5000/acme/app:v1.2.3-Beta4\n",
        "db.acme.io:5432:app:appuser:${PGPASSWORD}\n",
        "*:*:*:postgres:changeme\n",
        "localhost:5432:*:app:\n",
        "a:b:c:d:Xk9mP2vQ7rT4wL8nZs4x\n",
    };

    (void)state;
    leak_assert_lines_clean(lines, sizeof(lines) / sizeof(lines[0]));
}

/* ODBC connection strings (pyodbc, .NET's OdbcConnection, a DSN-less
 * connection in a config file): the password is Pwd= or PWD=, and a value
 * holding ';' or '}' is braced, {...}, with '}' doubled inside. */
static void test_odbc_connection_strings(void **state)
{
    static const struct leak_case cases[] = {
        {"pyodbc, braced password holding ';'",
         "conn = pyodbc.connect(\"Driver={ODBC Driver 18 for SQL Server};Server=db.acme.io;"
         "Uid=sa;Pwd={Xk9m;P2vQ7rT4wL8n};Encrypt=yes\")\n",
         "Xk9m;P2vQ7rT4wL8n", "};Encrypt=yes\")\n"},
        {"C#, braced password with a doubled '}'",
         "var cs = \"Driver={ODBC Driver 17 for SQL Server};Server=tcp:db,1433;Database=app;"
         "Uid=app;Pwd={Tg5h}}Y7uJ;9kL2mN4b};\";\n",
         "Tg5h}}Y7uJ;9kL2mN4b", "};\";\n"},
        {"braced password, last in the string",
         "DSN = 'DRIVER={PostgreSQL Unicode};SERVER=db;UID=report;PWD={Vb8n;M1qW3eR5tY7u}'\n",
         "Vb8n;M1qW3eR5tY7u", "}'\n"},
        {"braced password holding blanks",
         "cs = \"Driver={ODBC Driver 18 for SQL Server};Server=db;Uid=sa;Pwd={blue Kettle 42 "
         "rides};\"\n",
         "blue Kettle 42 rides", "};\"\n"},
        {"upper-case PWD, plain",
         "odbc_dsn: \"DRIVER={MySQL ODBC 8.0 Driver};SERVER=db;UID=app;PWD=Rf4tG6yH8uJ2iK5o;\"\n",
         "Rf4tG6yH8uJ2iK5o", ";\"\n"},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* ODBC strings and code with no password in them: a format placeholder, a
 * variable or template, an empty value, a braced driver name, and code
 * assigning a dict or block to a pwd. */
static void test_odbc_connection_strings_kept(void **state)
{
    static const char *const lines[] = {
        "cs = \"Driver={ODBC Driver 18 for SQL Server};Server={0};Uid={1};Pwd={2};\"\n",
        "cs = f\"DRIVER={{ODBC Driver 18}};SERVER={host};UID={user};PWD={password}\"\n",
        "cs = \"Driver={SQL Server};Server=db;Uid=sa;Pwd=${DB_PASSWORD};\"\n",
        "cs = \"Driver={SQL Server};Server=db;Trusted_Connection=yes;Pwd=;\"\n",
        "cs = \"Driver={SQL Server};Server=db;Uid=sa;Pwd={{ db_password }};\"\n",
        "pwd={'Home42x': home_Dir42};\n",
        "    \"pwd={'Home42x': home_Dir42};\\n\",\n",
        "cs = \"Pwd={your db password here};\"\n",
        "const pwd = {user: 'App42xQz', dir: cwdPath42};\n",
        "cs = \"Pwd={your-Password-here42}\"\n",
    };

    (void)state;
    leak_assert_lines_clean(lines, sizeof(lines) / sizeof(lines[0]));
}

/* Oracle's JDBC thin and OCI URLs with the credentials in them,
 * jdbc:oracle:thin:USER/PASSWORD@...: the user follows a ':', not a blank
 * or a quote, and the address may be //host:port/service, host:port:SID or
 * a TNS descriptor. */
static void test_jdbc_oracle_credentials(void **state)
{
    static const struct leak_case cases[] = {
        {"thin, host:port/service",
         "spring.datasource.url=jdbc:oracle:thin:scott/tiger@dbhost:1521/ORCL\n", "tiger",
         "jdbc:oracle:thin:scott/"},
        {"thin, //host:port/service",
         "String url = \"jdbc:oracle:thin:app/Xk9mP2vQ7rT4wL8n@//db.acme.io:1521/PDB1\";\n",
         "Xk9mP2vQ7rT4wL8n", "@//db.acme.io:1521/PDB1\";\n"},
        {"thin, host:port:SID",
         "db.url = jdbc:oracle:thin:hr/Tg5hY7uJ9kL2mN4b@10.0.0.7:1521:XE\n", "Tg5hY7uJ9kL2mN4b",
         "@10.0.0.7:1521:XE\n"},
        {"oci, TNS descriptor",
         "url: \"jdbc:oracle:oci:batch/Vb8nM1qW3eR5tY7u@(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)"
         "(HOST=db)(PORT=1521))(CONNECT_DATA=(SERVICE_NAME=APP)))\"\n",
         "Vb8nM1qW3eR5tY7u", "@(DESCRIPTION="},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* Oracle JDBC URLs without a password: none given, a variable, a wallet
 * (/@alias), a stand-in. */
static void test_jdbc_oracle_kept(void **state)
{
    static const char *const lines[] = {
        "spring.datasource.url=jdbc:oracle:thin:@dbhost:1521/ORCL\n",
        "url = \"jdbc:oracle:thin:@//db.acme.io:1521/PDB1\"\n",
        "url = \"jdbc:oracle:thin:${DB_USER}/${DB_PASS}@db:1521/PDB1\"\n",
        "url = \"jdbc:oracle:thin:/@wallet_Alias42\"\n",
        "url = \"jdbc:oracle:thin:scott/password@db:1521/PDB1\"\n",
        "jdbc:oracle:thin:app/\" + pass + \"@db:1521/X42q\n",
    };

    (void)state;
    leak_assert_lines_clean(lines, sizeof(lines) / sizeof(lines[0]));
}

/* Password hashes written out: each can be cracked offline (bcrypt,
 * sha512-crypt and the other crypt(3) forms, Argon2, Apache's apr1 in an
 * htpasswd line), so the hash goes and the user name before it stays. */
static void test_password_hashes(void **state)
{
    static const struct leak_case cases[] = {
        {"bcrypt in a seed",
         "User.create!(email: 'a@acme.io', encrypted_password: "
         "'$2y$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy')\n",
         "$2y$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", "encrypted_password: '"},
        {"bcrypt under password_hash (a name that says no secret)",
         "password_hash = \"$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW\"\n",
         "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW", "password_hash = \""},
        {"bcrypt $2b$ in SQL",
         "INSERT INTO users (name, pw) VALUES ('admin', "
         "'$2b$12$KIXQJ1fW8e3v9kZ6cGm5bO0rT7yU2iPlA4sD8fH1jK3lZ9xC5vB7m');\n",
         "$2b$12$KIXQJ1fW8e3v9kZ6cGm5bO0rT7yU2iPlA4sD8fH1jK3lZ9xC5vB7m", "'admin', '"},
        {"sha512-crypt in /etc/shadow",
         "deploy:$6$Qw8Zr2Lm$Hk3nV9pT5xB1cD7fG2jK4lM6nP8qR0sT2uV4wX6yZ8aB0cD2eF4gH6iJ8kL0mN2oP4qR6s"
         "T8uV0wX2yZ4aB6c.:19700:0:99999:7:::\n",
         "$6$Qw8Zr2Lm$Hk3nV9pT5xB1cD7fG2jK4lM6nP8qR0sT2uV4wX6yZ8aB0cD2eF4gH6iJ8kL0mN2oP4qR6s"
         "T8uV0wX2yZ4aB6c.",
         "deploy:"},
        {"sha512-crypt with rounds, cloud-init",
         "    passwd: \"$6$rounds=4096$Zx3cV6bN$9mL2kJ5hG8fD1sA4qW7eR0tY3uI6oP9aS2dF5gH8jK1lZ4xC7vB0nM3qW6eR"
         "9tY2uI5oP8aS1dF4gH7jK0lZ3x\"\n",
         "$6$rounds=4096$Zx3cV6bN$9mL2kJ5hG8fD1sA4qW7eR0tY3uI6oP9aS2dF5gH8jK1lZ4xC7vB0nM3qW6eR"
         "9tY2uI5oP8aS1dF4gH7jK0lZ3x",
         "    passwd: \""},
        {"argon2id in a fixture",
         "HASH = \"$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$Rk2vT8nW4qZ6xB9mJ3hL5fD7sG1aP0"
         "oI8uY6tR4eW2q\"\n",
         "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$Rk2vT8nW4qZ6xB9mJ3hL5fD7sG1aP0"
         "oI8uY6tR4eW2q",
         "HASH = \""},
        {"htpasswd line, apr1",
         "admin:$apr1$Kq3mW8vT$Jh4Lp9Dc6Fg1Sa0Qw2Er5/\nbob:$apr1$Zs4xD6cF$Mk2jN4hB6gV8fC1dLp0oT.\n",
         "$apr1$Zs4xD6cF$Mk2jN4hB6gV8fC1dLp0oT.", "admin:"},
        {"yescrypt in /etc/shadow",
         "ops:$y$j9T$Pq7wZx3cV6bN9mL2kJ5hG.$Rf4tG6yH8uJ2iK5oPq9wZs4xD6cF8vG1bH3nQw2eMk2:19700:0:99999:7:::\n",
         "$y$j9T$Pq7wZx3cV6bN9mL2kJ5hG.$Rf4tG6yH8uJ2iK5oPq9wZs4xD6cF8vG1bH3nQw2eMk2", "ops:"},
        {"apr1 in a Compose label, $ doubled",
         "      - \"traefik.http.middlewares.auth.basicauth.users=admin:$$apr1$$H6uskkkW$$IgXLP6ewTrS"
         "uBkTrqE8wj/\"\n",
         "$$apr1$$H6uskkkW$$IgXLP6ewTrSuBkTrqE8wj/", "basicauth.users=admin:"},
        {"bcrypt, $ escaped in a shell string",
         "echo \"admin:\\$2y\\$05\\$Tq8vW2xZ5bN7mK4jH6gF9dS1aQ3wE5rT7yU9iO2pL4kJ6hG8fD0sQ\" > users\n",
         "$2y\\$05\\$Tq8vW2xZ5bN7mK4jH6gF9dS1aQ3wE5rT7yU9iO2pL4kJ6hG8fD0sQ", "echo \"admin:"},
        {"md5-crypt, echoed to a file",
         "echo 'ops:$1$Vb8nM1qW$Rf4tG6yH8uJ2iK5oPq9wZx' >> /etc/nginx/.htpasswd\n",
         "$1$Vb8nM1qW$Rf4tG6yH8uJ2iK5oPq9wZx", "echo 'ops:"},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* Text shaped a little like a crypt hash that is none: Perl and PHP
 * variables and regex groups, a shell's $1$2, a hash's format described,
 * a truncated example, an all-one-byte stand-in. */
static void test_password_hashes_kept(void **state)
{
    static const char *const lines[] = {
        "my $s = \"$1$2\"; $a = $6 . $argon;\n",
        "s/(\\w+)-(\\w+)/$2$1/g;\n",
        "# format: $2b$<cost>$<22-byte salt><31-byte hash>\n",
        "# sha512-crypt hashes look like $6$salt$hash\n",
        "hash = \"$2y$10$\" + salt + digest\n",
        "EXAMPLE = '$2b$12$xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'\n",
        "$apr1$ = 'Apache MD5 prefix42';\n",
        "printf '%s$%s$%s' \"$ALG\" \"$SALT\" \"$HASH\"\n",
    };

    (void)state;
    leak_assert_lines_clean(lines, sizeof(lines) / sizeof(lines[0]));
}

/* HashiCorp Vault tokens: hvs. (service) and hvb. (batch) have a shape of
 * their own, wherever they stand; a legacy s. token only as VAULT_TOKEN's
 * value (unquoted, "s.X..." read as a dotted name). */
static void test_vault_tokens(void **state)
{
    static const struct leak_case cases[] = {
        {"export VAULT_TOKEN, hvs.",
         "export VAULT_TOKEN=hvs.CAESIJlWh6kzLyJ3r7n0qG5mVtRzXpLwKjHnBgFdSaYcUeIoTrEwQaSdZxCvBnMl"
         "KjHgFdSaPoIuYtReWqGh4KbnR3Jl2Z0x\n",
         "hvs.CAESIJlWh6kzLyJ3r7n0qG5mVtRzXpLwKjHnBgFdSaYcUeIoTrEwQaSdZxCvBnMlKjHgFdSaPoIuYtReWq"
         "Gh4KbnR3Jl2Z0x",
         "export VAULT_TOKEN="},
        {"hvs. in a Python client",
         "client = hvac.Client(url=VAULT_ADDR, "
         "token='hvs.CAESIGq2mW8vT3zR5xN7bJh4Lp9Dc6Fg1Sa0Qw2Er5Ty8Ui3Op7As6Df4Gh9Jk2LzXcVbNmQwEr"
         "TyUiOpAsDfGh4KbnR3Jl2Z0y')\n",
         "hvs.CAESIGq2mW8vT3zR5xN7bJh4Lp9Dc6Fg1Sa0Qw2Er5Ty8Ui3Op7As6Df4Gh9Jk2LzXcVbNmQwErTyUiOpAs"
         "DfGh4KbnR3Jl2Z0y",
         "client = hvac.Client(url=VAULT_ADDR, token='"},
        {"hvb. batch token in a CI file",
         "    - vault kv get -address=$VAULT_ADDR "
         "-token=hvb.AAAAAQJ8mK2vT8nW4qZ6xB9mJ3hL5fD7sG1aP0oI8uY6tR4eW2qA9zX7cV5bN3mK1jH8gF6dS4a"
         "Q2wELm9NoPAAbC3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5bC7dE9fG1hJ3kL5mN7p secret/app\n",
         "hvb.AAAAAQJ8mK2vT8nW4qZ6xB9mJ3hL5fD7sG1aP0oI8uY6tR4eW2qA9zX7cV5bN3mK1jH8gF6dS4aQ2wELm9"
         "NoPAAbC3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5bC7dE9fG1hJ3kL5mN7p",
         " secret/app\n"},
        {"legacy s. token, .env", "VAULT_TOKEN=s.Xk9mP2vQ7rT4wL8nZs4xQw2e\n",
         "s.Xk9mP2vQ7rT4wL8nZs4xQw2e", "VAULT_TOKEN="},
        {"legacy s. token, exported in YAML",
         "env:\n  VAULT_TOKEN: s.Tg5hY7uJ9kL2mN4bVc8xRf4t\n", "s.Tg5hY7uJ9kL2mN4bVc8xRf4t",
         "  VAULT_TOKEN: "},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* Vault-like text that is no token: a short hvs. attribute, s. as an
 * object's member (under other names, and as code under VAULT_TOKEN), a
 * stand-in. */
static void test_vault_tokens_kept(void **state)
{
    static const char *const lines[] = {
        "hvs.append(hv_Sample42);\n",
        "token = s.Xk9mP2vQ7rT4wL8nZs4xQw2e\n",
        "VAULT_TOKEN=s.getToken42xQz\n",
        "VAULT_TOKEN=${VAULT_TOKEN_FROM_CI}\n",
        "VAULT_TOKEN=hvs.xxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
        "return s.Xk9mP2vQ7rT4wL8nZs4xQw2e;\n",
    };

    (void)state;
    leak_assert_lines_clean(lines, sizeof(lines) / sizeof(lines[0]));
}

/* PyPI API tokens (pypi-AgEIcHlwaS5vcmc..., "pypi.org" in the macaroon;
 * TestPyPI's pypi-AgENdGVzdC5weXBpLm9yZw...) wherever they stand: a
 * .pypirc, a CI step, a workflow. */
static void test_pypi_tokens(void **state)
{
    static const struct leak_case cases[] = {
        {".pypirc",
         "[pypi]\nusername = __token__\npassword = pypi-AgEIcHlwaS5vcmcCJGQ4ZjU2YjM0LTdhOWQtNGU"
         "xZi1iMmM3LWE5ZjA1ZDNlNjc4OQACKlszLCI3YjE2ZmQ0Mi1jOTJlLTRkNzctOTg1Zi0yYWI0YjZmOWQ5MGEiXQ"
         "AABiDk3mW8vT2zR5xN7bJh4Lp9Dc6Fg1Sa0Qw2Er5Ty8Ui3\n",
         "pypi-AgEIcHlwaS5vcmcCJGQ4ZjU2YjM0LTdhOWQtNGUxZi1iMmM3LWE5ZjA1ZDNlNjc4OQACKlszLCI3YjE2Z"
         "mQ0Mi1jOTJlLTRkNzctOTg1Zi0yYWI0YjZmOWQ5MGEiXQAABiDk3mW8vT2zR5xN7bJh4Lp9Dc6Fg1Sa0Qw2Er5"
         "Ty8Ui3",
         "username = __token__\npassword = "},
        {"uv publish in CI",
         "  run: uv publish --token pypi-AgEIcHlwaS5vcmcCJDRhN2I5YzEyLWUzZjQtNDU2Ny04OWFiLWNkZW"
         "YwMTIzNDU2NwACKlszLCJhYmNkZWYwMS0yMzQ1LTY3ODktYWJjZC1lZjAxMjM0NTY3ODkiXQAABiBq9Kx2Lm4N"
         "p6Rs8Tu0Vw2Xy4Za6Bc8De0Fg2Hi4Jk\n",
         "pypi-AgEIcHlwaS5vcmcCJDRhN2I5YzEyLWUzZjQtNDU2Ny04OWFiLWNkZWYwMTIzNDU2NwACKlszLCJhYmNk"
         "ZWYwMS0yMzQ1LTY3ODktYWJjZC1lZjAxMjM0NTY3ODkiXQAABiBq9Kx2Lm4Np6Rs8Tu0Vw2Xy4Za6Bc8De0Fg"
         "2Hi4Jk",
         "  run: uv publish --token "},
        {"TestPyPI, under an unlisted name",
         "TESTPYPI = \"pypi-AgENdGVzdC5weXBpLm9yZwIkZjY3ODkwYWItY2RlZi00MTIzLTQ1NjctODlhYmNkZWYw"
         "MTIzAAIqWzMsImZlZGNiYTk4LTc2NTQtNDMyMS1hYmNkLWVmMDEyMzQ1Njc4OSJdAAAGIHb3Mx\"\n",
         "pypi-AgENdGVzdC5weXBpLm9yZwIkZjY3ODkwYWItY2RlZi00MTIzLTQ1NjctODlhYmNkZWYwMTIzAAIqWzMs"
         "ImZlZGNiYTk4LTc2NTQtNDMyMS1hYmNkLWVmMDEyMzQ1Njc4OSJdAAAGIHb3Mx",
         "TESTPYPI = \""},
        {"poetry config, a positional argument",
         "poetry config pypi-token.pypi pypi-AgEIcHlwaS5vcmcCJGE5YjhjN2Q2LWU1ZjQtNDMyMS1iYTk4LTc2"
         "NTQzMjEwZmVkYwACKlszLCIwMTIzNDU2Ny04OWFiLWNkZWYtMDEyMy00NTY3ODlhYmNkZWYiXQAABiAx2Yz4Wv6U"
         "t8Sr0Qp2On4Ml6Kj8Ih0Gf2Ed4Cb6A\n",
         "pypi-AgEIcHlwaS5vcmcCJGE5YjhjN2Q2LWU1ZjQtNDMyMS1iYTk4LTc2NTQzMjEwZmVkYwACKlszLCIwMTIz"
         "NDU2Ny04OWFiLWNkZWYtMDEyMy00NTY3ODlhYmNkZWYiXQAABiAx2Yz4Wv6Ut8Sr0Qp2On4Ml6Kj8Ih0Gf2Ed4"
         "Cb6A",
         "poetry config pypi-token.pypi "},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* pypi- words that are no token: package names, the prefix alone, a
 * truncated example. */
static void test_pypi_tokens_kept(void **state)
{
    static const char *const lines[] = {
        "pip install pypi-simple pypi-attestations42\n",
        "TOKEN_PREFIX = \"pypi-AgEIcHlwaS5vcmc\"\n",
        "assert token.startswith('pypi-AgEIcHlwaS5vcmc...')\n",
    };

    (void)state;
    leak_assert_lines_clean(lines, sizeof(lines) / sizeof(lines[0]));
}

/* Webhook URLs, whose path is the credential: anyone holding one posts to
 * the channel. Slack's (hooks.slack.com/services/...), Discord's
 * (discord.com/api/webhooks/ID/TOKEN, also discordapp.com, ptb. and
 * canary., /api/v10/) and Microsoft Teams' incoming webhooks
 * (*.webhook.office.com/webhookb2/...). */
static void test_webhook_urls(void **state)
{
    static const struct leak_case cases[] = {
        {"Slack, in Python",
         "requests.post(\"https://hooks.slack.com/services/T05A1B2C3D4/B06E5F6G7H8/"
         "Xk9mP2vQ7rT4wL8nZs4xQw2e\", json=msg)\n",
         "Xk9mP2vQ7rT4wL8nZs4xQw2e", "requests.post(\"https://hooks.slack.com/services/"},
        {"Discord, .env",
         "DISCORD_WEBHOOK_URL=https://discord.com/api/webhooks/1705191646894466729/"
         "1go8AWY5mbeQyJjvUHdEaw_bmbCFrKR4Ej4WbI17YTG0hJfmqsMFmRZMdAcgcwWwayFm\n",
         "1go8AWY5mbeQyJjvUHdEaw_bmbCFrKR4Ej4WbI17YTG0hJfmqsMFmRZMdAcgcwWwayFm",
         "DISCORD_WEBHOOK_URL=https://discord.com/api/webhooks/"},
        {"Discord, discordapp.com in a notifier",
         "    notify(\"https://ptb.discordapp.com/api/v10/webhooks/9295999298887954033/"
         "m8JqdrZGpnrBqPm-huY2TJZFn-itoQG3NNkpPVRjL5fo9tkzLvyuVTJlFy1W_yG_csKw\", text)\n",
         "m8JqdrZGpnrBqPm-huY2TJZFn-itoQG3NNkpPVRjL5fo9tkzLvyuVTJlFy1W_yG_csKw", "\", text)\n"},
        {"Teams, PowerShell",
         "$uri = \"https://contoso.webhook.office.com/webhookb2/f85f1d99-8787-7a23-62a5-"
         "e947b49996dd@2762af7e-fad0-c52e-f0cf-190e0928509b/IncomingWebhook/"
         "8e2177c50439080271ff9a53b8cfcc1b/92b10b60-e36e-8e47-f617-154ebf6faa92\"\n",
         "8e2177c50439080271ff9a53b8cfcc1b", "$uri = \"https://contoso.webhook.office.com/"},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* Webhook URLs without their secret: templates, documentation's stand-ins,
 * the route alone, a token added from a variable. */
static void test_webhook_urls_kept(void **state)
{
    static const char *const lines[] = {
        "url = f\"https://discord.com/api/webhooks/{webhook_id}/{webhook_token}\"\n",
        "# POST https://discord.com/api/webhooks/<id>/<token>\n",
        "URL = \"https://discord.com/api/webhooks/\" + hook_id + \"/\" + hook_token42\n",
        "HOOK = \"https://discord.com/api/webhooks/123456789012345678/XXXXXXXXXXXXXXXXXXXXXXXX\"\n",
        "see https://discord.com/api/webhooks for the API\n",
        "u = \"https://acme.webhook.office.com/webhookb2/<group>@<tenant>/IncomingWebhook/<id>\"\n",
    };

    (void)state;
    leak_assert_lines_clean(lines, sizeof(lines) / sizeof(lines[0]));
}

/* Service tokens with a prefix of their own, given where no secret name
 * stands before them: a positional argument, a dict or a list, a variable
 * named after the service. npm, DigitalOcean, Shopify, Heroku (both
 * shapes), Mailgun (a key of hex only beside the service's name),
 * Mailchimp, Postman, Linear, Notion, Doppler, Databricks, Grafana, New
 * Relic (user, insert and browser keys), Atlassian, Sentry, PlanetScale,
 * Pulumi, RubyGems, 1Password service accounts, age, OpenShift. */
static void test_service_tokens(void **state)
{
    static const struct leak_case cases[] = {
        {"npm, yarn config", "yarn config set npmAuthToken npm_XsF3fxXuHlQLsQVkuIpPegt98k9EANbl3vNj\n",
         "npm_XsF3fxXuHlQLsQVkuIpPegt98k9EANbl3vNj", "yarn config set npmAuthToken "},
        {"npm, .npmrc",
         "//registry.npmjs.org/:_authToken=npm_kwqiKSOlBd1W3QWhhN1YzUDUiQHk4mPgdnVv\n",
         "npm_kwqiKSOlBd1W3QWhhN1YzUDUiQHk4mPgdnVv", "//registry.npmjs.org/:_authToken="},
        {"npm, .npmrc, a legacy UUID token",
         "//registry.npmjs.org/:_authToken=def0df7a-82e6-1094-975a-b431b7d56a16\n",
         "def0df7a-82e6-1094-975a-b431b7d56a16", "//registry.npmjs.org/:_authToken="},
        {"DigitalOcean, pydo",
         "client = pydo.Client(\"dop_v1_4ba05b20f4c82ffe45918c0daf69b05e51993feeb89e851b10dac40a4a"
         "03e1d9\")\n",
         "dop_v1_4ba05b20f4c82ffe45918c0daf69b05e51993feeb89e851b10dac40a4a03e1d9",
         "client = pydo.Client(\""},
        {"DigitalOcean OAuth, a fixture list",
         "TOKENS = ['doo_v1_15ba68f5387cb8b79b040411d12fcf799757ec0f315d9d87438534944e900800']\n",
         "doo_v1_15ba68f5387cb8b79b040411d12fcf799757ec0f315d9d87438534944e900800", "TOKENS = ['"},
        {"Shopify admin token, positional",
         "session = shopify.Session(\"acme.myshopify.com\", \"2024-01\", "
         "\"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\")\n",
         "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", "\"2024-01\", \""},
        {"Shopify shared secret, in a dict",
         "APPS = {\"acme\": \"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\"}\n",
         "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", "APPS = {\"acme\": \""},
        {"Heroku, heroku3",
         "heroku_conn = heroku3.from_key(\"HRKU-AATtsYXrPrS9qweXxYGrv3NYNnKaQrY-n6hVxcCrcz4IyjUICioq"
         "_kght83e\")\n",
         "HRKU-AATtsYXrPrS9qweXxYGrv3NYNnKaQrY-n6hVxcCrcz4IyjUICioq_kght83e",
         "heroku_conn = heroku3.from_key(\""},
        {"Mailgun, mailgun.js",
         "const mg = mailgun.client({ username: 'api', key: 'key-es91a0vxhbha5uixtz88cwmtle8adsjg' });\n",
         "key-es91a0vxhbha5uixtz88cwmtle8adsjg", "username: 'api', key: '"},
        {"Mailchimp, mailchimp3",
         "client = MailChimp(mc_api='ca46715fe43d8b150f341aa4c33ff7b1-us21', mc_user='acme')\n",
         "ca46715fe43d8b150f341aa4c33ff7b1-us21", "', mc_user='acme')\n"},
        {"Postman, a header in a collection runner",
         "run(collection, \"PMAK-36aac5cc61bb59b60a177e5f-ef647fe27c5750a02ebae8021a3cc8dac0\")\n",
         "PMAK-36aac5cc61bb59b60a177e5f-ef647fe27c5750a02ebae8021a3cc8dac0", "run(collection, \""},
        {"Linear, positional",
         "linear = LinearClient(\"lin_api_rJgdtilhDftToNUxQV7w8Y5gNtC74gQ5MjSdZWxV\")\n",
         "lin_api_rJgdtilhDftToNUxQV7w8Y5gNtC74gQ5MjSdZWxV", "linear = LinearClient(\""},
        {"Notion, ntn_ under the service's name",
         "NOTION = \"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\"\n",
         "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", "NOTION = \""},
        {"Notion, a legacy secret_ integration token",
         "notion = Client(options={\"auth\": \"secret_R4Dci0chXPh6karsdmnHIZau3g5ZqLCwZmwkVA3jpa0\"})\n",
         "secret_R4Dci0chXPh6karsdmnHIZau3g5ZqLCwZmwkVA3jpa0", "notion = Client(options={\"auth\": \""},
        {"Notion, a legacy secret_ token under an unlisted name",
         "NOTION_KEY = \"secret_Kq3mW8vT2zR5xN7bJh4Lp9Dc6Fg1Sa0Qw2Er5Ty8Ui3\"\n",
         "secret_Kq3mW8vT2zR5xN7bJh4Lp9Dc6Fg1Sa0Qw2Er5Ty8Ui3", "NOTION_KEY = \""},
        {"Doppler, personal token",
         "DOPPLER = \"dp.pt.RXw9295db7CYPaMiMijTS6dGgbq84jhSAkNFEDtF3iE\"\n",
         "dp.pt.RXw9295db7CYPaMiMijTS6dGgbq84jhSAkNFEDtF3iE", "DOPPLER = \""},
        {"Doppler, service token in a compose file",
         "      - DOPPLER_ENV=dp.st.prd.0DKT88AmQFyLyVC1dtBSNYSAmq0TdGJ7Fpf6hSiJMn6\n",
         "dp.st.prd.0DKT88AmQFyLyVC1dtBSNYSAmq0TdGJ7Fpf6hSiJMn6", "      - DOPPLER_ENV="},
        {"Databricks, by workspace",
         "WORKSPACES = {\"prod\": \"dapi9b8cd7e30eeb0dc7ab983c8c77813ecb\"}\n",
         "dapi9b8cd7e30eeb0dc7ab983c8c77813ecb", "WORKSPACES = {\"prod\": \""},
        {"Grafana Cloud token",
         "GRAFANA_CLOUD = \"glc_6RnLxEulPeNG5JtEXxt1F4/9/IO4VDIEpClK+pOT6YTh+Shhu204PBZJl64r5IPfymx"
         "S9i7rQ/tpO9wy==\"\n",
         "glc_6RnLxEulPeNG5JtEXxt1F4/9/IO4VDIEpClK+pOT6YTh+Shhu204PBZJl64r5IPfymxS9i7rQ/tpO9wy==",
         "GRAFANA_CLOUD = \""},
        {"Grafana service account",
         "sa = \"glsa_6WTuHESbGosONjoMgJyRUBJsHUlnI0Yi_cc1ed473\"\n",
         "glsa_6WTuHESbGosONjoMgJyRUBJsHUlnI0Yi_cc1ed473", "sa = \""},
        {"New Relic user key", "NEW_RELIC_USER_KEY=NRAK-JXNZVWXLP8WUWXZ3QDAL2D2YS6F\n",
         "NRAK-JXNZVWXLP8WUWXZ3QDAL2D2YS6F", "NEW_RELIC_USER_KEY="},
        {"Atlassian API token",
         "JIRA_API = \"ATATT3xFfGF0Ube3DPORHOdkUFvaZyOPm314DrXW3eGSEhphLP6iMNHWCvyMg3aREWhH7nMpw6dQbV-"
         "ICErppOdT_xY1NGelkEuKcYCGg8H2m69qaOD3aNL-MCFSa0CAsmCfg0jMoSiCaXaroQBwu64ieEeWspmMd8HmaVsKy"
         "0zGk_Omny5u5ryuZA=0B418BC3\"\n",
         "ATATT3xFfGF0Ube3DPORHOdkUFvaZyOPm314DrXW3eGSEhphLP6iMNHWCvyMg3aREWhH7nMpw6dQbV-ICErppOdT_"
         "xY1NGelkEuKcYCGg8H2m69qaOD3aNL-MCFSa0CAsmCfg0jMoSiCaXaroQBwu64ieEeWspmMd8HmaVsKy0zGk_Omny5"
         "u5ryuZA=0B418BC3",
         "JIRA_API = \""},
        {"Heroku, a UUID after HRKU-",
         "HEROKUS = {\"staging\": \"HRKU-540abf77-f294-4527-a2d3-2e8cb24600d5\"}\n",
         "HRKU-540abf77-f294-4527-a2d3-2e8cb24600d5", "HEROKUS = {\"staging\": \""},
        {"Heroku, HRKU-AA and 58",
         "heroku3.from_key('HRKU-AAfGD-AO0f9WBFOaVZB-EF8UWaMr6-G9DpvfVo_____wtgQWpbC4tomiVn0Z')\n",
         "HRKU-AAfGD-AO0f9WBFOaVZB-EF8UWaMr6-G9DpvfVo_____wtgQWpbC4tomiVn0Z", "heroku3.from_key('"},
        {"Mailgun, a hex key beside the service's name",
         "requests.post(\"https://api.mailgun.net/v3/mg.acme.io/messages\",\n"
         "              auth=(\"api\", \"key-4427ed282df9c6c0006771f0e015a79c\"), data=msg)\n",
         "key-4427ed282df9c6c0006771f0e015a79c", "auth=(\"api\", \""},
        {"New Relic insert key, a header",
         "headers.set(\"X-Insert-Key\", \"NRII-WuAP1X18_16OapVpdSgY4v1uXHSwFr-G\");\n",
         "NRII-WuAP1X18_16OapVpdSgY4v1uXHSwFr-G", "headers.set(\"X-Insert-Key\", \""},
        {"New Relic license key, newrelic.yml",
         "common: &default_settings\n  license_key: 8f3a7c9e2b4d6f1a0c5e7b9d3f2a4c6e8b1dNRAL\n",
         "8f3a7c9e2b4d6f1a0c5e7b9d3f2a4c6e8b1dNRAL", "  license_key: "},
        {"New Relic license key, an agent's call",
         "newrelic.initialize(app_name='shop', license_key=\"0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3fNRAL\")\n",
         "0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3fNRAL", "license_key=\""},
        {"New Relic browser key, the agent's info",
         "NREUM.loader_config = {accountID: \"4242\", licenseKey: \"NRJS-a1c7fecae6a0ae0348f\"};\n",
         "NRJS-a1c7fecae6a0ae0348f", "licenseKey: \""},
        {"Sentry org token, by organisation",
         "SENTRY_ORGS = {\"acme-shop\": \""
         "sntrys_eyJpYXQiOjE3MzI0OTI4MDAuNDE4MzA1LCJ1cmwiOiJodHRwczovL3NlbnRyeS5pbyIsInJlZ2lvbl91c"
         "mwiOiJodHRwczovL2RlLnNlbnRyeS5pbyIsIm9yZyI6ImFjbWUtc2hvcCJ9_bO5FeYx9pM5gNfdKwkEJ3PEVVIPc"
         "P4Y7p4tD14z4gzM\"}\n",
         "sntrys_eyJpYXQiOjE3MzI0OTI4MDAuNDE4MzA1LCJ1cmwiOiJodHRwczovL3NlbnRyeS5pbyIsInJlZ2lvbl91c"
         "mwiOiJodHRwczovL2RlLnNlbnRyeS5pbyIsIm9yZyI6ImFjbWUtc2hvcCJ9_bO5FeYx9pM5gNfdKwkEJ3PEVVIPc"
         "P4Y7p4tD14z4gzM",
         "SENTRY_ORGS = {\"acme-shop\": \""},
        {"Sentry user token, a bearer auth",
         "r = requests.get(url, auth=BearerAuth(\"sntryu_f233c5ae6e90052a38b8dd277bdef11357f8a30d7761a"
         "1100ff311968bba316e\"))\n",
         "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",
         "r = requests.get(url, auth=BearerAuth(\""},
        {"PlanetScale service token, a CLI call",
         "pscale branch list app --service-token-id ci --service-token "
         "pscale_tkn_XghYA_9RNTvGU-cqNGTIgk0z1HmU9IeCDth63guwC_p\n",
         "pscale_tkn_XghYA_9RNTvGU-cqNGTIgk0z1HmU9IeCDth63guwC_p", "--service-token-id ci"},
        {"PlanetScale password in a DSN list",
         "DSNS = [(\"app\", \"pscale_pw_jR9PtoejZHnfaZ5GrHuTE0jd0j8My4oy1OILnCw0Nkr\")]\n",
         "pscale_pw_jR9PtoejZHnfaZ5GrHuTE0jd0j8My4oy1OILnCw0Nkr", "DSNS = [(\"app\", \""},
        {"PlanetScale OAuth token",
         "client = PlanetScale(\"pscale_oauth_9WoMUssLZ2shr3zJRrsBHX0P_pzr47oGQWeqUcmhwdD\")\n",
         "pscale_oauth_9WoMUssLZ2shr3zJRrsBHX0P_pzr47oGQWeqUcmhwdD", "client = PlanetScale(\""},
        {"Pulumi access token, a login",
         "pulumi login --cloud-url https://api.pulumi.com <<< pul-2e58f748ed06827bc8ba730d52a629e81f281476\n",
         "pul-2e58f748ed06827bc8ba730d52a629e81f281476", "pulumi login --cloud-url"},
        {"RubyGems API key, ~/.gem/credentials",
         "---\n:rubygems: rubygems_24a2ebc1fbfe235dcfb692d29afb0d915b626890ca058e8a\n",
         "rubygems_24a2ebc1fbfe235dcfb692d29afb0d915b626890ca058e8a", ":rubygems: "},
        {"1Password service account token",
         "client = await Client.authenticate(auth=\"" ONEPASSWORD_TOKEN "\", integration_name=\"ci\")\n",
         ONEPASSWORD_TOKEN, "client = await Client.authenticate(auth=\""},
        {"age secret key, a key file",
         "# public key: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n"
         "AGE-SECRET-KEY-1LFHAAMNN6N3M2KV7P2S0PLV443VT7QUL62DYHW6J2ZR3QKEXPCWW9930S0\n",
         "AGE-SECRET-KEY-1LFHAAMNN6N3M2KV7P2S0PLV443VT7QUL62DYHW6J2ZR3QKEXPCWW9930S0",
         "# public key: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n"},
        {"OpenShift token, by cluster",
         "CLUSTERS = {\"ocp-prod\": (\"https://api.ocp.acme.io:6443\", "
         "\"sha256~M5rmGoDtcAY62dggpUC3gBPnt-PtiWuRqkaRrgwffxy\")}\n",
         "sha256~M5rmGoDtcAY62dggpUC3gBPnt-PtiWuRqkaRrgwffxy",
         "CLUSTERS = {\"ocp-prod\": (\"https://api.ocp.acme.io:6443\", \""},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* Telegram bot tokens, BOT_ID:AA + 33: in a client's constructor and in
 * the Bot API's URL (api.telegram.org/bot<token>/method). */
static void test_telegram_bot_tokens(void **state)
{
    static const struct leak_case cases[] = {
        {"pyTelegramBotAPI",
         "bot = telebot.TeleBot(\"9248923781:AAKEcRCRdAQtOOMxaXnUDAMOdeZfKQxX5Kx\")\n",
         "AAKEcRCRdAQtOOMxaXnUDAMOdeZfKQxX5Kx", "bot = telebot.TeleBot(\""},
        {"Bot API URL in curl",
         "curl -s \"https://api.telegram.org/bot7133612370:AA84N_qtKjL1fdYwE95c_XXqce_aQ2TVbm2/"
         "sendMessage\" -d chat_id=42\n",
         "AA84N_qtKjL1fdYwE95c_XXqce_aQ2TVbm2", "/sendMessage\" -d chat_id=42\n"},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* Slack's other tokens: an app-level token (xapp-, Socket Mode), an app
 * configuration token (xoxe.xoxp-) and its refresh token (xoxe-). */
static void test_slack_token_variants(void **state)
{
    static const struct leak_case cases[] = {
        {"Slack Bolt, Socket Mode",
         "SocketModeHandler(app, \"xapp-1-A07SFZ6DJAT-7755099159534-f46d2c43ff6c2477a6326af839deb"
         "628abd4321a607b18096efb051b3a21b3d6\").start()\n",
         "xapp-1-A07SFZ6DJAT-7755099159534-f46d2c43ff6c2477a6326af839deb628abd4321a607b18096efb051b"
         "3a21b3d6",
         "SocketModeHandler(app, \""},
        {"Slack configuration token",
         "rotate(\"xoxe.xoxp-1-PvDkPpyjEodN6yQVP9wx4ldB3ZQlFr3WZ1dqYO28s0iMRZEYpP0YYPpkFy5YV0CspAw2PK"
         "EhaqvhZXWQFIIIPtYJPE5tWrXaxztNFRl89ODivV4Q88bw9ykwS2v6km97eVQArzOzCx2NEv3Np3BGthcxOq6csRH"
         "pYntC\")\n",
         "xoxp-1-PvDkPpyjEodN6yQVP9wx4ldB3ZQlFr3WZ1dqYO28s0iMRZEYpP0YYPpkFy5YV0CspAw2PKEhaqvhZXWQFII"
         "IPtYJPE5tWrXaxztNFRl89ODivV4Q88bw9ykwS2v6km97eVQArzOzCx2NEv3Np3BGthcxOq6csRHpYntC",
         "rotate(\""},
        {"Slack configuration refresh token",
         "rotate(\"xoxe-1-cxkgRJOIZtnWZpUMBC6xdcV1cQGWesqjIzLiqk6J5mtEPWywWGLHm65TyzXLebxvTRf4w0Y1Q8o"
         "yiaijAdbd7mluWBtDELJtPjh1TlAQxUlbAeYFAb9AVWhKHrB7c94qR0D3QwrxmnaqiYb1VO\")\n",
         "xoxe-1-cxkgRJOIZtnWZpUMBC6xdcV1cQGWesqjIzLiqk6J5mtEPWywWGLHm65TyzXLebxvTRf4w0Y1Q8oyiaijAdbd"
         "7mluWBtDELJtPjh1TlAQxUlbAeYFAb9AVWhKHrB7c94qR0D3QwrxmnaqiYb1VO",
         "rotate(\""},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* GitHub's other token prefixes (fine-grained, app installation, user to
 * server, refresh) and GitLab's other tokens (pipeline trigger, deploy,
 * runner, CI job, runner registration). */
static void test_github_gitlab_token_variants(void **state)
{
    static const struct leak_case cases[] = {
        {"GitHub fine-grained PAT",
         "gh = Github(\"github_pat_11ABCDEFG0aB3cD5eF7gH9_iJ1kL3mN5oP7qR9sT1uV3wX5yZ7aB9cD1eF3gH5iJ"
         "7kL9mN1oP3qR5sT7uV9wX1yZ3aB5cD7eF9\")\n",
         "github_pat_11ABCDEFG0aB3cD5eF7gH9_iJ1kL3mN5oP7qR9sT1uV3wX5yZ7aB9cD1eF3gH5iJ7kL9mN1oP3qR5"
         "sT7uV9wX1yZ3aB5cD7eF9",
         "gh = Github(\""},
        {"GitHub app installation token", "GH = \"ghs_Tq8vW2xZ5bN7mK4jH6gF9dS1aQ3wE5rT7yU9\"\n",
         "ghs_Tq8vW2xZ5bN7mK4jH6gF9dS1aQ3wE5rT7yU9", "GH = \""},
        {"GitHub refresh token", "refresh = \"ghr_Rk2vT8nW4qZ6xB9mJ3hL5fD7sG1aP0oI8uY6\"\n",
         "ghr_Rk2vT8nW4qZ6xB9mJ3hL5fD7sG1aP0oI8uY6", "refresh = \""},
        {"GitLab pipeline trigger",
         "TRIGGER = \"glptt-78be784e13cd37d799fd7fbe61868dbe595630a8\"\n",
         "glptt-78be784e13cd37d799fd7fbe61868dbe595630a8", "TRIGGER = \""},
        {"GitLab deploy token, a registry login's positional",
         "echo gldt-rKqt3m9iEWiE1VbBsCNb | helm registry login reg.acme.io -u deploy "
         "--password-stdin\n",
         "gldt-rKqt3m9iEWiE1VbBsCNb", "| helm registry login"},
        {"GitLab runner token, a list",
         "RUNNERS = [\"glrt-5ksii-FTc8-F12v7mLi5\", \"glrt-t1_LeE6P7ruSsdc_pdQN4u5W0z1UHq.01gvvgexl\"]\n",
         "glrt-t1_LeE6P7ruSsdc_pdQN4u5W0z1UHq.01gvvgexl", "RUNNERS = [\""},
        {"GitLab runner token, the short form",
         "RUNNERS = [\"glrt-5ksii-FTc8-F12v7mLi5\"]\n", "glrt-5ksii-FTc8-F12v7mLi5", "RUNNERS = [\""},
        {"GitLab CI job token", "JOB = 'glcbt-64_i_T_0qHEA0pA1HyR_Qdx'\n",
         "glcbt-64_i_T_0qHEA0pA1HyR_Qdx", "JOB = '"},
        {"GitLab runner registration token",
         "REG = \"GR1348941Vb8nM1qW3eR5tY7uZx4c\"\n", "GR1348941Vb8nM1qW3eR5tY7uZx4c", "REG = \""},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* Lookalikes of the prefixed tokens: identifiers and package names
 * sharing a prefix, prefixes alone, documentation's stand-ins, hex that is
 * a digest (also after key-, with no Mailgun in sight: a cache key, a
 * file name), an EC2 key pair id, an age public key, a Telegram-like
 * ratio or time. */
static void test_service_tokens_kept(void **state)
{
    static const char *const lines[] = {
        "import npm_package_arg from 'npm-package-arg'; npm_config_cache = x\n",
        "if (t.startsWith('npm_')) return 'npm';\n",
        "TOKEN = 'npm_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'\n",
        "PREFIXES = ('dop_v1_', 'doo_v1_', 'shpat_', 'shpss_', 'glptt-', 'glrt-', 'HRKU-')\n",
        "const key = 'key-value-store-for-sessions42';\n",
        "digest = \"ca46715fe43d8b150f341aa4c33ff7b1\"; region = \"us21\"\n",
        "secret_key_base_for_the_test_env = compute_it(42)\n",
        "uint8_t secret_R4Dci0chXPh6karsdmnHIZau3g5ZqLCwZmwkVA3jpa0x;\n",
        "ratio = 1234567890:AAAA\n",
        "dapi_version = 2; dp.pt.length = 42;\n",
        "NRAK-XXXXXXXXXXXXXXXXXXXXXXXXXXX\n",
        "email = \"glsa_support@acme.io\"; grafana_dir = \"glc_tmp\"\n",
        "SHOPIFY_TOKEN = \"shpat_00000000000000000000000000000000\"\n",
        "NRII-XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX; NRJS-xxxxxxxxxxxxxxxxxxx\n",
        "if token.startswith((\"xapp-\", \"xoxe-\", \"sntrys_\", \"sntryu_\", \"pul-\")):\n",
        "const socketApp = 'xapp-config-loader-for-the-tests-v2';\n",
        "pscale_pw_length = 43; pscale_tkn_prefix = 'pscale_tkn_'\n",
        "<div class=\"pul-right pul-4 pull-request-actions-for-the-header\">\n",
        "s.rubygems_version = '3.5.3'; creds[:rubygems_api_key] = ENV.fetch('GEM_HOST_API_KEY')\n",
        "OP_SERVICE_ACCOUNT_TOKEN=ops_eyJ...\n",
        "token = op.read(\"op://Private/Service Account Auth Token/credential\")\n",
        "AGE-SECRET-KEY-1... (keep it safe); recipient age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n",
        "if strings.HasPrefix(token, \"sha256~\") { kind = OAuthAccessToken }\n",
        "sntryu_0000000000000000000000000000000000000000000000000000000000000000\n",
        "cache.set(\"key-d41d8cd98f00b204e9800998ecf8427e\", payload)\n",
        "Path(\"/var/cache/app/key-9e107d9d372bb6826bd81d3542a419d6.json\")\n",
        "aws ec2 delete-key-pair --key-pair-id key-0a1b2c3d4e5f67890\n",
        "HRKU-XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX\n",
        "if key.endswith(\"NRAL\") and len(key) == 40: kind = \"license\"\n",
        "id = \"18f3a7c9e2b4d6f1a0c5e7b9d3f2a4c6e8b1dNRAL\"; x = \"8f3a7c9e2b4d6f1a0c5e7b9d3f2a4c6e8b1dNRALS\"\n",
        "placeholder = \"000000000000000000000000000000000000NRAL\"\n",
    };

    (void)state;
    leak_assert_lines_clean(lines, sizeof(lines) / sizeof(lines[0]));
}

/* Signed URLs and DSNs: an Azure SAS token's sig= (Blob URLs, a connection
 * string's SharedAccessSignature, a Power Automate or Logic Apps trigger,
 * where Teams' workflows now post), a Sentry DSN with its secret key, a
 * Docker config.json's auth (user:password base64). */
static void test_signed_urls_and_dsns(void **state)
{
    static const struct leak_case cases[] = {
        {"Azure Blob SAS URL",
         "BACKUP_URL = \"https://acme.blob.core.windows.net/backups/db.bak?sv=2022-11-02&ss=b&srt=o"
         "&sp=r&se=2025-12-31T23:59:59Z&spr=https&sig=ARFf%2BlF46mY8%2BkKSuNFJqAYlPkfLyEN6DqrNsFoV1"
         "%2Fo%3D\"\n",
         "ARFf%2BlF46mY8%2BkKSuNFJqAYlPkfLyEN6DqrNsFoV1%2Fo%3D", "&spr=https&sig="},
        {"SAS in a connection string",
         "conn = \"BlobEndpoint=https://acme.blob.core.windows.net/;SharedAccessSignature=sv=2022-"
         "11-02&ss=b&srt=sco&sp=rl&se=2026-01-01T00:00:00Z&sig=Qw3eR5tY7uI9oP2aS4dF6gH8jK0lZ1xC3vB"
         "5nM7qW9e%3D\"\n",
         "Qw3eR5tY7uI9oP2aS4dF6gH8jK0lZ1xC3vB5nM7qW9e%3D", "&sig="},
        {"Logic Apps trigger (a Teams workflow)",
         "TEAMS_FLOW = \"https://prod-27.westeurope.logic.azure.com:443/workflows/4f1c/triggers/"
         "manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0"
         "&sig=YnPQxEDabJeQ4c644RKvwpnyJ6e1B1wJcfk8IKp_B3I\"\n",
         "YnPQxEDabJeQ4c644RKvwpnyJ6e1B1wJcfk8IKp_B3I", "&sv=1.0&sig="},
        {"Sentry DSN with its secret key",
         "SENTRY_DSN = \"https://3c8902d41b3819b4c91bc90a47a60a76:a0bb1dda77a0934f70ab30f89ba14060"
         "@o123456.ingest.sentry.io/4505\"\n",
         "a0bb1dda77a0934f70ab30f89ba14060", "@o123456.ingest.sentry.io/4505\"\n"},
        {"Docker config.json auth",
         "{\"auths\": {\"https://index.docker.io/v1/\": {\"auth\": "
         "\"YWNtZWJvdDpYazltUDJ2UTdyVDR3TDhuWnM0eA==\"}}}\n",
         "YWNtZWJvdDpYazltUDJ2UTdyVDR3TDhuWnM0eA==", "{\"auths\": {\"https://index.docker.io/v1/\""},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* URLs with a sig= or a DSN that hold no secret: a template, a variable, a
 * Sentry DSN with its public key only (meant for the browser), a query
 * parameter named like sig with a short value. */
static void test_signed_urls_kept(void **state)
{
    static const char *const lines[] = {
        "url = f\"{base}?{sas}&sig={signature}\"\n",
        "url = base + \"&sig=\" + urllib.parse.quote(sig)\n",
        "SENTRY_DSN = \"https://3c8902d41b3819b4c91bc90a47a60a76@o123456.ingest.sentry.io/4505\"\n",
        "GET /img?w=200&sig=ab12 HTTP/1.1\n",
        "u = \"https://a.blob.core.windows.net/c/b?sv=2022-11-02&sig=<signature>\"\n",
    };

    (void)state;
    leak_assert_lines_clean(lines, sizeof(lines) / sizeof(lines[0]));
}

/* Password hashes in the formats of frameworks and directories: Django's
 * (pbkdf2_sha256$iterations$salt$hash in a fixture or a migration,
 * argon2$argon2id$..., bcrypt_sha256$$2b$..., the legacy sha1$ and md5$),
 * LDAP's {SSHA}, {SHA}, {SSHA384}, {SSHA512}, {PBKDF2-SHA256} and the
 * other PBKDF2 schemes, {CRYPT} (LDIF, slapd.conf, an htpasswd line), 389
 * Directory Server's {PBKDF2_SHA256}, Atlassian's {PKCS5S2} (a dump). */
static void test_framework_password_hashes(void **state)
{
    static const struct leak_case cases[] = {
        {"Django fixture, pbkdf2_sha256",
         "    \"fields\": {\"username\": \"admin\", \"password\": \"pbkdf2_sha256$260000$"
         "Q3pSxruUKNnLoqjUSQaZnq$2zbCD6LYyT5tRsSxH1zoMvqcgI2Pc+FZYrJGo53X65x=\"}\n",
         "2zbCD6LYyT5tRsSxH1zoMvqcgI2Pc+FZYrJGo53X65x=", "{\"username\": \"admin\", \"password\": \""},
        {"Django, argon2 in a migration",
         "User.objects.create(username=\"ops\", password=\"argon2$argon2id$v=19$m=102400,t=2,p=8$"
         "OHBMcFp3YlA2VU9lYzBvYw$fdUwyzp+5OrkiXBEyns2/rojKw2DQNVX1u2+t1XVRV\")\n",
         "fdUwyzp+5OrkiXBEyns2/rojKw2DQNVX1u2+t1XVRV", "User.objects.create(username=\"ops\", "},
        {"Django, pbkdf2_sha256 by user",
         "SEED_USERS = {\"ops\": \"pbkdf2_sha256$600000$Kq3mW8vT2zR5xN7bJh4Lp9$Tg5hY7uJ9kL2mN4bVc8x"
         "Rf4tG6yH8uJ2iK5oPq9wZs4=\"}\n",
         "Tg5hY7uJ9kL2mN4bVc8xRf4tG6yH8uJ2iK5oPq9wZs4=", "SEED_USERS = {\"ops\": \""},
        {"Django, scrypt",
         "    'hash': 'scrypt$16384$Vb8nM1qW3eR5tY7uZx4cQw$8$1$Zs4xD6cF8vG1bH3nQw2eMk2jN4hB6gV8fC1dLp0o"
         "T7yU9iO2pL4kJ6hG8fD0sA2zX4cV6bN8mQ1wE3rT5yU7iO==',\n",
         "Zs4xD6cF8vG1bH3nQw2eMk2jN4hB6gV8fC1dLp0oT7yU9iO2pL4kJ6hG8fD0sA2zX4cV6bN8mQ1wE3rT5yU7iO==",
         "    'hash': '"},
        {"Django, bcrypt_sha256",
         "HASHED = \"bcrypt_sha256$$2b$12$B8LXkkf.OrieXNLQB/G2U.jO8kxPYasDF1JxcDEd8/Wue/8ad/0OS\"\n",
         "B8LXkkf.OrieXNLQB/G2U.jO8kxPYasDF1JxcDEd8/Wue/8ad/0OS", "HASHED = \""},
        {"LDIF userPassword {SSHA}",
         "dn: uid=jdoe,ou=people,dc=acme,dc=io\nuserPassword: {SSHA}kBpKnA+yZ7c2HL0wnkeC0ADqFfFJx2Qz\n",
         "kBpKnA+yZ7c2HL0wnkeC0ADqFfFJx2Qz", "userPassword: "},
        {"slapd.conf rootpw {SSHA}",
         "rootpw    {SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9gx8Rk2\n", "W6ph5Mm5Pz8GgiULbPgzG37mj9gx8Rk2",
         "rootpw    "},
        {"htpasswd {SHA}", "admin:{SHA}Dz3Z5gVTRQM/vO7zMpRdhoICdlg=\n", "Dz3Z5gVTRQM/vO7zMpRdhoICdlg=",
         "admin:"},
        {"olcRootPW {SSHA512}",
         "olcRootPW: {SSHA512}U1qTnUvH3f2tlA9pcJ/up0kj1axj0lU1z8tJoOIoll/2Ij7L8MntkE9bbC6E8t+pzA4ik"
         "IdzFs5IMq+M+NUdUqx8Rk2vT8nW4q==\n",
         "U1qTnUvH3f2tlA9pcJ/up0kj1axj0lU1z8tJoOIoll/2Ij7L8MntkE9bbC6E8t+pzA4ikIdzFs5IMq+M+NUdUqx8Rk"
         "2vT8nW4q==",
         "olcRootPW: "},
        {"LDIF userPassword {PBKDF2-SHA256} (OpenLDAP's pw-pbkdf2)",
         "userPassword: {PBKDF2-SHA256}600000$CBZNbR4x292nSygcb8ebr3$2VhbMpN8wH06i0vsgnC8XTBliLAgaRQ"
         "KyVa0v8TwQz7\n",
         "2VhbMpN8wH06i0vsgnC8XTBliLAgaRQKyVa0v8TwQz7", "userPassword: "},
        {"olcRootPW {PBKDF2-SHA512}",
         "olcRootPW: {PBKDF2-SHA512}210000$c.nMrxUH7hdie2FUVrfqGQ$oeHI8tGoBwowFhMcvd43a/mHLD6Etrb42QL"
         "DJRWoJZ7qj5YXiWJOpSTNQszcS1c52b30NUgrB9rRWdeMR19YDx\n",
         "oeHI8tGoBwowFhMcvd43a/mHLD6Etrb42QLDJRWoJZ7qj5YXiWJOpSTNQszcS1c52b30NUgrB9rRWdeMR19YDx",
         "olcRootPW: "},
        {"rootpw {PBKDF2} (SHA-1)",
         "rootpw {PBKDF2}10000$s.lH0IGk/rBjP0HONABTri$g.Y7lEz1QaO8ltNarNIkv2sEIvH\n",
         "g.Y7lEz1QaO8ltNarNIkv2sEIvH", "rootpw "},
        {"Crowd and Jira {PKCS5S2}",
         "INSERT INTO cwd_user VALUES (10100, 'jdoe', '{PKCS5S2}vHqbpVLBnPTWQIt8jQr9r40IGepTkrNz81XWW3b"
         "rPfvTiNtUh1hgLKQSMZUnL6AB');\n",
         "vHqbpVLBnPTWQIt8jQr9r40IGepTkrNz81XWW3brPfvTiNtUh1hgLKQSMZUnL6AB",
         "INSERT INTO cwd_user VALUES (10100, 'jdoe', '"},
        {"389 Directory Server {PBKDF2_SHA256}", "userPassword: {PBKDF2_SHA256}" DS389_HASH "\n",
         DS389_HASH, "userPassword: "},
        {"LDIF userPassword {CRYPT}$6$",
         "userPassword: {CRYPT}$6$QW8N7VN82f8.Pwyx$ZtSQFFeMbLau3OeBVi1JZSjK.WoOaEtflQjYZ58z.gAcYXUrMk"
         "P97RhxZVf.TJAWxaDDA1gI/eJQ4kb2kJa4GS\n",
         "ZtSQFFeMbLau3OeBVi1JZSjK.WoOaEtflQjYZ58z.gAcYXUrMkP97RhxZVf.TJAWxaDDA1gI/eJQ4kb2kJa4GS",
         "userPassword: {CRYPT}"},
        {"rootpw {SSHA384}",
         "rootpw {SSHA384}xBgMv3zgfj93wpEcRcnkXZHcyvz4zt7PjoFmll//WuXjdqrryoqdGZgM7YOnUHl2Dt0oAYY9ylI=\n",
         "xBgMv3zgfj93wpEcRcnkXZHcyvz4zt7PjoFmll//WuXjdqrryoqdGZgM7YOnUHl2Dt0oAYY9ylI=", "rootpw "},
        {"Django, legacy sha1 in a fixture",
         "    \"fields\": {\"username\": \"ops\", \"pw\": \"sha1$YFQaexanARj5$77be41fa4a67228e25256ca339f74"
         "07cd8b8c886\"}\n",
         "77be41fa4a67228e25256ca339f7407cd8b8c886", "{\"username\": \"ops\", \"pw\": \""},
        {"Django, legacy md5 by user",
         "SEED_USERS = {\"ops\": \"md5$UlZWXk6prTwL$8e02f93448b9d786d102cf85c9fe7fa4\"}\n",
         "8e02f93448b9d786d102cf85c9fe7fa4", "SEED_USERS = {\"ops\": \""},
        {"Django, unsalted sha1",
         "HASHES = ['sha1$$bf5afcd023354ccd0bd4575b7ae039087430ab6c']\n",
         "bf5afcd023354ccd0bd4575b7ae039087430ab6c", "HASHES = ['"},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* Hash formats named or built, none written out: an algorithm's name, a
 * format string, a prefix concatenated, a scheme list, a server's
 * configured scheme, a stand-in. */
static void test_framework_password_hashes_kept(void **state)
{
    static const char *const lines[] = {
        "algorithm = \"pbkdf2_sha256\"\n",
        "return \"%s$%d$%s$%s\" % (self.algorithm, iterations, salt, hash)\n",
        "encoded = 'pbkdf2_sha256$' + str(iterations) + '$' + salt + '$' + hash\n",
        "PASSWORD_HASHERS = ['argon2$argon2id', 'bcrypt_sha256']\n",
        "pw = '{SSHA}' + b64encode(digest + salt).decode()\n",
        "# userPassword: {SSHA}<base64 of sha1(password + salt) + salt>\n",
        "schemes = ['{SHA}', '{SSHA}', '{SSHA512}', '{CRYPT}']\n",
        "rootpw {SSHA}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
        "olcPasswordHash: {PBKDF2-SHA512}\n",
        "schemes = ['{PBKDF2}', '{PBKDF2-SHA256}', '{PKCS5S2}', '{PBKDF2_SHA256}']\n",
        "pw = '{PBKDF2-SHA256}%d$%s$%s' % (rounds, ab64(salt), ab64(dk))\n",
        "return \"sha1$%s$%s\" % (salt, hexdigest)\n",
        "key = 'md5$' + salt + '$' + hashlib.md5(salt + pw).hexdigest()\n",
        "legacy = \"sha1$abc$0000000000000000000000000000000000000000\"\n",
    };

    (void)state;
    leak_assert_lines_clean(lines, sizeof(lines) / sizeof(lines[0]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pgpass_lines),
        cmocka_unit_test(test_pgpass_kept),
        cmocka_unit_test(test_odbc_connection_strings),
        cmocka_unit_test(test_odbc_connection_strings_kept),
        cmocka_unit_test(test_jdbc_oracle_credentials),
        cmocka_unit_test(test_jdbc_oracle_kept),
        cmocka_unit_test(test_password_hashes),
        cmocka_unit_test(test_password_hashes_kept),
        cmocka_unit_test(test_vault_tokens),
        cmocka_unit_test(test_vault_tokens_kept),
        cmocka_unit_test(test_pypi_tokens),
        cmocka_unit_test(test_pypi_tokens_kept),
        cmocka_unit_test(test_webhook_urls),
        cmocka_unit_test(test_webhook_urls_kept),
        cmocka_unit_test(test_service_tokens),
        cmocka_unit_test(test_telegram_bot_tokens),
        cmocka_unit_test(test_slack_token_variants),
        cmocka_unit_test(test_github_gitlab_token_variants),
        cmocka_unit_test(test_service_tokens_kept),
        cmocka_unit_test(test_signed_urls_and_dsns),
        cmocka_unit_test(test_signed_urls_kept),
        cmocka_unit_test(test_framework_password_hashes),
        cmocka_unit_test(test_framework_password_hashes_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
