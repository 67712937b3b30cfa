/* test_redact_cli.c - secrets on command lines (logins, clients' password
 * options, here-documents and pipes into a login's stdin) that must not
 * survive worker/redact.c, and the lookalikes that must come back as they
 * are. The checks are tests/unit/leak_check.h's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/unit/leak_check.h"

/* Secrets on command lines, in deploy scripts, CI jobs and Makefiles: an
 * option and its value are separate words (--password VALUE, -p VALUE,
 * -pVALUE), curl's -u user:password, aws configure set NAME VALUE. No
 * operator stands between name and value, so the assignment rule never
 * runs. Debug Doctor's run.args reach the prompt as such a command line. */
static void test_command_line_options(void **state)
{
    static const struct leak_case cases[] = {
        {"docker login", "docker login -u deploy -p Xk9mP2vQ7rT4wL8n registry.acme.io\n",
         "Xk9mP2vQ7rT4wL8n"},
        {"mysql -p", "mysql -h db -u root -pTg5hY7uJ9kL2mN4b app < dump.sql\n",
         "Tg5hY7uJ9kL2mN4b"},
        {"long option", "./deploy.sh --env prod --api-key Vb8nM1qW3eR5tY7u\n", "Vb8nM1qW3eR5tY7u"},
        {"curl basic auth", "curl -u admin:Rf4tG6yH8uJ2iK5o https://jenkins.acme.io/api/json\n",
         "Rf4tG6yH8uJ2iK5o"},
        {"sshpass", "sshpass -p 'Zs4xD6cF8vG1bH3n' ssh deploy@10.0.0.5 ./restart.sh\n",
         "Zs4xD6cF8vG1bH3n"},
        {"aws configure",
         "aws configure set aws_access_key_id \"$KEY_ID\"\n"
         "aws configure set aws_secret_access_key kF8vR2nQ7mZ4xT1wP9sL6yH3jD0cB5gA8eU2iO7r\n",
         "kF8vR2nQ7mZ4xT1wP9sL6yH3jD0cB5gA8eU2iO7r"},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* docker login with the client's global options before login, its own
 * options in another order, or its arguments on continuation lines (CI
 * scripts). echo "VALUE" | docker login --password-stdin is
 * test_password_piped_to_login's. */
static void test_docker_login_variants(void **state)
{
    static const struct leak_case cases[] = {
        {"global option before login",
         "docker --config ~/.docker login -u bot -p Xk9mP2vQ7rT4wL8n registry.acme.io\n",
         "Xk9mP2vQ7rT4wL8n"},
        {"-D and --host before login",
         "docker -D --host tcp://10.0.0.4:2376 login -u ci -p 'Tg5hY7uJ9kL2mN4bVc' ghcr.io\n",
         "Tg5hY7uJ9kL2mN4bVc"},
        {"long --password option",
         "docker login --username bot --password Vb8nM1qW3eR5tY7u registry.acme.io\n",
         "Vb8nM1qW3eR5tY7u"},
        {"--password=VALUE",
         "podman login --username=bot --password=Rf4tG6yH8uJ2iK5o quay.io\n",
         "Rf4tG6yH8uJ2iK5o"},
        {"nerdctl login", "nerdctl login -u bot -p Pl9oK7iJ5uH3yG1tWq registry.acme.io\n",
         "Pl9oK7iJ5uH3yG1tWq"},
        {"continuation lines",
         "- docker login \\\n    -u gitlab-ci-token \\\n    -p Zs4xD6cF8vG1bH3nQw \\\n"
         "    registry.gitlab.acme.io\n",
         "Zs4xD6cF8vG1bH3nQw"},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* A password piped into a registry login: echo or printf writes it, the
 * login command reads it with --password-stdin (docker, podman, nerdctl,
 * helm registry). The echoed literal is the password; a $VARIABLE there
 * is not (test_redact.c keeps those). */
static void test_password_piped_to_login(void **state)
{
    static const struct leak_case cases[] = {
        {"echo, double quotes",
         "echo \"Vb8nM1qW3eR5tY7uZx4c\" | docker login --password-stdin -u bot registry.acme.io\n",
         "Vb8nM1qW3eR5tY7uZx4c", "\" | docker login --password-stdin -u bot registry.acme.io\n"},
        {"printf with a format, unquoted",
         "printf '%s' Rf4tG6yH8uJ2iK5oPq9w | docker login -u bot --password-stdin ghcr.io\n",
         "Rf4tG6yH8uJ2iK5oPq9w", "printf '%s' "},
        {"echo -n, podman",
         "echo -n 'Tg5hY7uJ9kL2mN4bVc8x' | podman login --username bot --password-stdin quay.io\n",
         "Tg5hY7uJ9kL2mN4bVc8x", "echo -n '"},
        {"helm registry login",
         "echo \"Pl9oK7iJ5uH3yG1tWq2z\" | helm registry login r.acme.io -u bot --password-stdin\n",
         "Pl9oK7iJ5uH3yG1tWq2z", "| helm registry login r.acme.io -u bot --password-stdin\n"},
        {"sudo, nerdctl, after another command",
         "set -e; echo Zs4xD6cF8vG1bH3nQw2e | sudo nerdctl login -u ci --password-stdin r.io\n",
         "Zs4xD6cF8vG1bH3nQw2e", "set -e; echo "},
        {"continuation lines, global option",
         "echo \"Mk2jN4hB6gV8fC1dLp0o\" | docker --config /tmp/cfg login \\\n"
         "    --username ci \\\n    --password-stdin registry.acme.io\n",
         "Mk2jN4hB6gV8fC1dLp0o", "    --password-stdin registry.acme.io\n"},
        {"printf, format and a quoted value",
         "printf \"%s\\n\" \"Xk9mP2vQ7rT4wL8nZs4x\" | docker login -u bot --password-stdin\n",
         "Xk9mP2vQ7rT4wL8nZs4x", "printf \"%s\\n\" \""},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* Registry logins fed from a pipe that hold no secret: the value echoed
 * is a reference ($TOKEN, ${CI_JOB_TOKEN}, ${{ secrets.X }}, $(cmd)), a
 * command writes it, or the login does not read stdin. */
static void test_password_piped_to_login_kept(void **state)
{
    static const char *const lines[] = {
        "echo \"$TOKEN\" | docker login --password-stdin -u bot ghcr.io\n",
        "echo \"${CI_JOB_TOKEN}\" | docker login -u gitlab-ci-token --password-stdin $CI_REG\n",
        "echo ${{ secrets.GHCR_TOKEN }} | docker login ghcr.io -u x --password-stdin\n",
        "echo $CR_PAT | docker login ghcr.io -u USERNAME --password-stdin\n",
        "printf '%s' \"$(cat /run/secrets/reg)\" | podman login --password-stdin quay.io\n",
        "aws ecr get-login-password | docker login --username AWS --password-stdin 1.dkr.ecr\n",
        "echo \"Building Image42x\" | docker build -t app:Release9 -\n",
        "echo \"Xk9mP2vQ7rT4wL8n\" | docker login -u bot ghcr.io; cat --password-stdin\n",
        "x = flags | docker_login_mask | PASSWORD_STDIN_Flag42;\n",
    };

    (void)state;
    leak_assert_lines_clean(lines, sizeof(lines) / sizeof(lines[0]));
}

/* A docker login after a long list of the client's global options (TLS
 * files, a context, a host, a config directory: more than 256 bytes before
 * login), with -p or fed from a pipe. */
static void test_docker_login_after_long_options(void **state)
{
    static const struct leak_case cases[] = {
        {"-p after long global options",
         "docker --config /home/ci/builds/acme/platform/.docker-config-for-this-pipeline "
         "--tlsverify --tlscacert /etc/ci/certs/registry-build-cluster-ca-bundle.pem "
         "--tlscert /etc/ci/certs/registry-build-cluster-client-certificate.pem "
         "--tlskey /etc/ci/certs/registry-build-cluster-client-private-key.pem "
         "-H tcp://docker-daemon.build.internal.acme.io:2376 login -u ci "
         "-p Xk9mP2vQ7rT4wL8nZs4x registry.acme.io\n",
         "Xk9mP2vQ7rT4wL8nZs4x", " registry.acme.io\n"},
        {"piped, long global options on continuation lines",
         "echo \"Tg5hY7uJ9kL2mN4bVc8x\" | docker \\\n"
         "  --config /home/ci/builds/acme/platform/.docker-config-for-this-pipeline \\\n"
         "  --tlsverify --tlscacert /etc/ci/certs/registry-build-cluster-ca-bundle.pem \\\n"
         "  --tlscert /etc/ci/certs/registry-build-cluster-client-certificate.pem \\\n"
         "  --tlskey /etc/ci/certs/registry-build-cluster-client-private-key.pem \\\n"
         "  login -u ci --password-stdin registry.acme.io\n",
         "Tg5hY7uJ9kL2mN4bVc8x", "  login -u ci --password-stdin registry.acme.io\n"},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* A docker command after long global options that is not login: its -p is
 * a port, whatever comes before it. */
static void test_docker_long_options_not_login(void **state)
{
    static const char *const lines[] = {
        "docker --config /home/ci/builds/acme/platform/.docker-config-for-this-pipeline "
        "--tlsverify --tlscacert /etc/ci/certs/registry-build-cluster-ca-bundle.pem "
        "--tlscert /etc/ci/certs/registry-build-cluster-client-certificate.pem "
        "--tlskey /etc/ci/certs/registry-build-cluster-client-private-key.pem "
        "-H tcp://docker-daemon.build.internal.acme.io:2376 run -p 127.0.0.1:8443:8443 app\n",
        "docker \\\n  --context build-Cluster7 \\\n  run -p 0.0.0.0:5432:5432 -d pg:16\n",
    };

    (void)state;
    leak_assert_lines_clean(lines, sizeof(lines) / sizeof(lines[0]));
}

/* Registry and platform logins other than docker's, podman's and
 * nerdctl's take a password with -p too (oras, skopeo, buildah, crane,
 * helm registry, regctl, OpenShift's oc, the Azure and Cloud Foundry
 * CLIs, cosign, notation), or read it from a pipe with --password-stdin
 * (regctl: --pass-stdin). */
static void test_other_registry_logins(void **state)
{
    static const struct leak_case cases[] = {
        {"oras", "oras login -u bot -p Xk9mP2vQ7rT4wL8nZs4x registry.acme.io\n",
         "Xk9mP2vQ7rT4wL8nZs4x", " registry.acme.io\n"},
        {"skopeo", "skopeo login -u bot -p Tg5hY7uJ9kL2mN4bVc8x registry.acme.io\n",
         "Tg5hY7uJ9kL2mN4bVc8x", " registry.acme.io\n"},
        {"buildah", "buildah login -u bot -p Vb8nM1qW3eR5tY7uZx4c quay.io\n",
         "Vb8nM1qW3eR5tY7uZx4c", " quay.io\n"},
        {"crane", "crane auth login reg.acme.io -u bot -p Rf4tG6yH8uJ2iK5oPq9w\n",
         "Rf4tG6yH8uJ2iK5oPq9w", "crane auth login reg.acme.io -u bot -p "},
        {"helm registry", "helm registry login r.acme.io -u bot -p Zs4xD6cF8vG1bH3nQw2e\n",
         "Zs4xD6cF8vG1bH3nQw2e", "helm registry login r.acme.io -u bot -p "},
        {"regctl", "regctl registry login reg.acme.io -u bot -p Mk2jN4hB6gV8fC1dLp0o\n",
         "Mk2jN4hB6gV8fC1dLp0o", "regctl registry login reg.acme.io -u bot -p "},
        {"oc", "oc login https://api.ocp.acme.io:6443 -u admin -p Pl9oK7iJ5uH3yG1tWq2z\n",
         "Pl9oK7iJ5uH3yG1tWq2z", "oc login https://api.ocp.acme.io:6443 -u admin -p "},
        {"az acr", "az acr login --name acme -u acme -p Xk9mP2vQ7rT4wL8nZs4x\n",
         "Xk9mP2vQ7rT4wL8nZs4x", "az acr login --name acme -u acme -p "},
        {"az, service principal",
         "az login --service-principal -u 1c2d3e4f-aaaa-bbbb-cccc-0123456789ab "
         "-p 'Tg5hY7uJ9kL2mN4bVc8x' --tenant acme.onmicrosoft.com\n",
         "Tg5hY7uJ9kL2mN4bVc8x", "' --tenant acme.onmicrosoft.com\n"},
        {"cf", "cf login -a https://api.cf.acme.io -u admin -p Vb8nM1qW3eR5tY7uZx4c -o acme\n",
         "Vb8nM1qW3eR5tY7uZx4c", " -o acme\n"},
        {"cosign", "cosign login ghcr.io -u bot -p Rf4tG6yH8uJ2iK5oPq9w\n",
         "Rf4tG6yH8uJ2iK5oPq9w", "cosign login ghcr.io -u bot -p "},
        {"podman -p=VALUE", "podman login -u bot -p=Zs4xD6cF8vG1bH3nQw2e quay.io\n",
         "Zs4xD6cF8vG1bH3nQw2e", "podman login -u bot -p="},
        {"piped to oras",
         "echo \"Mk2jN4hB6gV8fC1dLp0o\" | oras login -u bot --password-stdin registry.acme.io\n",
         "Mk2jN4hB6gV8fC1dLp0o", "\" | oras login -u bot --password-stdin registry.acme.io\n"},
        {"piped to skopeo",
         "printf '%s' Pl9oK7iJ5uH3yG1tWq2z | skopeo login -u bot --password-stdin r.io\n",
         "Pl9oK7iJ5uH3yG1tWq2z", " | skopeo login -u bot --password-stdin r.io\n"},
        {"piped to crane",
         "echo Xk9mP2vQ7rT4wL8nZs4x | crane auth login r.io -u bot --password-stdin\n",
         "Xk9mP2vQ7rT4wL8nZs4x", " | crane auth login r.io -u bot --password-stdin\n"},
        {"piped to regctl",
         "echo Tg5hY7uJ9kL2mN4bVc8x | regctl registry login r.io -u bot --pass-stdin\n",
         "Tg5hY7uJ9kL2mN4bVc8x", " | regctl registry login r.io -u bot --pass-stdin\n"},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* A password handed to a login's standard input by the shell rather than a
 * pipe: a here-string (<<< 'VALUE') or a here-document whose one line is
 * the password. */
static void test_login_password_in_here_documents(void **state)
{
    static const struct leak_case cases[] = {
        {"here-string, single quotes",
         "docker login -u bob --password-stdin <<< 'hunter2-lit3ral'\n", "hunter2-lit3ral",
         "docker login -u bob --password-stdin <<< '"},
        {"here-string, then the registry",
         "docker login -u bob --password-stdin <<< \"Xk9mP2vQ7rT4wL8nZs4x\" registry.acme.io\n",
         "Xk9mP2vQ7rT4wL8nZs4x", "\" registry.acme.io\n"},
        {"here-string, unquoted, no blank",
         "podman login -u bob --password-stdin quay.io <<<Tg5hY7uJ9kL2mN4bVc8x\n",
         "Tg5hY7uJ9kL2mN4bVc8x", "podman login -u bob --password-stdin quay.io <<<"},
        {"here-string before --password-stdin",
         "helm registry login r.acme.io <<< 'Vb8nM1qW3eR5tY7uZx4c' -u bot --password-stdin\n",
         "Vb8nM1qW3eR5tY7uZx4c", "' -u bot --password-stdin\n"},
        {"here-document",
         "docker login -u bob --password-stdin <<EOF\ns3cr3t-value\nEOF\n", "s3cr3t-value",
         "docker login -u bob --password-stdin <<EOF\n"},
        {"here-document, quoted delimiter, then more script",
         "docker login -u bob --password-stdin registry.acme.io <<'EOF'\nRf4tG6yH8uJ2iK5oPq9w\n"
         "EOF\necho done\n",
         "Rf4tG6yH8uJ2iK5oPq9w", "\nEOF\necho done\n"},
        {"here-document, <<- and tabs",
         "\tpodman login --password-stdin -u bob quay.io <<-END\n\t\tZs4xD6cF8vG1bH3nQw2e\n\tEND\n",
         "Zs4xD6cF8vG1bH3nQw2e", "\tEND\n"},
        {"here-document to oras, continued line",
         "oras login registry.acme.io \\\n  -u bot --password-stdin << \"EOF\"\n"
         "Mk2jN4hB6gV8fC1dLp0o\nEOF\n",
         "Mk2jN4hB6gV8fC1dLp0o", "  -u bot --password-stdin << \"EOF\"\n"},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* Logins whose password is no literal (a variable in a here-string or a
 * here-document, a file redirected), here-documents that feed no login,
 * a login's name in other code, and the -p of other subcommands of the
 * same CLIs (a template parameter, a path). */
static void test_login_stdin_kept(void **state)
{
    static const char *const lines[] = {
        "docker login -u bob --password-stdin <<< \"$REGISTRY_PASSWORD\"\n",
        "docker login -u bob --password-stdin <<< \"${{ secrets.GHCR_TOKEN }}\" ghcr.io\n",
        "docker login --password-stdin -u bob <<EOF\n$CI_REGISTRY_PASSWORD\nEOF\n",
        "oras login -u bot --password-stdin r.io <<'EOF'\n${ORAS_PASSWORD}\nEOF\n",
        "docker login -u bob --password-stdin < /run/secrets/registry_Pass42\n",
        "docker build -t app:Release9 - <<EOF\nFROM alpine:3.19\nEOF\n",
        "std::cout << \"oc login\" << \"Xk9mP2vQ7rT4wL8nZs4x\" << std::endl;\n",
        "crane auth login r.io -u bot -p \"$CRANE_PASSWORD\"\n",
        "echo \"$TOKEN\" | oras login -u x --password-stdin r.io\n",
        "oc process -f tmpl.yaml -p DB_NAME=App42xQ9z | oc apply -f -\n",
        "cf push acme-api -p ./build/libs/acme-api-1.2.3.jar\n",
        "skopeo login -u bot -p --tls-verify=false r.io\n",
    };

    (void)state;
    leak_assert_lines_clean(lines, sizeof(lines) / sizeof(lines[0]));
}

/* Database, cache, directory and archive clients take a password with a
 * short option of their own (redis-cli -a, sqlcmd -P, mongosh -p,
 * ldapsearch -w, smbclient -U user%VALUE, zip -P, 7z -pVALUE, twine -p),
 * curl with --user; Java's keytool and jarsigner with -storepass and
 * -keypass; openssl and apksigner with pass:VALUE; skopeo, podman and
 * buildah with --creds user:VALUE. */
static void test_client_password_options(void **state)
{
    static const struct leak_case cases[] = {
        {"curl --user", "curl --user bob:Xk9mP2vQ7rT4wL8nZs4x https://api.acme.io\n",
         "Xk9mP2vQ7rT4wL8nZs4x", " https://api.acme.io\n"},
        {"redis-cli -a", "redis-cli -h cache -a Tg5hY7uJ9kL2mN4bVc8x --no-auth-warning ping\n",
         "Tg5hY7uJ9kL2mN4bVc8x", " --no-auth-warning ping\n"},
        {"sqlcmd -P", "sqlcmd -S db.acme.io -U sa -P 'Vb8nM1qW3eR5tY7uZx4c' -Q \"SELECT 1\"\n",
         "Vb8nM1qW3eR5tY7uZx4c", "' -Q \"SELECT 1\"\n"},
        {"mongosh -p", "mongosh \"mongodb://db.acme.io\" -u admin -p Rf4tG6yH8uJ2iK5oPq9w\n",
         "Rf4tG6yH8uJ2iK5oPq9w", "mongosh \"mongodb://db.acme.io\" -u admin -p "},
        {"mongodump -p", "mongodump -u admin -p Zs4xD6cF8vG1bH3nQw2e --db app --out /backup\n",
         "Zs4xD6cF8vG1bH3nQw2e", " --db app --out /backup\n"},
        {"ldapsearch -w",
         "ldapsearch -x -D \"cn=admin,dc=acme,dc=io\" -w Mk2jN4hB6gV8fC1dLp0o -b dc=acme,dc=io\n",
         "Mk2jN4hB6gV8fC1dLp0o", " -b dc=acme,dc=io\n"},
        {"smbclient -U user%VALUE", "smbclient //srv/share -U bob%Pl9oK7iJ5uH3yG1tWq2z -c ls\n",
         "Pl9oK7iJ5uH3yG1tWq2z", "smbclient //srv/share -U bob%"},
        {"zip -P", "zip -P Xk9mP2vQ7rT4wL8nZs4x -r backup.zip data/\n", "Xk9mP2vQ7rT4wL8nZs4x",
         " -r backup.zip data/\n"},
        {"7z -pVALUE", "7z a -pTg5hY7uJ9kL2mN4bVc8x -mhe=on backup.7z data/\n",
         "Tg5hY7uJ9kL2mN4bVc8x", "7z a -p"},
        {"twine -p", "twine upload -u __token__ -p Vb8nM1qW3eR5tY7uZx4cRf4tG6yH8 dist/*\n",
         "Vb8nM1qW3eR5tY7uZx4cRf4tG6yH8", " dist/*\n"},
        {"keytool -storepass, -keypass",
         "keytool -genkeypair -keystore release.jks -alias upload -storepass Rf4tG6yH8uJ2iK5oPq9w "
         "-keypass Zs4xD6cF8vG1bH3nQw2e -dname \"CN=Acme\"\n",
         "Zs4xD6cF8vG1bH3nQw2e", " -dname \"CN=Acme\"\n"},
        {"keytool -srcstorepass",
         "keytool -importkeystore -srckeystore a.p12 -srcstorepass Mk2jN4hB6gV8fC1dLp0o "
         "-destkeystore b.jks\n",
         "Mk2jN4hB6gV8fC1dLp0o", " -destkeystore b.jks\n"},
        {"jarsigner -storepass",
         "jarsigner -keystore release.jks -storepass Pl9oK7iJ5uH3yG1tWq2z app.apk upload\n",
         "Pl9oK7iJ5uH3yG1tWq2z", " app.apk upload\n"},
        {"openssl -passout pass:",
         "openssl pkcs12 -export -in c.pem -inkey k.pem -out c.p12 -passout pass:Xk9mP2vQ7rT4wL8nZs4x\n",
         "Xk9mP2vQ7rT4wL8nZs4x", "-passout pass:"},
        {"openssl -passin pass:",
         "openssl rsa -in enc.key -passin 'pass:Tg5hY7uJ9kL2mN4bVc8x' -out plain.key\n",
         "Tg5hY7uJ9kL2mN4bVc8x", "' -out plain.key\n"},
        {"apksigner --ks-pass pass:",
         "apksigner sign --ks release.jks --ks-pass pass:Vb8nM1qW3eR5tY7uZx4c app.apk\n",
         "Vb8nM1qW3eR5tY7uZx4c", "--ks-pass pass:"},
        {"skopeo --dest-creds",
         "skopeo copy --dest-creds bob:Rf4tG6yH8uJ2iK5oPq9w docker-archive:a.tar docker://r.io/a\n",
         "Rf4tG6yH8uJ2iK5oPq9w", "--dest-creds bob:"},
        {"podman --creds=", "podman pull --creds=bob:Zs4xD6cF8vG1bH3nQw2e r.io/acme/app\n",
         "Zs4xD6cF8vG1bH3nQw2e", "--creds=bob:"},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* Clients' password options with no literal password: a variable, a
 * prompt (-p or -W with no value, -p before another option, 7z -p with a
 * blank), a user without a password, keytool's and openssl's indirections
 * (-storepass:env, env:, file:), and the same letters as other options
 * of other commands. */
static void test_client_password_options_kept(void **state)
{
    static const char *const lines[] = {
        "redis-cli -h cache -a \"$REDIS_PASSWORD\" --no-auth-warning ping\n",
        "zip -r -P \"$ZIP_PASSWORD\" out.zip data/\n",
        "7z a -mhe=on -p backup.7z data/\n",
        "sqlcmd -S db -U sa -P \"${SA_PASSWORD}\" -i init.sql\n",
        "mongosh -u admin -p --authenticationDatabase admin\n",
        "ldapsearch -x -W -D cn=admin,dc=acme,dc=io -b dc=acme,dc=io\n",
        "smbclient -L //srv -U bob\n",
        "curl --user bob https://api.acme.io\n",
        "curl --user \"$API_USER:$API_PASS\" https://api.acme.io\n",
        "skopeo copy --src-creds \"$SRC_USER:$SRC_PASS\" docker://a docker://b\n",
        "keytool -list -keystore ks.jks -storepass:env STOREPASS\n",
        "openssl rsa -in k.pem -passin env:KEY_PASS -out p.pem\n",
        "openssl req -new -key k.pem -passout file:/run/secrets/Pass42x -out r.csr\n",
        "java -jar tool.jar -storetype PKCS12 -alias Upload42xQ\n",
        "find . -name Password42x -print\n",
        "tar -czf backup.tar.gz -P /var/lib/App42xQz\n",
        "ps -U root -p 4242 -o pid,cmd\n",
    };

    (void)state;
    leak_assert_lines_clean(lines, sizeof(lines) / sizeof(lines[0]));
}

/* A password that is a command's positional argument, with no option
 * naming it: htpasswd -b (batch mode: the password is the last argument,
 * after the file and the user, or after the user with -n), rabbitmqctl's
 * add_user and change_password, Windows' net user NAME PASSWORD. */
static void test_positional_passwords(void **state)
{
    static const struct leak_case cases[] = {
        {"htpasswd -bc", "htpasswd -bc /etc/nginx/.htpasswd admin Xk9mP2vQ7rT4wL8nZs4x\n",
         "Xk9mP2vQ7rT4wL8nZs4x", "htpasswd -bc /etc/nginx/.htpasswd admin "},
        {"htpasswd -b -B -C 12, quoted",
         "RUN htpasswd -b -B -C 12 /etc/apache2/.htpasswd deploy 'Tg5hY7uJ9kL2mN4bVc8x' && "
         "chmod 640 /etc/apache2/.htpasswd\n",
         "Tg5hY7uJ9kL2mN4bVc8x", "' && chmod 640 /etc/apache2/.htpasswd\n"},
        {"htpasswd -bn to stdout",
         "htpasswd -bn monitor Vb8nM1qW3eR5tY7uZx4c > auth/users\n", "Vb8nM1qW3eR5tY7uZx4c",
         "htpasswd -bn monitor "},
        {"htpasswd -nbB, continued line",
         "docker run --rm httpd:2.4 htpasswd -nbB \\\n    admin \"Rf4tG6yH8uJ2iK5oPq9w\" >> htpasswd\n",
         "Rf4tG6yH8uJ2iK5oPq9w", "\" >> htpasswd\n"},
        {"rabbitmqctl add_user",
         "rabbitmqctl add_user svc-orders Zs4xD6cF8vG1bH3nQw2e\n", "Zs4xD6cF8vG1bH3nQw2e",
         "rabbitmqctl add_user svc-orders "},
        {"rabbitmqctl change_password, node option, quoted",
         "rabbitmqctl -n rabbit@mq1 change_password admin \"Mk2jN4hB6gV8fC1dLp0o\" && echo ok\n",
         "Mk2jN4hB6gV8fC1dLp0o", "\" && echo ok\n"},
        {"net user /add", "net user svc_backup Pl9oK7iJ5uH3yG1tWq2z /add /y\n",
         "Pl9oK7iJ5uH3yG1tWq2z", " /add /y\n"},
        {"NET USER, set a password",
         "RUN NET USER Administrator Xk9mP2vQ7rT4wL8n!\n", "Xk9mP2vQ7rT4wL8n!",
         "RUN NET USER Administrator "},
        {"net user /domain, options first",
         "net user /domain jsmith \"Tg5hY7uJ9k#L2mN4b\" /add\n", "Tg5hY7uJ9k#L2mN4b",
         "\" /add\n"},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* The same commands with no password on the line: htpasswd prompting
 * (no -b), reading stdin (-i), deleting (-D), too few arguments, a
 * variable; rabbitmqctl prompting or with another subcommand; net user
 * prompting (*), deleting, listing, or other net commands. */
static void test_positional_passwords_kept(void **state)
{
    static const char *const lines[] = {
        "htpasswd -c /etc/nginx/.htpasswd Admin42xQ\n",
        "htpasswd -B /etc/nginx/.htpasswd deploy_User42\n",
        "echo \"$PW\" | htpasswd -i /etc/nginx/.htpasswd Deploy42x\n",
        "htpasswd -D /etc/nginx/.htpasswd Deploy42xQ\n",
        "htpasswd -b /etc/nginx/.htpasswd deploy \"$HTPASSWD_PASS\"\n",
        "htpasswd -bn monitor\n",
        "htpasswd -bc /etc/nginx/.htpasswd admin; ls -l Pass42xQz\n",
        "rabbitmqctl add_user svc-orders\n",
        "rabbitmqctl add_user svc-orders \"$RABBITMQ_PASSWORD\"\n",
        "rabbitmqctl set_permissions -p /Vhost42 svc-orders \".*\" \".*\" \".*\"\n",
        "rabbitmqctl delete_user svc_Orders42\n",
        "net user svc_backup * /add\n",
        "net user svc_backup /delete\n",
        "net user\n",
        "net user jsmith\n",
        "net user jsmith /active:no\n",
        "net use Z: \\\\fs01\\share42 /persistent:yes\n",
        "net user %USERNAME% %NEW_PASSWORD%\n",
        "the net user count42x rose\n",
    };

    (void)state;
    leak_assert_lines_clean(lines, sizeof(lines) / sizeof(lines[0]));
}

/* curl's --oauth2-bearer TOKEN, like -u user:password: the bearer token is
 * a separate word or follows '='. */
static void test_curl_oauth2_bearer(void **state)
{
    static const struct leak_case cases[] = {
        {"--oauth2-bearer TOKEN",
         "curl --oauth2-bearer Xk9mP2vQ7rT4wL8nZs4xQw2eRf4t https://api.acme.io/v1/me\n",
         "Xk9mP2vQ7rT4wL8nZs4xQw2eRf4t", " https://api.acme.io/v1/me\n"},
        {"--oauth2-bearer=TOKEN, quoted",
         "curl -sS --oauth2-bearer='Tg5hY7uJ9kL2mN4bVc8x.Mk2jN4hB6g' https://api.acme.io\n",
         "Tg5hY7uJ9kL2mN4bVc8x.Mk2jN4hB6g", "' https://api.acme.io\n"},
        {"continued line",
         "curl -X POST \\\n  --oauth2-bearer \"Vb8nM1qW3eR5tY7uZx4c\" \\\n  https://api.acme.io\n",
         "Vb8nM1qW3eR5tY7uZx4c", "\" \\\n  https://api.acme.io\n"},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* --oauth2-bearer with a variable or a command's output. */
static void test_curl_oauth2_bearer_kept(void **state)
{
    static const char *const lines[] = {
        "curl --oauth2-bearer \"$ACCESS_TOKEN\" https://api.acme.io\n",
        "curl --oauth2-bearer=$(gcloud auth print-access-token) https://api.acme.io\n",
        "curl --oauth2-bearer \"${{ secrets.API_TOKEN }}\" https://api.acme.io\n",
    };

    (void)state;
    leak_assert_lines_clean(lines, sizeof(lines) / sizeof(lines[0]));
}

/* vault login: a legacy s. token as its positional argument (vault login
 * TOKEN, also after options, or token=TOKEN), and a password given to an
 * auth method as password=VALUE. */
static void test_vault_login(void **state)
{
    static const struct leak_case cases[] = {
        {"vault login TOKEN", "vault login s.rsgtc8p5lVdk7yE99nIXlSdV\n", "s.rsgtc8p5lVdk7yE99nIXlSdV",
         "vault login "},
        {"vault login -no-print TOKEN",
         "  - vault login -no-print -address=https://vault.acme.io s.Xk9mP2vQ7rT4wL8nZs4xQw2e\n",
         "s.Xk9mP2vQ7rT4wL8nZs4xQw2e", "-address=https://vault.acme.io "},
        {"vault login token=TOKEN", "vault login -method=token token=s.Tg5hY7uJ9kL2mN4bVc8xRf4t\n",
         "s.Tg5hY7uJ9kL2mN4bVc8xRf4t", "vault login -method=token token="},
        {"vault login -method=userpass password=",
         "vault login -method=userpass username=admin password=p1jns7oFykAoTx9I\n",
         "p1jns7oFykAoTx9I", "username=admin password="},
        {"vault login -method=ldap, password quoted",
         "vault login -method=ldap username=jdoe password='Vb8n#M1qW3eR5tY7u'\n",
         "Vb8n#M1qW3eR5tY7u", "username=jdoe password='"},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* vault login prompting, or given a variable; s. words elsewhere. */
static void test_vault_login_kept(void **state)
{
    static const char *const lines[] = {
        "vault login\n",
        "vault login -method=oidc role=dev42\n",
        "vault login -method=userpass username=admin\n",
        "vault login \"$VAULT_TOKEN\"\n",
        "vault login token=${VAULT_TOKEN}\n",
        "vault login -method=github token=\"$(cat ~/.gh_Token42)\"\n",
        "vault login s.xxxxxxxxxxxxxxxxxxxxxxxx\n",
        "assert vault.login(s.Xk9mP2vQ7rT4wL8nZs4xQw2e)\n",
    };

    (void)state;
    leak_assert_lines_clean(lines, sizeof(lines) / sizeof(lines[0]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_command_line_options),
        cmocka_unit_test(test_docker_login_variants),
        cmocka_unit_test(test_password_piped_to_login),
        cmocka_unit_test(test_password_piped_to_login_kept),
        cmocka_unit_test(test_docker_login_after_long_options),
        cmocka_unit_test(test_docker_long_options_not_login),
        cmocka_unit_test(test_other_registry_logins),
        cmocka_unit_test(test_login_password_in_here_documents),
        cmocka_unit_test(test_login_stdin_kept),
        cmocka_unit_test(test_client_password_options),
        cmocka_unit_test(test_client_password_options_kept),
        cmocka_unit_test(test_positional_passwords),
        cmocka_unit_test(test_positional_passwords_kept),
        cmocka_unit_test(test_curl_oauth2_bearer),
        cmocka_unit_test(test_curl_oauth2_bearer_kept),
        cmocka_unit_test(test_vault_login),
        cmocka_unit_test(test_vault_login_kept),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
