/* test_redact_leaks.c - secrets, in the shapes developers really write in
 * files and code, that must not survive worker/redact.c; and, beside each
 * rule's table, the lookalikes it must leave as they are. The checks are
 * tests/unit/leak_check.h's; command lines are test_redact_cli.c's,
 * secrets told by their own shape (tokens, hashes, credential formats)
 * test_redact_tokens.c's.
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

/* The harness itself: forms the redactor handles pass. */
static void test_control_forms_handled(void **state)
{
    static const struct leak_case cases[] = {
        {"python", "password = \"Xk9mP2vQ7rT4wL8n\"\n", "Xk9mP2vQ7rT4wL8n"},
        {".env", "GITHUB_TOKEN=ghp_64ax6vm2EWmUby6RFnCakeiouTTyPatiK27F\n",
         "ghp_64ax6vm2EWmUby6RFnCakeiouTTyPatiK27F"},
    };

    (void)state;
    LEAK_CHECK(cases);
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
    LEAK_CHECK(cases);
}

/* A PEM private key base64-encoded as a whole (it starts "LS0tLS1CRUdJTi",
 * "-----BEGIN" encoded): the data of every kubernetes.io/tls and
 * kubernetes.io/ssh-auth Secret, and how CI variables carry SSH keys. Fake
 * keys: random bytes in PEM armour, base64-encoded. */
static const char EC_KEY_B64[] =
    "LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0tCjBpeXM4d0FMck11eC9DUGdtM2Q5OFNu"
    "Q2NHekcxcEUvRTh5NUFKV1A0Zzd4SktOelN1RUd3Y3IvKzdTSzZQbGEKbGtBU0U0ZEIxS1Fw"
    "YzR5OVVqcktRcGFzUTBSZHpwTWpnVlVIVFFzbTdBYjRTSVRIZDhobWVtZThtNE9uYlRWUgoz"
    "VEhMMlM0Zk05VFlmYVJsTWIzZ0Uyb3E1Wmp2Ym1OOEd3PT0KLS0tLS1FTkQgRUMgUFJJVkFU"
    "RSBLRVktLS0tLQo=";
static const char RSA_KEY_B64[] =
    "LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQpkZ2g3d2U1cGtzSDczaGdJM24wM2ps"
    "MStLcXNrLzd4M3pxNVNDRVBZWjJKYTg0Q2lVNVVXQWhZajE0eEdQYS9DCmI0MkQ5Qk0wQ0hE"
    "akR3RldkMGl0ZVdNeHptYzR1L0kzZE1mdVJUUmM1VjFIL3dWYjBRR3ZmMWFUWTZpb0JMN2cK"
    "STZFeXN6dzN4bzFuSkEraTlwSTN1UXVoV3d2L29tNTdYcGplKzB3Mnl1TERGazJIa0VZenVS"
    "TzZreVpTejdINApJZ1JodGpodUMzTUxyazJJSVlHVFJXVCtic25FaERzc2g4c0IxTjMvSWl6"
    "ZmNkM1d1ZEl1dkZSYVZZZnQwdFBuCjJaZXIvak5JUEl5V0NORjJ0SHhTVjN1L3ZpQlgzbjJy"
    "RDRHVVRLYTJ0dFc5d3hQbDVQQzcvRTR5c2FOVzZwa0sKZDN4WVNHYkc4MW5OalR0SWYxNjFy"
    "UDhDYmZXY0xtd1VWc0JmUkVSZ3BVZ0JUeXlMc0VEOWhhMmY4cE1vYUFtZApmd205bFhUWGtY"
    "RkN0TElacXp4OEpzM2g2cmlBc08rbm5aTmhsMDV0dDlVOU5UWmFVdjBvYTlZWitKaHBLY2ZS"
    "CkRaN3dqQWhnVUxvTjhIWkFtRXNnTFZrMlJGS3ZKdGorN2RqQWIvbVFIVVQwUzFwN1YwVkpX"
    "c1F5emJRSnZYbmcKclpjOW1iRGNlM2VvTlVhK1JKU3RXV0ZqeEJCV1JiT2ExOFhJZTJ3NTFs"
    "ODR1NUZTVE04cC83THlWeVUvejhPUgphaGphQWNsS3dpa0VJcWVPeDFNbVpyYzgybDhSVTY1"
    "N2EwZ0l4YjNqVno4UVRUeURqM1NFb21jcHgvc3ZGSEpaCnF3TFZxY1pwOTRPWVJRcktwbzla"
    "WVVlRGVoZ0c2NlFDTTl5NEMwaHFHM3pnb1JJN0xKYktYandNN3Z3Q0NuTDUKeFBSemlra3BW"
    "QWJtMWNrMzBwMm1UdWQzanExZlE0MFJsL2ZyOXJXRUZITzNJTUpQS2xIY3QzaWcwUXZJK2Fz"
    "eApjNElYV2VqVHJnK3RMQmFiVktxZFVSbjlVVmhtYS9kTjVpWVVzT3F4WVl2cWFuZlhuUWhU"
    "RXMva0VraWZuU3BLCm5YZUN6ZmgySVR1SUUxbUVKdUhDUnF6dzlad0p4Qlh3Ymk4NUJ4QkpS"
    "U1FSekVXR1B2UmgrWnFzMGl5UHV0S3QKTVNNN0U4bDhXRC9aZVc0SUJRYU1vREpDZEJUUlkx"
    "OGdvalczQzc5cElyWkROUVJNeGJISGY2Mmo5YUhSUS9EQgprSllnNVVLT2krSXhJQ1NpeGc3"
    "aTdIaHJtNnR0TGZVM1lYK09BZ1ZVZ1ZvTWRBZmpRK3NncEpBWDljM0VmdUluCk5UYkhTaU9F"
    "cmZGaHd6TTVpbzFuZ1pMTllSZC9LUEo3Y1JoRDlsa1E2T3J4OTRWZGc5T2FhL1J4SGY5bXkx"
    "TWEKSFk1YzdCSkdRWlJqdXNYdExLelhWVlJYaFN4NkJxY1dYTER4a3EzZzhXSHlhZ1NaMlAx"
    "alpaUGhHcnI0b2MvNApEZUt3SDUyYWxMTlA5QjcvQ3FBSllrbmRHWjVuOERLSEFDWWRXNWl0"
    "Z0tKbjBWN3R2bWJzUUdBczdxM20zSDU2CkJQSkxUZk5GTnNDYnYreG1nUTNVUDQ4U1duakFl"
    "S2xPSG95Q0diVDRsSnRQOC9pMEVjM3IvQ2YzckxOTG82aHEKcEVwVDZYYVgvRWdXc0RMUXk3"
    "M0pCc3FneS9jY3dLNnJXT045VzdpdEZFdVg4cWVURHhOamp0anQxMFgzdG5aQQo5WGp3ZDI2"
    "MVg4Mm51OTV1WnkzbWxYNGk2bnVLazdEZzNML2xEc2JQZWkrNXhQSmZGOGFHMlhSc09oajcw"
    "WjFpCmpJeXZmM2NDNzdjeVBOWEhDYVA5SldEdWVPNk9JclhXQU43K3J0NG8vcnd4cmtKNUVt"
    "b3I4WkxGTEErMHFzNUUKcExPbW1WdC91RFhjZCtjajNsTitrd25GTmVQaDh4aWIwVVJMc1ln"
    "VXpCdW1qdUhISGRqRUlMME1WM3RNL252RApSOCtBMkMrZXJNdTBiMU5oZVVTcjloWkF6djd3"
    "MEFuOUhpZXF2OS93bnlKNzVYY1k3eWs9Ci0tLS0tRU5EIFJTQSBQUklWQVRFIEtFWS0tLS0t"
    "Cg==";

static void test_base64_encoded_private_keys(void **state)
{
    /* what, the text before the key, the text after it */
    static const char *const forms[][3] = {
        {"kubernetes.io/tls Secret (EC key)",
         "apiVersion: v1\nkind: Secret\ntype: kubernetes.io/tls\nmetadata:\n  name: web-tls\n"
         "data:\n  tls.key: ", "\n"},
        {"kubernetes.io/ssh-auth Secret (RSA 2048 key)",
         "apiVersion: v1\nkind: Secret\ntype: kubernetes.io/ssh-auth\nmetadata:\n"
         "  name: deploy-key\ndata:\n  ssh-privatekey: ", "\n"},
        {".gitlab-ci.yml variable (RSA 2048 key)", "variables:\n  DEPLOY_KEY_B64: \"", "\"\n"},
    };
    const char *keys[] = {EC_KEY_B64, RSA_KEY_B64, RSA_KEY_B64};
    /* static: a failing CHECK does not return, so nothing may wait to be freed */
    static char texts[3][4096];
    struct leak_case cases[3];
    size_t i;

    (void)state;
    for (i = 0; i < 3; i++) {
        int k = snprintf(texts[i], sizeof(texts[i]), "%s%s%s", forms[i][1], keys[i], forms[i][2]);
        assert_true(k > 0 && (size_t)k < sizeof(texts[i]));
        cases[i] = (struct leak_case){forms[i][0], texts[i], keys[i]};
    }
    LEAK_CHECK(cases);
}

/* The secret's name in one field and its value in the next: a Kubernetes
 * container's env list (every Deployment, StatefulSet, CronJob), an ECS
 * task definition, CloudFormation parameters. The name is not before the
 * value's operator, so the assignment rule never sees it. */
static void test_name_value_pairs(void **state)
{
    static const struct leak_case cases[] = {
        {"Kubernetes Deployment env",
         "    spec:\n      containers:\n      - name: api\n        image: api:1.4\n"
         "        env:\n        - name: DB_PASSWORD\n          value: \"Xk9mP2vQ7rT4wL8n\"\n",
         "Xk9mP2vQ7rT4wL8n"},
        {"Kubernetes CronJob env, unquoted",
         "            env:\n            - name: STRIPE_WEBHOOK_SECRET\n"
         "              value: Wq4rT7yU2iO9pA3sD6fG\n",
         "Wq4rT7yU2iO9pA3sD6fG"},
        {"ECS task definition",
         "{\"containerDefinitions\": [{\"name\": \"api\", \"environment\": [\n"
         "  {\"name\": \"API_TOKEN\", \"value\": \"Bn5mK8jH2gF4dS7aQ1wE\"}\n]}]}\n",
         "Bn5mK8jH2gF4dS7aQ1wE"},
        {"CloudFormation parameters",
         "aws cloudformation create-stack --stack-name db \\\n"
         "  --parameters ParameterKey=DbPassword,ParameterValue=Zx3cV6bN9mL2kJ5h\n",
         "Zx3cV6bN9mL2kJ5h"},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* A value holding "key", "auth", "token", "pwd", "none", "true" or "false"
 * anywhere, in any case, is taken for a label naming a secret ("userPassword",
 * "auth-psk") and kept: human passwords built on common words (monkey,
 * whiskey, hockey, author) and random keys that spell one by chance
 * ("...kEy...", "...NonE...") go to the model under an explicit password or
 * secret name. */
static void test_values_containing_common_words(void **state)
{
    static const struct leak_case cases[] = {
        {"python", "password = \"Monkey2024!\"\n", "Monkey2024!"},
        {".env", "DB_PASSWORD=Whiskey#Tango42\n", "Whiskey#Tango42"},
        {"docker-compose.yml", "      SMTP_PASSWORD: \"Hockey_Night_1993\"\n",
         "Hockey_Night_1993"},
        {"config.json", "{\"password\": \"Authentic-Lion-77\"}\n", "Authentic-Lion-77"},
        {"random key, \"kEy\" by chance", "JWT_SECRET = \"r8TkEyZ2pQ7mW4vX9nB3\"\n",
         "r8TkEyZ2pQ7mW4vX9nB3"},
        {"random token, \"NonE\" by chance", "api_token: q7NonEx2Vb9Lp4Zr\n", "q7NonEx2Vb9Lp4Zr"},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* A secret passed to a call next to the string that names it: a hard-coded
 * fallback for an environment variable (the commonest way a real key gets
 * committed), a header or property set by name, a requests auth tuple. The
 * name is a string argument, not before an operator, so nothing matches. */
static void test_call_arguments_named_by_a_string(void **state)
{
    static const struct leak_case cases[] = {
        {"python getenv fallback",
         "DB_PASSWORD = os.environ.get(\"DB_PASSWORD\", \"Xk9mP2vQ7rT4wL8n\")\n",
         "Xk9mP2vQ7rT4wL8n"},
        {"python config fallback",
         "api_key = config.get(\"api_key\", \"Hj7kL2mN9pQ4rS6t\")\n", "Hj7kL2mN9pQ4rS6t"},
        {"javascript env fallback",
         "const token = process.env.API_TOKEN ?? \"Qw3eR5tY7uI9oP2a\";\n", "Qw3eR5tY7uI9oP2a"},
        {"java properties",
         "props.setProperty(\"db.password\", \"Zs4xD6cF8vG1bH3n\");\n", "Zs4xD6cF8vG1bH3n"},
        {"go header",
         "req.Header.Set(\"Authorization\", \"Bearer Mk2jN4hB6gV8fC1d\")\n", "Mk2jN4hB6gV8fC1d"},
        {"go viper default",
         "viper.SetDefault(\"db.password\", \"Pl9oK7iJ5uH3yG1t\")\n", "Pl9oK7iJ5uH3yG1t"},
        {"python requests auth tuple",
         "r = requests.get(url, auth=(\"admin\", \"Rf4tG6yH8uJ2iK5o\"))\n", "Rf4tG6yH8uJ2iK5o"},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* Provider keys with a fixed, recognisable shape but no rule of their own
 * (OpenAI sk-proj-, Anthropic sk-ant-api03-, SendGrid SG.x.y, Hugging Face
 * hf_, a Twilio account SID with its auth token): they are caught only when
 * the variable's last word is on the secret-name list, so OPENAI_KEY,
 * ANTHROPIC_KEY, a dict keyed by provider or a positional argument (each
 * provider's quick start) sends them in clear. */
static void test_provider_keys_without_a_rule(void **state)
{
    static const struct leak_case cases[] = {
        {".env OpenAI",
         "OPENAI_KEY=\"sk-proj-Tq8vW2xZ5bN7mK4jH6gF9dS1aQ3wE5rT7yU9iO2pL4kJ6hG8fD0sA2zX4cV6bN8m"
         "\"\n",
         "sk-proj-Tq8vW2xZ5bN7mK4jH6gF9dS1aQ3wE5rT7yU9iO2pL4kJ6hG8fD0sA2zX4cV6bN8m"},
        {".env Anthropic",
         "ANTHROPIC_KEY=sk-ant-api03-Rk2vT8nW4qZ6xB9mJ3hL5fD7sG1aP0oI8uY6tR4eW2qA9zX7cV5bN3mK1j"
         "H8gF6dS4aQ2wE-Lm9NoPAA\n",
         "sk-ant-api03-Rk2vT8nW4qZ6xB9mJ3hL5fD7sG1aP0oI8uY6tR4eW2qA9zX7cV5bN3mK1jH8gF6dS4aQ2wE-"
         "Lm9NoPAA"},
        {"python keys by provider",
         "KEYS = {\"openai\": "
         "\"sk-proj-Mv7cX3zL9kJ5hG1fD8sA4qW6eR2tY0uI7oP3lK9jH5gF1dS8aZ4xC6vB2n\"}\n",
         "sk-proj-Mv7cX3zL9kJ5hG1fD8sA4qW6eR2tY0uI7oP3lK9jH5gF1dS8aZ4xC6vB2n"},
        {"SendGrid quick start",
         "sg = SendGridAPIClient("
         "\"SG.Kq3mW8vT2zR5xN7b.Jh4Lp9Dc6Fg1Sa0Qw2Er5Ty8Ui3Op7As6Df4Gh9Jk2Lz\")\n",
         "SG.Kq3mW8vT2zR5xN7b.Jh4Lp9Dc6Fg1Sa0Qw2Er5Ty8Ui3Op7As6Df4Gh9Jk2Lz"},
        {"Hugging Face login", "huggingface_hub.login(\"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\")\n",
         "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"},
        {"Twilio quick start",
         "client = Client(\"AC3f9a2b7c4d1e8f6a5b0c9d2e7f4a1b8c\", "
         "\"9e4d2c7b1a8f3e6d5c0b9a2f7e4d1c8b\")\n",
         "9e4d2c7b1a8f3e6d5c0b9a2f7e4d1c8b"},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* Connection strings without scheme://user:password@: the Go MySQL
 * driver's DSN (user:password@tcp(host)/db, the form its README and every
 * Go tutorial use), Oracle's user/password@host, and an Azure Storage
 * connection string, whose AccountKey is the whole account's key. */
static void test_connection_strings_without_a_scheme(void **state)
{
    static const struct leak_case cases[] = {
        {"go-sql-driver/mysql tcp",
         "db, err := sql.Open(\"mysql\", \"root:Xk9mP2vQ7rT4wL8n@tcp(127.0.0.1:3306)/app\")\n",
         "Xk9mP2vQ7rT4wL8n"},
        {"go-sql-driver/mysql unix socket",
         "dsn := \"app:Tg5hY7uJ9kL2mN4b@unix(/var/run/mysqld/mysqld.sock)/app?parseTime=true\"\n",
         "Tg5hY7uJ9kL2mN4b"},
        {"Oracle easy connect",
         "conn = cx_Oracle.connect(\"scott/Vb8nM1qW3eR5tY7u@db.corp:1521/ORCLPDB1\")\n",
         "Vb8nM1qW3eR5tY7u"},
        {"Azure Storage connection string",
         "AZURE_STORAGE_CONNECTION_STRING=\"DefaultEndpointsProtocol=https;AccountName=acmelogs;"
         "AccountKey=q8Yq2Vf3l8n9oZxK0mB5cT1wR7uE4yA6sD2gH3jK9lP0oI8uY7tR5eW3qA1zX2cV4bN6mM8kJ0hG"
         "Lq7Ww==;EndpointSuffix=core.windows.net\"\n",
         "q8Yq2Vf3l8n9oZxK0mB5cT1wR7uE4yA6sD2gH3jK9lP0oI8uY7tR5eW3qA1zX2cV4bN6mM8kJ0hGLq7Ww=="},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* XML configuration: Maven's settings.xml (<server><password>), a .NET
 * web.config appSetting, a Spring bean property, Tomcat's context.xml
 * resource. The value is element text or a value="" attribute, never after
 * the name's operator. */
static void test_xml_configuration(void **state)
{
    static const struct leak_case cases[] = {
        {"maven settings.xml",
         "<settings>\n  <servers>\n    <server>\n      <id>nexus-releases</id>\n"
         "      <username>deployer</username>\n      <password>Xk9mP2vQ7rT4wL8n</password>\n"
         "    </server>\n  </servers>\n</settings>\n",
         "Xk9mP2vQ7rT4wL8n"},
        {".NET web.config",
         "<appSettings>\n  <add key=\"StripeApiKey\" value=\"Tg5hY7uJ9kL2mN4bVc\" />\n"
         "</appSettings>\n",
         "Tg5hY7uJ9kL2mN4bVc"},
        {"Spring bean",
         "<bean id=\"ds\" class=\"org.apache.commons.dbcp2.BasicDataSource\">\n"
         "  <property name=\"password\" value=\"Vb8nM1qW3eR5tY7u\"/>\n</bean>\n",
         "Vb8nM1qW3eR5tY7u"},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* Other configuration forms whose value is not right after NAME op:
 * Terraform's variable default, the Dockerfile ENV NAME VALUE form, a
 * .netrc written by a heredoc, a YAML block scalar. */
static void test_other_configuration_forms(void **state)
{
    static const struct leak_case cases[] = {
        {"terraform variable default",
         "variable \"db_password\" {\n  type      = string\n  sensitive = true\n"
         "  default   = \"Rf4tG6yH8uJ2iK5o\"\n}\n",
         "Rf4tG6yH8uJ2iK5o"},
        {"Dockerfile ENV, space form", "FROM python:3.12-slim\nENV DB_PASSWORD Zs4xD6cF8vG1bH3n\n",
         "Zs4xD6cF8vG1bH3n"},
        {".netrc heredoc",
         "cat > ~/.netrc <<EOF\nmachine api.acme.io login ci password Mk2jN4hB6gV8fC1d\nEOF\n",
         "Mk2jN4hB6gV8fC1d"},
        {"YAML block scalar", "smtp:\n  user: alerts\n  password: >-\n    Pl9oK7iJ5uH3yG1t\n",
         "Pl9oK7iJ5uH3yG1t"},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* A secret split across string literals (line length limits, or to dodge
 * scanners): the prefix a token rule anchors on is cut from the body, and
 * a continuation line carries no name, so the rest goes in clear. */
static void test_split_secrets(void **state)
{
    static const struct leak_case cases[] = {
        {"python continuation",
         "GITHUB_TOKEN = \"ghp_64ax6vm2EWmUby6RFn\" \\\n    \"CakeiouTTyPatiK27F\"\n",
         "CakeiouTTyPatiK27F"},
        {"javascript concatenation",
         "const stripe = require('stripe')('sk_live_' + '51H8cQeL2mKx9ZpT4vRwY7nBzQ3');\n",
         "51H8cQeL2mKx9ZpT4vRwY7nBzQ3"},
        {"python implicit concatenation",
         "API_KEY = (\n    \"Qw3eR5tY7uI9\"\n    \"oP2aZs4xD6cF\"\n)\n", "oP2aZs4xD6cF"},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* Passwords people really choose, under a name that says password: the
 * entropy floor (3 bits a byte: one repeated letter in nine fails it) and
 * the no-blank rule drop the commonest leaked passwords and passphrases,
 * though the name alone says what they are. */
static void test_human_passwords_under_a_password_name(void **state)
{
    static const struct leak_case cases[] = {
        {"python", "password = \"Passw0rd!\"\n", "Passw0rd!"},
        {".env", "DB_PASSWORD=Summer2024\n", "Summer2024"},
        {"docker-compose.yml", "      ADMIN_PASSWORD: \"Welcome1!\"\n", "Welcome1!"},
        {"passphrase", "SSH_KEY_PASSPHRASE = \"correct horse battery staple\"\n",
         "correct horse battery staple"},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* A base64 key that happens to start with '/' (one in 64: openssl rand
 * -base64 32, Fernet and HMAC keys) is taken for a path and sent. */
static void test_base64_keys_starting_with_a_slash(void **state)
{
    static const struct leak_case cases[] = {
        {"django settings", "SECRET_KEY = \"/kF8vR2nQ7mZ4xT1wP9sL6yH3jD0cB5gA8eU2iO7r=\"\n",
         "/kF8vR2nQ7mZ4xT1wP9sL6yH3jD0cB5gA8eU2iO7r="},
        {".env HMAC key", "WEBHOOK_SECRET=/Zq7+Lm2Kp9Vb4Nx8Wc1Tr5Ys3Ue6Hi0Oa=\n",
         "/Zq7+Lm2Kp9Vb4Nx8Wc1Tr5Ys3Ue6Hi0Oa="},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* Credentials under names the secret-name list does not hold: a bare
 * "key" query parameter, Azure API Management's subscription key (query and
 * header), OpenWeatherMap's appid, a session cookie in a request copied from
 * the browser ("Copy as cURL"). A stress job's endpoint paths go to the
 * model through the same rules. */
static void test_credentials_under_unlisted_names(void **state)
{
    static const struct leak_case cases[] = {
        {"query key",
         "resp = requests.get(\"https://api.acme.io/v2/search?q=shoes&key=Tg5hY7uJ9kL2mN4bVc\")\n",
         "Tg5hY7uJ9kL2mN4bVc"},
        {"Azure APIM header",
         "headers = {\"Ocp-Apim-Subscription-Key\": \"3f9a2b7c4d1e8f6a5b0c9d2e7f4a1b8c\"}\n",
         "3f9a2b7c4d1e8f6a5b0c9d2e7f4a1b8c"},
        {"Azure APIM query",
         "GET /translate?api-version=3.0&subscription-key=9e4d2c7b1a8f3e6d5c0b9a2f7e4d1c8b "
         "HTTP/1.1\n",
         "9e4d2c7b1a8f3e6d5c0b9a2f7e4d1c8b"},
        {"OpenWeatherMap appid",
         "URL = \"https://api.openweathermap.org/data/2.5/weather?q=Oslo"
         "&appid=b6907d289e10d714a6e88b30761fae22\"\n",
         "b6907d289e10d714a6e88b30761fae22"},
        {"browser session cookie",
         "curl 'https://admin.acme.io/api/users' -H "
         "'Cookie: sessionid=k3v9x2m7q8w1z5r4t6y0u2i8o4p6a1s3; csrftoken=Qw3eR5tY7uI9oP2a'\n",
         "k3v9x2m7q8w1z5r4t6y0u2i8o4p6a1s3"},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* Every value under a Kubernetes Secret's data: is base64, which hides
 * nothing: a kubernetes.io/dockerconfigjson Secret's registry password, an
 * Opaque Secret's DATABASE_URL with its password. Only a value under a
 * listed name (password:) is redacted, and only when short. */
static void test_kubernetes_secret_data(void **state)
{
    static const struct leak_case cases[] = {
        {"dockerconfigjson Secret",
         "apiVersion: v1\nkind: Secret\ntype: kubernetes.io/dockerconfigjson\nmetadata:\n"
         "  name: regcred\ndata:\n  .dockerconfigjson: eyJhdXRocyI6eyJyZWdpc3RyeS5hY21lLmlvIjp7InVz"
         "ZXJuYW1lIjoiZGVwbG95IiwicGFzc3dvcmQiOiJYazltUDJ2UTdyVDR3TDhuIiwiYXV0aCI6IlpHVndiRzk1T2xo"
         "ck9XMVFNblpSTjNKVU5IZE1PRzQ9In19fQ==\n",
         "eyJhdXRocyI6eyJyZWdpc3RyeS5hY21lLmlvIjp7InVzZXJuYW1lIjoiZGVwbG95IiwicGFzc3dvcmQiOiJYazlt"
         "UDJ2UTdyVDR3TDhuIiwiYXV0aCI6IlpHVndiRzk1T2xock9XMVFNblpSTjNKVU5IZE1PRzQ9In19fQ=="},
        {"Opaque Secret, DATABASE_URL",
         "apiVersion: v1\nkind: Secret\ntype: Opaque\nmetadata:\n  name: api-env\ndata:\n"
         "  DATABASE_URL: cG9zdGdyZXNxbDovL2FwcDpUZzVoWTd1SjlrTDJtTjRiQGRiLnByb2QuaW50ZXJuYWw6NTQz"
         "Mi9hcHA=\n",
         "cG9zdGdyZXNxbDovL2FwcDpUZzVoWTd1SjlrTDJtTjRiQGRiLnByb2QuaW50ZXJuYWw6NTQzMi9hcHA="},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* A default after the lookup that may find nothing: the left side is a
 * call or an expression (os.getenv("X"), process.env.X, ENV["X"]), the
 * secret the literal after or, || or ?? in an assignment to a secret
 * name. */
static void test_fallback_after_a_lookup(void **state)
{
    static const struct leak_case cases[] = {
        {"python os.getenv or",
         "DB_PASSWORD = os.getenv(\"DB_PASSWORD\") or \"s3cr3t-Pa55word\"\n",
         "s3cr3t-Pa55word"},
        {"python os.environ.get or",
         "token = os.environ.get(\"API_TOKEN\") or 'Tg5hY7uJ9kL2mN4bVc8x'\n",
         "Tg5hY7uJ9kL2mN4bVc8x"},
        {"python settings, type annotation",
         "    secret_key: str = os.environ.get('SECRET_KEY') or 'Zs4xD6cF8vG1bH3nQw2e'\n",
         "Zs4xD6cF8vG1bH3nQw2e"},
        {"javascript ||",
         "const apiKey = process.env.API_KEY || \"Vb8nM1qW3eR5tY7uZx4c\";\n",
         "Vb8nM1qW3eR5tY7uZx4c"},
        {"typescript ??, call",
         "export const jwtSecret = config.get<string>('jwt.secret') ?? 'Rf4tG6yH8uJ2iK5oPq9w';\n",
         "Rf4tG6yH8uJ2iK5oPq9w"},
        {"ruby ENV[] ||",
         "  password = ENV[\"SMTP_PASSWORD\"] || \"Mk2jN4hB6gV8fC1dLp0\"\n",
         "Mk2jN4hB6gV8fC1dLp0"},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* A .netrc written one token per line, as its manual shows and as most
 * CI set-up scripts write it: machine, then login and password on the
 * lines below. */
static void test_multi_line_netrc(void **state)
{
    static const struct leak_case cases[] = {
        {".netrc, one token per line",
         "machine api.example.com\n  login bot\n  password Xk9mP2vQ7rT4wL8n\n",
         "Xk9mP2vQ7rT4wL8n"},
        {".netrc, two machines",
         "machine github.com\nlogin ci-bot\npassword Tg5hY7uJ9kL2mN4bVc8x\n\n"
         "machine pypi.acme.io\n    login deploy\n    password Vb8nM1qW3eR5tY7uZx\n",
         "Vb8nM1qW3eR5tY7uZx"},
        {"heredoc in a CI script",
         "cat > \"$HOME/.netrc\" <<'EOF'\nmachine git.acme.io\n\tlogin gitlab-ci\n"
         "\tpassword Rf4tG6yH8uJ2iK5oPq\nEOF\nchmod 600 \"$HOME/.netrc\"\n",
         "Rf4tG6yH8uJ2iK5oPq"},
        {"login and password on one line",
         "machine registry.acme.io\n  login ci password Zs4xD6cF8vG1bH3nQw\n",
         "Zs4xD6cF8vG1bH3nQw"},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* A YAML block scalar under a secret name holds more than one line: a
 * token wrapped at a column limit, a key, a multi-line secret. Every line
 * of the block is the value, not only the first. */
static void test_yaml_block_scalar_lines(void **state)
{
    static const struct leak_case cases[] = {
        {"wrapped token, second line",
         "vault:\n  token: |\n    hvs.CAESIJx8Kq2Lm9Np4Rs7Tv1Wy3Ab6Cd0Ef5Gh8Jk2QzXc\n"
         "    Vb8nM1qW3eR5tY7uZs4xD6cF8vG1bH3nMk2jN4hB6gV8fC1d\n  addr: https://vault.acme.io\n",
         "Vb8nM1qW3eR5tY7uZs4xD6cF8vG1bH3nMk2jN4hB6gV8fC1d"},
        {"folded, third line",
         "smtp:\n  password: >-\n    Pl9oK7iJ5uH3yG1t\n    Xk9mP2vQ7rT4wL8n\n    Tg5hY7uJ9kL2mN4b\n"
         "  port: 587\n",
         "Tg5hY7uJ9kL2mN4b"},
        {"GitHub Actions secret input",
         "      - uses: acme/deploy@v2\n        with:\n          api_key: |\n"
         "            Rf4tG6yH8uJ2iK5oPq9wZs4x\n            D6cF8vG1bH3nQw2eMk2jN4hB\n"
         "          region: eu-west-1\n",
         "D6cF8vG1bH3nQw2eMk2jN4hB"},
        {"helm values, blank line inside",
         "auth:\n  clientSecret: |-\n    Zs4xD6cF8vG1bH3nQw2e\n\n    Mk2jN4hB6gV8fC1dLp0o\n"
         "ingress:\n  enabled: true\n",
         "Mk2jN4hB6gV8fC1dLp0o"},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* Ruby's ENV.fetch with a block: the block's literal is the value used
 * when the variable is unset, a secret under a secret name, whether the
 * name is the variable looked up or the one assigned. (ENV.fetch("X", "v")
 * is a call's second argument and already covered: kept as a case.) */
static void test_ruby_fetch_block_default(void **state)
{
    static const struct leak_case cases[] = {
        {"block after the looked-up name",
         "api_token = ENV.fetch(\"API_TOKEN\") { \"Xk9mP2vQ7rT4wL8nZs\" }\n",
         "Xk9mP2vQ7rT4wL8nZs", "api_token = ENV.fetch(\"API_TOKEN\") { \""},
        {"block, statement alone",
         "ENV.fetch('STRIPE_API_KEY') { 'Tg5hY7uJ9kL2mN4bVc8x' }\nputs 'ok'\n",
         "Tg5hY7uJ9kL2mN4bVc8x", "ENV.fetch('STRIPE_API_KEY') { '"},
        {"block under an assigned secret name",
         "  Stripe.api_key = ENV.fetch('STRIPE') { 'Vb8nM1qW3eR5tY7uZx4c' }\n",
         "Vb8nM1qW3eR5tY7uZx4c", "  Stripe.api_key = ENV.fetch('STRIPE') { '"},
        {"second argument",
         "db_password = ENV.fetch(\"DB_PASSWORD\", \"Rf4tG6yH8uJ2iK5oPq\")\n",
         "Rf4tG6yH8uJ2iK5oPq", "db_password = ENV.fetch(\"DB_PASSWORD\", \""},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* Ruby's ENV.fetch block: a default that is no secret (a number, an error,
 * an empty or a worded literal) or under a name that says none stays. */
static void test_ruby_fetch_block_kept(void **state)
{
    static const char *const lines[] = {
        "port = ENV.fetch(\"PORT\") { 3000 }\n",
        "secret = ENV.fetch(\"SECRET_KEY_BASE\") { raise \"missing SECRET_KEY_BASE\" }\n",
        "api_token = ENV.fetch(\"API_TOKEN\") { \"\" }\n",
        "ENV.fetch(\"API_TOKEN\") { \"dev-token-not-secret\" }\n",
        "host = ENV.fetch(\"REDIS_HOST\") { \"redis-7.internal\" }\n",
        "level = ENV.fetch('LOG_LEVEL') { 'Debug42' }\n",
    };

    (void)state;
    leak_assert_lines_clean(lines, sizeof(lines) / sizeof(lines[0]));
}

/* A shell parameter's default (${NAME:-VALUE}, ${NAME:=VALUE}, ${NAME-VALUE},
 * ${NAME=VALUE}): the literal used when the variable is unset, in scripts,
 * Compose files and entrypoints. A secret under a secret name, the
 * variable expanded or the one assigned. */
static void test_shell_parameter_defaults(void **state)
{
    static const struct leak_case cases[] = {
        {"assigned, quoted",
         "PASSWORD=\"${DB_PASSWORD:-S3cr3tV4lueXq9}\"\n", "S3cr3tV4lueXq9",
         "PASSWORD=\"${DB_PASSWORD:-"},
        {"assign-default form",
         "export TOKEN=${API_TOKEN:=Pl9oK7iJ5uH3yG1tWq}\n", "Pl9oK7iJ5uH3yG1tWq",
         "export TOKEN=${API_TOKEN:="},
        {"unset-only form, no colon",
         ": \"${API_KEY-Zs4xD6cF8vG1bH3nQw}\"\nexec app\n", "Zs4xD6cF8vG1bH3nQw",
         "}\"\nexec app\n"},
        {"inside a connection string",
         "psql \"postgres://app:${DB_PASSWORD:-Rf4tG6yH8uJ2iK5oPq}@db/app\"\n",
         "Rf4tG6yH8uJ2iK5oPq", "}@db/app\"\n"},
        {"compose file",
         "    environment:\n      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-Mk2jN4hB6gV8fC1dLp}\n",
         "Mk2jN4hB6gV8fC1dLp", "      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-"},
        {"quoted default",
         "mysql -uroot -p\"${MYSQL_ROOT_PASSWORD:-'Vb8nM1qW3eR5tY7uZx'}\" app\n",
         "Vb8nM1qW3eR5tY7uZx", "}\" app\n"},
        {"only the assigned name says secret",
         "DB_PASSWORD=\"${PGPASS:-Tg5hY7uJ9kL2mN4bVc}\"\n", "Tg5hY7uJ9kL2mN4bVc",
         "DB_PASSWORD=\"${PGPASS:-"},
        {"Makefile :=, only the assigned name says secret",
         "DB_PASSWORD := ${DB_PW:-Xk9mP2vQ7rT4wL8n}\n", "Xk9mP2vQ7rT4wL8n",
         "DB_PASSWORD := ${DB_PW:-"},
        {"JSON key, only it says secret",
         "  \"DB_PASSWORD\": \"${PW:-Rf4tG6yH8uJ2iK5oPq}\",\n", "Rf4tG6yH8uJ2iK5oPq",
         "  \"DB_PASSWORD\": \"${PW:-"},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* Shell parameter expansions that hold no secret: a default under a name
 * that says none, an empty, worded or referenced default, an error
 * message (:?) or an alternate value (:+), a nested expansion. */
static void test_shell_parameter_defaults_kept(void **state)
{
    static const char *const lines[] = {
        "cd \"${HOME:-/tmp}\"\n",
        "PORT=${PORT:-8080}\n",
        "LOG_DIR=\"${LOG_DIR:=/var/log/app-2024}\"\n",
        "DB_PASSWORD=\"${DB_PASSWORD:-}\"\n",
        "TOKEN=\"${API_TOKEN:-$(cat /run/secrets/api_token)}\"\n",
        ": \"${API_KEY:?API_KEY must be set to a Key123 value}\"\n",
        "exec app ${TOKEN:+--token=\"$TOKEN\"}\n",
        "PASSWORD=${DB_PASSWORD:-changeme}\n",
        "PASSWORD=${DB_PASSWORD:-${POSTGRES_PASSWORD}}\n",
        "image: ${REGISTRY:-ghcr.io}/acme/app:${TAG:-v1.2.3-Beta4}\n",
    };

    (void)state;
    leak_assert_lines_clean(lines, sizeof(lines) / sizeof(lines[0]));
}

/* The literal default after a lookup inside parentheses, or assigned to a
 * name that says nothing while the lookup's own string names the secret:
 * (os.getenv("API_KEY") or "..."), key = ENV["STRIPE_API_KEY"] || "...". */
static void test_fallback_in_parentheses(void **state)
{
    static const struct leak_case cases[] = {
        {"python, plain name, lookup names the key",
         "key = (os.getenv(\"API_KEY\") or \"sk-live-Xk9mP2vQ7rT4wL8nZs4x\")\n",
         "Xk9mP2vQ7rT4wL8nZs4x", "key = (os.getenv(\"API_KEY\") or \""},
        {"python, assigned name says token",
         "token = (os.environ.get(\"GH_VALUE\") or 'Tg5hY7uJ9kL2mN4bVc8x')\n",
         "Tg5hY7uJ9kL2mN4bVc8x", "token = (os.environ.get(\"GH_VALUE\") or '"},
        {"javascript ||",
         "const token = (process.env.TOKEN || \"Vb8nM1qW3eR5tY7uZx4c\");\n",
         "Vb8nM1qW3eR5tY7uZx4c", "\");\n"},
        {"keyword argument",
         "client = OpenAI(api_key=(os.environ.get(\"OPENAI\") or \"Rf4tG6yH8uJ2iK5oPq9w\"))\n",
         "Rf4tG6yH8uJ2iK5oPq9w", "client = OpenAI(api_key=(os.environ.get(\"OPENAI\") or \""},
        {"ruby subscript, plain name",
         "key = ENV[\"STRIPE_API_KEY\"] || \"Zs4xD6cF8vG1bH3nQw2e\"\n", "Zs4xD6cF8vG1bH3nQw2e",
         "key = ENV[\"STRIPE_API_KEY\"] || \""},
        {"typescript ??, call in parentheses",
         "const s = (config.get<string>(\"jwt_secret\") ?? 'Mk2jN4hB6gV8fC1dLp0o');\n",
         "Mk2jN4hB6gV8fC1dLp0o", "');\n"},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* Defaults after a lookup in parentheses or a subscript that hold no
 * secret: a name that says none, an empty or worded literal, a variable, a
 * literal that is only the start of an expression. */
static void test_fallback_in_parentheses_kept(void **state)
{
    static const char *const lines[] = {
        "level = (os.getenv(\"LEVEL\") or \"info\")\n",
        "region = (os.getenv(\"AWS_REGION\") or \"eu-West-1b\")\n",
        "mode = ENV[\"MODE\"] || \"Production42\"\n",
        "token = (os.getenv(\"API_TOKEN\") or default_token)\n",
        "password = (input(\"Password: \") or \"\")\n",
        "const parts = (req.headers[\"authorization\"] || \"\").split(\" \");\n",
        "msg = (os.getenv(\"API_TOKEN\") or \"Please set API_TOKEN\")\n",
        "url = (os.getenv(\"API_TOKEN\") or \"Xk9mP2vQ7rT4\" + suffix)\n",
        "if (flags & MASK) || (mode == \"Strict42x\") { }\n",
    };

    (void)state;
    leak_assert_lines_clean(lines, sizeof(lines) / sizeof(lines[0]));
}

/* A .netrc default entry (used for any host no machine entry names), on
 * one line, after machine entries on the same line, or one token per line. */
static void test_netrc_default_entry(void **state)
{
    static const struct leak_case cases[] = {
        {"one line",
         "machine github.com login ci password Xk9mP2vQ7rT4wL8nZs4x\n"
         "default login bot password Zs4xD6cF8vG1bH3nQw2e\n",
         "Zs4xD6cF8vG1bH3nQw2e", "default login bot password "},
        {"one token per line",
         "default\n  login anonymous\n  password Tg5hY7uJ9kL2mN4bVc8x\n",
         "Tg5hY7uJ9kL2mN4bVc8x", "default\n  login anonymous\n  password "},
        {"after machine entries on one line",
         "machine a.io login u password Vb8nM1qW3eR5tY7uZx4c default login d password "
         "Rf4tG6yH8uJ2iK5oPq9w\n",
         "Rf4tG6yH8uJ2iK5oPq9w", "default login d password "},
        {"heredoc, password first",
         "cat > ~/.netrc <<EOF\ndefault password Mk2jN4hB6gV8fC1dLp0o login ci\nEOF\n",
         "Mk2jN4hB6gV8fC1dLp0o", " login ci\nEOF\n"},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* The word default in code and prose is no .netrc entry, and a default
 * entry whose password is a reference holds no secret. */
static void test_netrc_default_kept(void **state)
{
    static const char *const lines[] = {
        "switch (x) {\ndefault:\n    password = ask();\n}\n",
        "  default = \"Xk9mP2vQ7rT4wL8n\"\n",
        "The default password policy is Strict2024x.\n",
        "default password policy Strict2024x\n",
        "default login anonymous password $NETRC_PASSWORD\n",
        "default\n  login anonymous\n  password ${NETRC_PASSWORD}\n",
    };

    (void)state;
    leak_assert_lines_clean(lines, sizeof(lines) / sizeof(lines[0]));
}

/* A web framework's signing key: Rails' secret_key_base (128 hex digits from
 * rails secret, in config/secrets.yml, an initializer, the environment),
 * Phoenix's secret_key_base, Django's SECRET_KEY, Flask's secret_key. The
 * name's last word, base, says nothing alone: secret key base does. */
#define RAILS_KEY                                                               \
    "3b7cd727ee24e8444053437c36cc66c3a9f0e2b1d4c5f6a7b8c9d0e1f2a3b4c5d6e7f8091a" \
    "2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d"

static void test_framework_signing_keys(void **state)
{
    static const struct leak_case cases[] = {
        {"config/secrets.yml", "production:\n  secret_key_base: " RAILS_KEY "\n", RAILS_KEY,
         "production:\n  secret_key_base: "},
        {"initializer", "  config.secret_key_base = \"" RAILS_KEY "\"\n", RAILS_KEY,
         "  config.secret_key_base = \""},
        {"ENV subscript, ||=", "ENV[\"SECRET_KEY_BASE\"] ||= \"" RAILS_KEY "\"\n", RAILS_KEY,
         "ENV[\"SECRET_KEY_BASE\"] ||= \""},
        {"memoized, ||=", "  @api_key ||= \"Tg5hY7uJ9kL2mN4bVc8x\"\n", "Tg5hY7uJ9kL2mN4bVc8x",
         "  @api_key ||= \""},
        {"javascript ?\?=", "process.env.API_TOKEN ?\?= 'Vb8nM1qW3eR5tY7uZx4c';\n",
         "Vb8nM1qW3eR5tY7uZx4c", "process.env.API_TOKEN ?\?= '"},
        {"ENV subscript, =", "ENV['SECRET_KEY_BASE'] = '" RAILS_KEY "'\n", RAILS_KEY,
         "ENV['SECRET_KEY_BASE'] = '"},
        {".env", "SECRET_KEY_BASE=" RAILS_KEY "\n", RAILS_KEY, "SECRET_KEY_BASE="},
        {"short key, Rails.application.config",
         "Rails.application.config.secret_key_base = 'a3f8b2c9d4e7f1a0b5c8d3e6f9a2b7c4'\n",
         "a3f8b2c9d4e7f1a0b5c8d3e6f9a2b7c4"},
        {"Phoenix config/prod.secret.exs",
         "config :acme, AcmeWeb.Endpoint,\n  secret_key_base: \"Xk9mP2vQ7rT4wL8nZs4xTg5hY7uJ9kL2mN4b"
         "Vc8xRf4tG6yH8uJ2iK5oPq9wZs4xD6cF8vG1bH3n\"\n",
         "Xk9mP2vQ7rT4wL8nZs4xTg5hY7uJ9kL2mN4bVc8xRf4tG6yH8uJ2iK5oPq9wZs4xD6cF8vG1bH3n"},
        {"JSON", "{\"secret_key_base\": \"" RAILS_KEY "\"}\n", RAILS_KEY},
        {"Django", "SECRET_KEY = 'django-insecure-7x#k2@p9!qz$v8m&w3r^t6y*u1i(o0p)a-s=d+f'\n",
         "7x#k2@p9!qz$v8m&w3r^t6y*u1i(o0p)a-s=d+f"},
        {"Flask", "app.secret_key = b'_5#y2L\"F4Q8z\\n\\xec]/'\n", "_5#y2L\"F4Q8z"},
        {"Flask config", "app.config['SECRET_KEY'] = 'a3f8b2c9d4e7f1a0b5c8d3e6f9a2b7c4'\n",
         "a3f8b2c9d4e7f1a0b5c8d3e6f9a2b7c4"},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* A framework's signing key read from elsewhere, and names that end in key
 * base without saying secret: nothing to replace. */
static void test_framework_signing_keys_kept(void **state)
{
    static const char *const lines[] = {
        "production:\n  secret_key_base: <%= ENV[\"SECRET_KEY_BASE\"] %>\n",
        "  config.secret_key_base = ENV.fetch(\"SECRET_KEY_BASE\")\n",
        "  config.secret_key_base = Rails.application.credentials.secret_key_base\n",
        "SECRET_KEY_BASE=$(bin/rails secret)\n",
        "  secret_key_base: ${SECRET_KEY_BASE}\n",
        "SECRET_KEY = os.environ[\"DJANGO_SECRET_KEY\"]\n",
        "cache_key_base = \"Products2024-v3x\"\n",
        "@api_key ||= ENV[\"API_KEY\"]\n",
        "options[:token] ||= default_token\n",
        "process.env.API_TOKEN ?\?= process.env.FALLBACK_TOKEN;\n",
        "mask |= TOKEN_Flag42x;\n",
    };

    (void)state;
    leak_assert_lines_clean(lines, sizeof(lines) / sizeof(lines[0]));
}

/* A secret passed as the argument of a call written without parentheses
 * (Groovy's and Ruby's DSLs: a Gradle signing config or repository
 * credentials, a Chef resource), and PowerShell's ConvertTo-SecureString
 * of a plain-text literal (the cmdlet's name was taken for the value). */
static void test_calls_without_parentheses(void **state)
{
    static const struct leak_case cases[] = {
        {"Gradle signingConfigs",
         "signingConfigs {\n    release {\n        storeFile file(\"release.jks\")\n"
         "        storePassword \"Xk9mP2vQ7rT4wL8nZs4x\"\n        keyAlias \"upload\"\n"
         "        keyPassword 'Tg5hY7uJ9kL2mN4bVc8x'\n    }\n}\n",
         "Tg5hY7uJ9kL2mN4bVc8x", "        storePassword \""},
        {"Gradle signingConfigs, store password",
         "release {\n        storePassword \"Xk9mP2vQ7rT4wL8nZs4x\"\n}\n", "Xk9mP2vQ7rT4wL8nZs4x",
         "        storePassword \""},
        {"Gradle repository credentials",
         "maven {\n    url \"https://repo.acme.io/releases\"\n    credentials {\n"
         "        username \"deploy\"\n        password \"Vb8nM1qW3eR5tY7uZx4c\"\n    }\n}\n",
         "Vb8nM1qW3eR5tY7uZx4c", "        password \""},
        {"Chef resource", "user 'svc' do\n  password 'Rf4tG6yH8uJ2iK5oPq9w'\nend\n",
         "Rf4tG6yH8uJ2iK5oPq9w", "  password '"},
        {"ConvertTo-SecureString, assigned",
         "$pw = ConvertTo-SecureString \"Zs4xD6cF8vG1bH3nQw2e\" -AsPlainText -Force\n",
         "Zs4xD6cF8vG1bH3nQw2e", "$pw = ConvertTo-SecureString \""},
        {"ConvertTo-SecureString -String",
         "$securePassword = ConvertTo-SecureString -String 'Mk2jN4hB6gV8fC1dLp0o' -AsPlainText "
         "-Force\n",
         "Mk2jN4hB6gV8fC1dLp0o", "$securePassword = ConvertTo-SecureString -String '"},
        {"ConvertTo-SecureString in a parameter",
         "New-LocalUser -Name svc -Password (ConvertTo-SecureString \"Pl9oK7iJ5uH3yG1tWq2z\" "
         "-AsPlainText -Force)\n",
         "Pl9oK7iJ5uH3yG1tWq2z", "New-LocalUser -Name svc -Password (ConvertTo-SecureString \""},
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* PowerShell cmdlets assigned to a secret's name are code, not the value
 * (Read-Host, ConvertTo-SecureString of a variable, ConvertFrom-Json), and
 * a DSL call under a secret name whose argument is no literal secret (a
 * lookup, an interpolated string, a literal followed by more code). */
static void test_calls_without_parentheses_kept(void **state)
{
    static const char *const lines[] = {
        "$password = Read-Host -AsSecureString\n",
        "$securePassword = ConvertTo-SecureString $env:SVC_PASSWORD -AsPlainText -Force\n",
        "$secret = ConvertFrom-Json $raw\n",
        "$token = Get-Content ./token.txt\n",
        "    password System.getenv(\"REPO_PASSWORD\")\n",
        "    password \"${repoPassword}\"\n",
        "    password findProperty(\"repo.Password42\")\n",
        "    storePassword \"Prefix42xQ\" + suffix\n",
        "    print \"Password42xQz\"\n",
        "echo \"Xk9mP2vQ7rT4wL8nZs4x\"\n",
        "  'Xk9mP2vQ7rT4wL8nZs4x'\n",
        "-String 'Xk9mP2vQ7rT4wL8nZs4x'\n",
    };

    (void)state;
    leak_assert_lines_clean(lines, sizeof(lines) / sizeof(lines[0]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_control_forms_handled),
        cmocka_unit_test(test_generated_passwords_with_symbols),
        cmocka_unit_test(test_base64_encoded_private_keys),
        cmocka_unit_test(test_name_value_pairs),
        cmocka_unit_test(test_values_containing_common_words),
        cmocka_unit_test(test_call_arguments_named_by_a_string),
        cmocka_unit_test(test_provider_keys_without_a_rule),
        cmocka_unit_test(test_connection_strings_without_a_scheme),
        cmocka_unit_test(test_xml_configuration),
        cmocka_unit_test(test_other_configuration_forms),
        cmocka_unit_test(test_split_secrets),
        cmocka_unit_test(test_human_passwords_under_a_password_name),
        cmocka_unit_test(test_base64_keys_starting_with_a_slash),
        cmocka_unit_test(test_credentials_under_unlisted_names),
        cmocka_unit_test(test_kubernetes_secret_data),
        cmocka_unit_test(test_fallback_after_a_lookup),
        cmocka_unit_test(test_multi_line_netrc),
        cmocka_unit_test(test_yaml_block_scalar_lines),
        cmocka_unit_test(test_ruby_fetch_block_default),
        cmocka_unit_test(test_ruby_fetch_block_kept),
        cmocka_unit_test(test_shell_parameter_defaults),
        cmocka_unit_test(test_shell_parameter_defaults_kept),
        cmocka_unit_test(test_fallback_in_parentheses),
        cmocka_unit_test(test_fallback_in_parentheses_kept),
        cmocka_unit_test(test_netrc_default_entry),
        cmocka_unit_test(test_netrc_default_kept),
        cmocka_unit_test(test_framework_signing_keys),
        cmocka_unit_test(test_framework_signing_keys_kept),
        cmocka_unit_test(test_calls_without_parentheses),
        cmocka_unit_test(test_calls_without_parentheses_kept),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
