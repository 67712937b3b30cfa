/* test_redact_leaks.c - secrets, in the shapes developers really write in
 * files and code, that must not survive worker/redact.c; and, beside each
 * rule's table, the lookalikes it must leave as they are. The checks are
 * tests/unit/leak_check.h's; command lines are test_redact_cli.c's.
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
 * named after the service. npm, DigitalOcean, Shopify, Heroku, Mailgun,
 * Mailchimp, Postman, Linear, Notion, Doppler, Databricks, Grafana, New
 * Relic, Atlassian. */
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
 * a digest, a Telegram-like ratio or time. */
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
 * argon2$argon2id$..., bcrypt_sha256$$2b$...), LDAP's {SSHA}, {SHA} and
 * {SSHA512} (LDIF, slapd.conf, an htpasswd line). */
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
    };

    (void)state;
    LEAK_CHECK(cases);
}

/* Hash formats named or built, none written out: an algorithm's name, a
 * format string, a prefix concatenated, a scheme list, a stand-in. */
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
        cmocka_unit_test(test_github_gitlab_token_variants),
        cmocka_unit_test(test_service_tokens_kept),
        cmocka_unit_test(test_signed_urls_and_dsns),
        cmocka_unit_test(test_signed_urls_kept),
        cmocka_unit_test(test_framework_password_hashes),
        cmocka_unit_test(test_framework_password_hashes_kept),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
