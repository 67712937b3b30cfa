/* secret_rules.c - the secret detectors; see secret_rules.h.
 *
 * One left-to-right pass (scan_text) tries every rule at every offset. Each
 * rule is anchored on a literal prefix or an operator and reads a bounded
 * stretch forward (or a stretch no other attempt re-reads), so the pass is
 * linear in the text and nothing backtracks. A second pass (scan_near) looks
 * for bare secrets around the AWS, Razorpay and Twilio ids found; after the
 * caller has sorted and located the spans, secret_rules_relabel labels
 * generic values by the key ids next to them. How a value or a name is
 * judged (entropy, secret names) is in secret_text.c, stand-ins
 * (changeme, ${X}) in secret_placeholder.c.
 *
 * The rules live in files named after their family, sharing the scan state
 * of secret_scan.h: secret_tokens.c (fixed-prefix tokens, webhook URLs
 * and JWTs), secret_services.c (services' tokens), secret_pem.c (private
 * keys), secret_conn.c (connection strings and DSNs), secret_assign.c
 * (NAME op VALUE, name/value fields, joined literals, Terraform and YAML
 * forms), secret_args.c (call arguments), secret_words.c (command-line
 * words), secret_argv.c (a command's positional password or token),
 * secret_stdin.c (a password written to a login's standard input),
 * secret_xml.c (XML elements), secret_hash.c (password hashes),
 * secret_encoded.c (base64 decoding). This file drives the pass (and the
 * nested scans of decoded text and joined literals), the near pass and the
 * relabelling, and holds the table of kinds.
 *
 * Rules ("word" below means the byte before the match is not [A-Za-z0-9]):
 *
 *   aws_access_key_id     word, AKIA|ASIA + 16 [A-Z0-9], not followed by
 *                         [A-Za-z0-9]
 *   aws_secret_access_key a value of exactly 40 [A-Za-z0-9/+] assigned to a
 *                         name containing secretaccesskey, or aws and secret;
 *                         or any such 40-byte run with upper case, lower case
 *                         and a digit and entropy >= 4.0 bits within NEAR_LINES
 *                         lines of an AWS access key id
 *   github_token          word, gh[pousr]_ + 36..255 [A-Za-z0-9];
 *                         word, github_pat_ + 82..255 [A-Za-z0-9_]
 *   gitlab_token          not after [A-Za-z0-9_-], glpat-, glptt-, gldt-,
 *                         glrt-, glcbt-, glft-, glimt-, glagent-, gloas-,
 *                         glsoat- or glffct- + 20..255 [A-Za-z0-9_-] (a
 *                         routable token's '.' and 9 [0-9a-z] with it);
 *                         GR1348941 + 20..255 [A-Za-z0-9_-] (a runner
 *                         registration token)
 *   slack_token           word, xox[abeprs]- + 10..255 [A-Za-z0-9-]
 *                         (xoxe.xoxp-... is read from its xoxp-); word,
 *                         xapp-, a digit, '-', 8..16 [A-Z0-9], '-', 8..16
 *                         digits, '-', 64 [0-9a-f] (an app-level token)
 *   slack_webhook         hooks.slack.com/{services,workflows,triggers}/ +
 *                         20..255 [A-Za-z0-9/_-] (only that path is replaced)
 *   discord_webhook       word, discord.com/api/ or discordapp.com/api/
 *                         (v<N>/ optional), webhooks/, an id of 17..20
 *                         digits, '/', a token of 60..100 [A-Za-z0-9_-];
 *                         ID/TOKEN is replaced
 *   teams_webhook         .webhook.office.com/webhookb2/ (or, a word,
 *                         outlook.office.com/webhook/) + a path of
 *                         100..512 [A-Za-z0-9@/_-] holding
 *                         /IncomingWebhook/; the path is replaced
 *   stripe_key            word, (sk|rk)_(live|test)_ + 24..255 [A-Za-z0-9]
 *                         (pk_ keys are publishable and never matched)
 *   razorpay_key          word, rzp_(live|test)_ + exactly 14 [A-Za-z0-9]
 *   razorpay_key_secret   a value of 16..64 [A-Za-z0-9] assigned to a name
 *                         containing razorpay, or containing secret within
 *                         NEAR_LINES lines of a Razorpay key; or a run of
 *                         exactly 24 [A-Za-z0-9] with upper, lower and digit
 *                         and entropy >= 3.5 bits within NEAR_LINES lines of
 *                         one (client = Client(auth=("rzp_...", "...")))
 *   openai_key            word, sk-proj-|sk-svcacct-|sk-admin- + 40..255
 *                         [A-Za-z0-9_-]; word, sk- + exactly 48 [A-Za-z0-9]
 *                         holding T3BlbkFJ (the legacy form)
 *   anthropic_key         word, sk-ant- + 40..255 [A-Za-z0-9_-]
 *   sendgrid_key          word, SG. + 16..32 [A-Za-z0-9_-] + . + 32..64
 *                         [A-Za-z0-9_-]
 *   huggingface_token     word, hf_ + 30..40 [A-Za-z0-9]
 *   twilio_account_sid    word, AC + exactly 32 [0-9a-f] (an anchor: the
 *                         SID itself names no secret, but its auth token sits
 *                         next to it)
 *   twilio_auth_token     a run of exactly 32 [0-9a-f] with entropy >= 3.0
 *                         bits within NEAR_LINES lines of an account SID
 *                         (Client("AC...", "..."))
 *   google_api_key        word, AIza + exactly 35 [A-Za-z0-9_-]
 *   vault_token           word, hvs. or hvb. + 90..1024 [A-Za-z0-9_-]
 *                         (HashiCorp Vault service and batch tokens); a
 *                         legacy s. + exactly 24 [A-Za-z0-9] (upper, lower
 *                         and a digit, then no [A-Za-z0-9_.-]) only as the
 *                         value of a name ending in VAULT_TOKEN, any case
 *                         (s.X... elsewhere is an object's member), or
 *                         vault login's token (see (positional))
 *   pypi_token            not after [A-Za-z0-9_-], pypi-AgEIcHlwaS5vcmc
 *                         (pypi.org) or pypi-AgENdGVzdC5weXBpLm9yZw
 *                         (test.pypi.org), the whole after pypi- 70..1024
 *                         [A-Za-z0-9_-]
 *   (services' tokens)    not after [A-Za-z0-9_-], a prefix and a body of
 *                         exactly the bytes and length the service writes,
 *                         not followed by another [A-Za-z0-9_-], holding
 *                         two of upper case, lower case and digits and not
 *                         mostly one byte (secret_services.c):
 *   npm_token             npm_ + 36 [A-Za-z0-9]
 *   digitalocean_token    dop_v1_, doo_v1_, dor_v1_ + 64 [0-9a-f]
 *   shopify_token         shpat_, shpss_, shpca_, shppa_ + 32 hex
 *   heroku_api_key        HRKU- + 36..255 [A-Za-z0-9_-] (a UUID, or AA
 *                         and 58)
 *   mailgun_key           key- + 32 [a-z0-9], not after '.' either; 32
 *                         [0-9a-f] only (an MD5 digest's shape) when
 *                         "mailgun" (any case) stands within 256 bytes
 *                         before it
 *   postman_key           PMAK- + 24 hex, '-', 34 hex
 *   linear_key            lin_api_ + 40 [A-Za-z0-9]
 *   notion_token          ntn_ + 46 [A-Za-z0-9]; secret_ + 43
 *                         [A-Za-z0-9] with upper, lower and a digit and
 *                         >= 4.4 bits per byte, not after '.' (a legacy
 *                         integration token, not an identifier)
 *   doppler_token         dp.pt., dp.st. (a config slug and '.' may
 *                         follow), dp.ct., dp.sa., dp.scim., dp.audit. +
 *                         40..64 [A-Za-z0-9]
 *   databricks_token      dapi + 32 [0-9a-f] (and -N)
 *   grafana_token         glc_ + 32..400 base64 (padded); glsa_ + 32
 *                         [A-Za-z0-9], '_', 8 hex
 *   new_relic_key         NRAK- + 27 [A-Z0-9]; NRII- + 32
 *                         [A-Za-z0-9_-]; NRJS- + 19 [0-9a-f]; a license
 *                         key, 36 [0-9a-f] + NRAL, standing alone
 *   atlassian_token       ATATT3 + 150..300 [A-Za-z0-9_-], '=', 8 hex
 *   sentry_token          sntrys_eyJ + 60..400 base64 (padded), '_', 43
 *                         base64; sntryu_ + 64 [0-9a-f]
 *   planetscale_token     pscale_tkn_, pscale_pw_, pscale_oauth_ + 32..64
 *                         [A-Za-z0-9_.=-]
 *   pulumi_token          pul- + 40 [0-9a-f]
 *   rubygems_key          rubygems_ + 48 [0-9a-f]
 *   onepassword_token     ops_eyJ + 250..2048 base64 (padded)
 *   age_secret_key        AGE-SECRET-KEY-1 + 58 of bech32's upper case
 *   openshift_token       sha256~ + 43 [A-Za-z0-9_-]
 *   mailchimp_key         32 [0-9a-f] (not after [A-Za-z0-9_-]) + -us and
 *                         one or two digits, not followed by [A-Za-z0-9_-]
 *   telegram_bot_token    6..12 digits (alone, or after /bot in the Bot
 *                         API's URL) + ':' + AA and 33 [A-Za-z0-9_-]
 *                         (two classes), not followed by another
 *   azure_sas_signature   sig= after '?' or '&' (a SAS URL, a
 *                         SharedAccessSignature=, a Logic Apps trigger):
 *                         30..256 [A-Za-z0-9%+/=_-], two classes, not
 *                         mostly one byte, no placeholder
 *   private_key           -----BEGIN <label>----- where the label is
 *                         [A-Z0-9 ]* ending in PRIVATE KEY (or PRIVATE KEY
 *                         BLOCK), a body of base64, armor headers, quotes,
 *                         commas and \n escapes (each line may start with a
 *                         comment leader: # * ; > % ! // --) holding a
 *                         base64 run of at least PEM_RUN_MIN bytes, through
 *                         -----END <label>-----
 *                         (or, unterminated, through the last base64 line);
 *                         or, its BEGIN line cut off, -----END <label>-----
 *                         and the lines of only base64 just above it
 *   jwt                   eyJ not after [A-Za-z0-9_-]: a base64url segment
 *                         of >= 10 bytes, '.', one of >= 4 starting "ey",
 *                         '.', and a signature (possibly empty; JWE's two
 *                         further segments are included)
 *   connection_password   scheme://user:password@host: the bytes between
 *                         the first ':' and the last '@' of the authority,
 *                         unless a placeholder (password, ${X}, ***, ...)
 *                         Without a scheme: user:password@tcp(...) or
 *                         @unix(...) (the Go MySQL driver's DSN), and
 *                         user/password@host:port/ (Oracle easy connect),
 *                         the password between the separator and the '@'
 *                         (no blank, quote, '(' ',' ';' '=' or '@' in
 *                         user or password); an Oracle JDBC URL's,
 *                         jdbc:oracle:thin:user/password@ (or oci:), the
 *                         address a host, //host or (DESCRIPTION=...); an
 *                         ODBC string's braced Pwd={VALUE} or
 *                         Password={VALUE} (any case; after a ';', or
 *                         after a quote with a ';' after the value), up to
 *                         the first '}' not doubled, on one line, passing
 *                         the value filters or, holding blanks, a phrase
 *                         of SECRET_VALUE_MIN bytes or more with a letter
 *                         and no quote, brace, ':', '=', ',' or the word
 *                         password (Pwd=VALUE unbraced is the generic
 *                         rule's); an Azure connection string's
 *                         AccountKey= or SharedAccessKey= value of
 *                         32..256 base64 bytes; a .pgpass line's password,
 *                         host:port:database:user:password (the host
 *                         starting its line or a quoted string, holding a
 *                         letter, '.' or '*'; the port digits or '*'; the
 *                         password passing the value filters).
 *   password_hash         a password hash written out, not glued to a
 *                         word before it: $1$ and $apr1$ (salt 1..8, hash
 *                         22), $5$ and $6$ (rounds=N$ optional, salt
 *                         1..16, hash 43 or 86), $y$ (yescrypt: params,
 *                         salt, hash 43), $2a$ $2b$ $2x$ $2y$ (bcrypt: two
 *                         digits, then 53), $argon2id$ $argon2i$ $argon2d$
 *                         (v=N$ optional, m=...,t=...,p=...$, base64 salt
 *                         of 11..128 and hash of 22..128); salt and hash
 *                         [./A-Za-z0-9] (Argon2: [A-Za-z0-9+/]), the hash
 *                         exactly as long and not mostly one byte; each
 *                         '$' may be written "$$" (Compose) or "\$" (a
 *                         shell string), the same way throughout. The user
 *                         before it (user:$apr1$..., /etc/shadow) stays.
 *                         Django's, the hasher's name glued to its '$'
 *                         (a word of its own before it):
 *                         pbkdf2_sha256$N$SALT$HASH (hash 44, base64
 *                         padded; pbkdf2_sha1: 28), scrypt$N$SALT$R$P$HASH
 *                         (88), argon2$ and the Argon2 form above,
 *                         bcrypt_sha256$ or bcrypt$ and the bcrypt form
 *                         above; the name is replaced with the hash.
 *                         Django's legacy sha1$SALT$HEX and md5$SALT$HEX
 *                         (salt [A-Za-z0-9], maybe empty; 40 or 32
 *                         [0-9a-f]).
 *                         LDAP's: {SHA} {SSHA} {SHA256} {SSHA256} {SHA384}
 *                         {SSHA384} {SHA512} {SSHA512} {MD5} {SMD5} (any
 *                         case) + the padded base64 of the digest (and,
 *                         for the S schemes, a salt of 4..64 bytes);
 *                         {PKCS5S2} + 64 and {PBKDF2_SHA256} + 432 base64;
 *                         two classes, not mostly one byte. {PBKDF2}
 *                         {PBKDF2-SHA1} {PBKDF2-SHA256} {PBKDF2-SHA512} +
 *                         ROUNDS$SALT$KEY, salt and key [A-Za-z0-9./], the
 *                         key 27, 27, 43 or 86 bytes.
 *   generic_secret        NAME op VALUE with op one of = : := => ||= ??=
 *                         (or #define NAME "VALUE"), where the last word of NAME
 *                         (split at non-letters and camelCase humps) ends in
 *                         password, passwd, pwd, passphrase, secret, token,
 *                         apikey, accesskey, privatekey, secretkey, authkey,
 *                         auth, authorization, credential(s), sessionid,
 *                         sessid, or is pass, or is key after api/access/
 *                         private/secret/auth/master/signing/encryption/
 *                         client/app/subscription, or is id after secret,
 *                         or is base after key in a name holding secret
 *                         (Rails' and Phoenix's secret_key_base);
 *                         a bare key or appid counts as a URL's query
 *                         parameter only (after '?' or '&'). So token_url,
 *                         password_hash, PASSWORD_MIN_LENGTH and key =
 *                         "user_id" are not secrets. VALUE is a
 *                         one-line quoted string (a "Bearer "/"Basic "/
 *                         "Token " prefix stays in the text) or an unquoted
 *                         word; a ':' with no blank after it and an unquoted
 *                         name takes quoted values only ("urn:oauth:x").
 *                         VALUE needs GENERIC_MIN_LEN..SECRET_VALUE_MAX
 *                         bytes (secret_text), no blanks or control bytes,
 *                         a byte other than [a-z._-], two character classes
 *                         and Shannon entropy >= GENERIC_MIN_BITS bits per
 *                         byte; under a name that says password, a lower
 *                         floor, or a quoted passphrase of four or more
 *                         words (secret_text_password_ok). It is
 *                         not a secret when it is a placeholder (mostly one
 *                         byte, a well-formed reference: $VAR, ${X}, $(cmd),
 *                         %s, <your-key>, {{ x }}; a regular expression's
 *                         quantifier or range; or contains changeme, your,
 *                         example, xxx, ...: a lone < > { } $ or % is part
 *                         of a password), a URL, a path (a base64 key
 *                         starting with '/' is none), a Stripe pk_ key, made
 *                         of words one of which names a secret
 *                         ("userPassword", "X-API-Key") or all literals
 *                         ("true|false"), or, unquoted, is code: holds
 *                         ()[]{}<>, starts with $@%&*!, is a dotted name or
 *                         an identifier with fewer than two digits, or a
 *                         PowerShell cmdlet (Read-Host, ConvertTo-...).
 *                         The name may also be a field of its own: a field
 *                         name, key or ParameterKey whose value is such a
 *                         name, then, on the same or the next line, a field
 *                         value, ParameterValue or default holding VALUE
 *                         (Kubernetes env, ECS, CloudFormation, XML
 *                         key="..." value="..." attributes).
 *   (call arguments)      the generic_secret NAME and VALUE as a call's
 *                         first two arguments: ("NAME", "VALUE"), NAME a
 *                         string of [A-Za-z0-9_.-] after '(' (getenv and
 *                         config fallbacks, setProperty, Header.Set,
 *                         SetDefault); NAME ?? "VALUE" and NAME || "VALUE";
 *                         NAME = ("user", "VALUE") (a requests auth tuple);
 *                         ("NAME") { "VALUE" }, a Ruby block holding only
 *                         a literal after the call (ENV.fetch("X") { ... });
 *                         ("NAME") or "VALUE" and ["NAME"] || "VALUE" (also
 *                         ??), the literal ending its operand: the lookup's
 *                         string names the secret whatever the assigned
 *                         name (key = (os.getenv("API_KEY") or "...")).
 *                         NAME "VALUE" alone on its line, a call without
 *                         parentheses (Groovy's and Ruby's DSLs:
 *                         storePassword "..." in a Gradle signing config,
 *                         password '...' in repository credentials or a
 *                         Chef resource), the literal ending the statement;
 *                         ConvertTo-SecureString [-String] "VALUE"
 *                         (PowerShell), VALUE passing a password's filters.
 *   (shell default)       ${NAME:-VALUE}, ${NAME:=VALUE}, ${NAME-VALUE},
 *                         ${NAME=VALUE}: the default of a shell parameter
 *                         (scripts, Compose files), NAME or the name the
 *                         expansion is assigned to (PASSWORD="${X:-...}",
 *                         KEY: ${X:-...}) a secret name, VALUE (quotes
 *                         stripped) up to the '}' on its line, no '{' in
 *                         it; not :? (an error message) or :+.
 *   (fallback literal)    NAME op EXPR or "VALUE" (also || and ??): the
 *                         literal default after a lookup that may find
 *                         nothing (os.getenv("X") or "...", ENV["X"] ||
 *                         "...", config.get('x') ?? '...'), EXPR read on one
 *                         line within FALLBACK_SCAN_MAX bytes, its literals
 *                         and brackets skipped, up to a ';' '#' or line
 *                         break; VALUE must end the expression. Also NAME
 *                         op EXPR { "VALUE" } when EXPR ends in a call
 *                         (ENV.fetch("X") { "..." }), and NAME op (EXPR or
 *                         "VALUE") in parentheses (only the literal default
 *                         counts there).
 *   (separate words)      the generic_secret NAME and VALUE as two words: a
 *                         long option --NAME VALUE or -NAME VALUE (NAME of
 *                         three or more letters: keytool's -storepass; the
 *                         value a literal word or a quoted string, so an
 *                         identifier-shaped password counts too); the
 *                         VALUE of pass:VALUE after any option (openssl
 *                         -passout, apksigner --ks-pass); USER:VALUE after
 *                         --creds, --src-creds, --dest-creds (also with
 *                         '=') and curl's --user; curl's
 *                         --oauth2-bearer TOKEN (also with '='); aws
 *                         configure set NAME VALUE;
 *                         a short password option of the command noted
 *                         earlier on the same line (a line ending in '\'
 *                         continues it): a login's -p VALUE (or -p=VALUE;
 *                         docker, podman, nerdctl, buildah, skopeo, oras,
 *                         cosign, notation, oc, cf login, crane auth login,
 *                         helm registry login, regctl registry login, az
 *                         login, az acr login; docker's, podman's and
 *                         nerdctl's options and their arguments may stand
 *                         before login, within LOGIN_SEARCH_MAX bytes and
 *                         over '\'-continued lines: docker --config DIR
 *                         login), sshpass -p
 *                         VALUE or -pVALUE, mysql, mysqldump, mysqladmin,
 *                         mariadb -pVALUE (not -p VALUE: that prompts),
 *                         curl -u user:VALUE, redis-cli -a, sqlcmd, bcp,
 *                         osql -P, mongosh, mongo, mongodump and the other
 *                         mongo tools -p, ldapsearch and the other ldap
 *                         tools -w, smbclient -U user%VALUE, zip -P, twine
 *                         -p, 7z -pVALUE (not -p VALUE); a separate value starting
 *                         with '-' is the next option. The value passes the
 *                         generic_secret value filters.
 *   (positional)          a command's password given as a positional
 *                         argument, no option naming it: htpasswd with -b
 *                         in its options (a cluster: -bc, -nbB; -C and -r
 *                         take an argument), the last argument, the third
 *                         (FILE USER PASSWORD) or with -n the second (USER
 *                         PASSWORD), no more following; rabbitmqctl
 *                         add_user, change_password or authenticate_user
 *                         USER PASSWORD (its options before: -n NODE, -t,
 *                         -p, --node, ...); net user NAME PASSWORD (or NET
 *                         USER; /options anywhere; '*' prompts); vault
 *                         login TOKEN (its only positional; options as
 *                         -name=value, or -method VALUE and the others
 *                         taking one) or token=TOKEN (quoted or not), a
 *                         vault_token. The words are read to the end of
 *                         the command (a line end not continued by '\',
 *                         ; | & < > ) ` or a # word), within ARGV_SCAN_MAX
 *                         bytes; the password a literal (quotes stripped)
 *                         passing the value filters, a password's lower
 *                         floor too (not for a token), and no
 *                         placeholder.
 *   (login stdin)         a literal password written to the standard input
 *                         of one of those logins that reads it with
 *                         --password-stdin (regctl: --pass-stdin): echo
 *                         VALUE | docker login ... --password-stdin (echo
 *                         -n, printf '%s' VALUE, printf VALUE; sudo, the
 *                         client's options; --password-stdin within
 *                         STDIN_SEARCH_MAX bytes of the command, '\'-
 *                         continued lines too), the echoed literal read
 *                         back from the '|'; a here-string (login ...
 *                         --password-stdin <<< VALUE, quoted or not); a
 *                         here-document (<<EOF, <<'EOF', <<-EOF) whose body
 *                         is one line, VALUE, then the delimiter line.
 *                         --password-stdin may stand before or after the
 *                         here-string or the here-document's operator on
 *                         the login's line. VALUE passes the value filters
 *                         (a password's lower floor too) and is no
 *                         placeholder ($TOKEN, ${{ secrets.X }}).
 *   (other forms)         Terraform variable "NAME" { ... default = VALUE }
 *                         (the default of a block named by a secret name,
 *                         before the block's first '}'); ENV NAME VALUE at
 *                         the start of a line (Dockerfile); password VALUE
 *                         on a .netrc machine line, or, the machine word
 *                         starting its line, on a line below it within
 *                         NETRC_WINDOW bytes that starts with login or
 *                         password (one token per line); the same for a
 *                         default entry (default login ... password VALUE,
 *                         or default alone on its line, tokens below; the
 *                         word default starting its line or after a .netrc
 *                         entry on it, followed by login or password); NAME: | or >, -, + (a
 *                         YAML block scalar): every line of the block (the
 *                         indented line after it and each line below as
 *                         indented or more, or blank; at most
 *                         BLOCK_LINES_MAX) is replaced when one of them
 *                         passes the value filters.
 *   (XML element)         <NAME>VALUE</NAME> on one line, NAME a secret name
 *                         of the generic_secret rule (Maven settings.xml
 *                         <password>), VALUE read as a string literal.
 *   (joined literals)     string literals joined into one value: "a" + "b",
 *                         "a" \ (line break) "b", "a" "b", and inside
 *                         brackets after NAME op, literals on successive
 *                         lines (Python's implicit concatenation), at most
 *                         8 and SECRET_VALUE_MAX bytes joined. After NAME op
 *                         the joined text is the VALUE; elsewhere it is
 *                         scanned with every rule (once: no chains inside
 *                         it), so 'sk_live_' + '...' is a stripe_key. The
 *                         literals from the first's text to the last's
 *                         closing quote are replaced.
 *   (encoded)             a base64 run of ENCODED_MIN..ENCODED_MAX bytes, not
 *                         inside a longer word, that decodes to text: the
 *                         text is scanned with every rule above (once: no
 *                         decoding inside it), and when it holds a secret the
 *                         whole run is replaced, with the kind of the
 *                         strongest secret found. So a PEM key encoded whole
 *                         ("LS0tLS1CRUdJTi...", kubernetes.io/tls and
 *                         ssh-auth Secrets, CI variables) is a private_key,
 *                         a Kubernetes Secret's DATABASE_URL a
 *                         connection_password, a .dockerconfigjson a
 *                         generic_secret. Decoding what base64 hides, rather
 *                         than redacting every value under kind: Secret /
 *                         data:, also covers encoded values outside a
 *                         manifest (Helm values, CI files, echo ... |
 *                         base64 -d) and keeps a ConfigMap-like Secret's
 *                         harmless values (a port, a host name) readable.
 *
 * Specific token rules also reject bodies made mostly of one character
 * (ghp_xxxx...). Merge priority: private_key > the token kinds and
 * password_hash > jwt > connection_password > generic_secret.
 */
#include "worker/secret_rules.h"

#include <stdlib.h>
#include <string.h>

#include "worker/secret_args.h"
#include "worker/secret_assign.h"
#include "worker/secret_conn.h"
#include "worker/secret_encoded.h"
#include "worker/secret_hash.h"
#include "worker/secret_pem.h"
#include "worker/secret_scan.h"
#include "worker/secret_services.h"
#include "worker/secret_stdin.h"
#include "worker/secret_text.h"
#include "worker/secret_tokens.h"
#include "worker/secret_words.h"
#include "worker/secret_xml.h"

/* Lines around an AWS or Razorpay key id searched for its secret. */
#define NEAR_LINES 3
/* Bytes around a key id searched for its secret (long lines). */
#define NEAR_BYTES 1024
/* Spans looked at on each side when labelling a value by its neighbours. */
#define NEAR_SPANS 32

static const struct secret_kind kinds[K_COUNT] = {
    [K_AWS_ID] = {"aws_access_key_id", "AWS access key id", 3},
    [K_AWS_SECRET] = {"aws_secret_access_key", "AWS secret access key", 3},
    [K_GITHUB] = {"github_token", "GitHub token", 3},
    [K_GITLAB] = {"gitlab_token", "GitLab token", 3},
    [K_SLACK_TOKEN] = {"slack_token", "Slack token", 3},
    [K_SLACK_WEBHOOK] = {"slack_webhook", "Slack webhook URL", 3},
    [K_STRIPE] = {"stripe_key", "Stripe secret key", 3},
    [K_RAZORPAY_KEY] = {"razorpay_key", "Razorpay key", 3},
    [K_RAZORPAY_SECRET] = {"razorpay_key_secret", "Razorpay key secret", 3},
    [K_GOOGLE] = {"google_api_key", "Google API key", 3},
    [K_PRIVATE_KEY] = {"private_key", "private key", 4},
    [K_JWT] = {"jwt", "JSON Web Token", 2},
    [K_CONN_PASSWORD] = {"connection_password", "password in a connection string", 1},
    [K_GENERIC] = {"generic_secret", "secret value", 0},
    [K_OPENAI] = {"openai_key", "OpenAI API key", 3},
    [K_ANTHROPIC] = {"anthropic_key", "Anthropic API key", 3},
    [K_SENDGRID] = {"sendgrid_key", "SendGrid API key", 3},
    [K_HUGGINGFACE] = {"huggingface_token", "Hugging Face token", 3},
    [K_TWILIO_SID] = {"twilio_account_sid", "Twilio account SID", 3},
    [K_TWILIO_TOKEN] = {"twilio_auth_token", "Twilio auth token", 3},
    [K_PASSWORD_HASH] = {"password_hash", "password hash", 3},
    [K_VAULT] = {"vault_token", "HashiCorp Vault token", 3},
    [K_PYPI] = {"pypi_token", "PyPI API token", 3},
    [K_NPM] = {"npm_token", "npm access token", 3},
    [K_DIGITALOCEAN] = {"digitalocean_token", "DigitalOcean token", 3},
    [K_SHOPIFY] = {"shopify_token", "Shopify token", 3},
    [K_HEROKU] = {"heroku_api_key", "Heroku API key", 3},
    [K_MAILGUN] = {"mailgun_key", "Mailgun API key", 3},
    [K_MAILCHIMP] = {"mailchimp_key", "Mailchimp API key", 3},
    [K_POSTMAN] = {"postman_key", "Postman API key", 3},
    [K_LINEAR] = {"linear_key", "Linear API key", 3},
    [K_NOTION] = {"notion_token", "Notion integration token", 3},
    [K_DOPPLER] = {"doppler_token", "Doppler token", 3},
    [K_DATABRICKS] = {"databricks_token", "Databricks token", 3},
    [K_GRAFANA] = {"grafana_token", "Grafana token", 3},
    [K_NEW_RELIC] = {"new_relic_key", "New Relic API key", 3},
    [K_ATLASSIAN] = {"atlassian_token", "Atlassian API token", 3},
    [K_TELEGRAM] = {"telegram_bot_token", "Telegram bot token", 3},
    [K_DISCORD_WEBHOOK] = {"discord_webhook", "Discord webhook URL", 3},
    [K_TEAMS_WEBHOOK] = {"teams_webhook", "Microsoft Teams webhook URL", 3},
    [K_AZURE_SAS] = {"azure_sas_signature", "Azure SAS signature", 3},
    [K_SENTRY] = {"sentry_token", "Sentry auth token", 3},
    [K_PLANETSCALE] = {"planetscale_token", "PlanetScale token or password", 3},
    [K_PULUMI] = {"pulumi_token", "Pulumi access token", 3},
    [K_RUBYGEMS] = {"rubygems_key", "RubyGems API key", 3},
    [K_ONEPASSWORD] = {"onepassword_token", "1Password service account token", 3},
    [K_AGE] = {"age_secret_key", "age secret key", 3},
    [K_OPENSHIFT] = {"openshift_token", "OpenShift access token", 3},
};
static void scan_text(struct scan *s);

/* The highest-priority kind of secret in t[0..n), scanned with every rule
 * but the nested ones (decoding, joining); -1 when none. Sets s->oom when
 * the scan ran out of memory. */
static int strongest_kind(struct scan *s, const char *t, size_t n)
{
    struct scan sub;
    int kind = -1;

    memset(&sub, 0, sizeof(sub));
    sub.t = t;
    sub.n = n;
    sub.nested = 1;
    scan_text(&sub);
    if (sub.oom)
        s->oom = 1;
    for (size_t k = 0; k < sub.nv; k++)
        if (kind < 0 || kinds[sub.v[k].kind].priority > kinds[kind].priority)
            kind = sub.v[k].kind;
    free(sub.v);
    return kind;
}

/* A base64 run at t[i] that decodes to text holding a secret (a PEM key
 * encoded whole, a Kubernetes Secret's data value): the decoded text is
 * scanned with every rule, and the whole run becomes one span of the
 * highest-priority kind found. Returns the offset past the run, or 0. */
static size_t det_encoded(struct scan *s, size_t i)
{
    size_t len, run;
    int kind;

    if (s->decoded == NULL && (s->decoded = malloc(ENCODED_TEXT_MAX)) == NULL) {
        s->oom = 1;
        return 0;
    }
    len = secret_encoded_decode(s, i, s->decoded, &run);
    if (len == 0)
        return 0;
    kind = strongest_kind(s, s->decoded, len);
    if (kind < 0)
        return 0;
    scan_add(s, i, i + run, kind, 0);
    return i + run;
}

/* A token split into joined literals ('sk_live_' + '...', "ghp_..." \
 * "..."): the joined text is scanned with every rule, and the literals
 * become one span of the strongest kind found. Each quote starts at most
 * one chain, and a chain's quotes start none. */
static void det_chain(struct scan *s, size_t i)
{
    struct chain c;
    size_t k;
    int kind;

    if (s->nested || i < s->chain_floor)
        return;
    k = secret_assign_chain(s, i, 0, &c);
    s->chain_floor = c.end > i ? c.end : i + 1;
    if (k < 2)
        return;
    kind = strongest_kind(s, c.text, c.len);
    if (kind >= 0)
        scan_add(s, c.start, c.stop, kind, 0);
}

/* 1 when t[i] may start a base64 run worth decoding. */
static int encoded_start(const struct scan *s, size_t i)
{
    unsigned char p = i > 0 ? (unsigned char)s->t[i - 1] : ' ';

    size_t k;

    if (s->nested || i + ENCODED_MIN > s->n || is_b64(p) || p == '_' || p == '-')
        return 0;
    /* a shorter run is not decoded: looking here keeps the cost of a call
     * off the start of every word */
    for (k = i; k < i + ENCODED_MIN; k++)
        if (!is_b64((unsigned char)s->t[k]))
            return 0;
    return 1;
}

/* What a byte may start, for the main pass: most bytes start nothing,
 * and one table lookup says so. */
#define START_TOKEN 0x1u     /* a token rule (secret_tokens_at) */
#define START_WORD  0x2u     /* a command word (secret_words_command_at) */
#define START_NEXT  0x4u     /* a second byte of a command word */
#define START_SERVICE 0x8u   /* at a word's start: a service's token
                                (secret_services_at) */
#define START_HOOK  0x10u    /* at a word's start: a webhook URL
                                (secret_tokens_webhook_at) */
#define START_AT_WORD (START_WORD | START_SERVICE | START_HOOK)

static const unsigned char starts[256] = {
    ['A'] = START_TOKEN | START_SERVICE, ['S'] = START_TOKEN, ['e'] = START_TOKEN | START_NEXT,
    ['g'] = START_TOKEN | START_SERVICE, ['h'] = START_TOKEN | START_WORD, ['x'] = START_TOKEN,
    ['r'] = START_TOKEN | START_WORD | START_NEXT | START_SERVICE,
    ['s'] = START_TOKEN | START_WORD | START_NEXT | START_SERVICE,
    ['c'] = START_WORD | START_NEXT, ['d'] = START_WORD | START_NEXT | START_SERVICE | START_HOOK,
    ['m'] = START_WORD | START_NEXT, ['n'] = START_WORD | START_SERVICE,
    ['p'] = START_TOKEN | START_WORD | START_SERVICE, ['E'] = START_WORD | START_NEXT,
    ['N'] = START_WORD | START_NEXT | START_SERVICE, ['b'] = START_WORD,
    ['l'] = START_WORD | START_SERVICE, ['t'] = START_WORD | START_NEXT,
    ['z'] = START_WORD | START_NEXT, ['7'] = START_WORD, ['a'] = START_WORD | START_NEXT,
    ['o'] = START_WORD | START_NEXT | START_HOOK | START_SERVICE,
    ['k'] = START_NEXT | START_SERVICE,
    ['u'] = START_NEXT, ['y'] = START_NEXT, ['f'] = START_NEXT, ['q'] = START_NEXT,
    ['i'] = START_NEXT, ['w'] = START_NEXT | START_HOOK, ['G'] = START_SERVICE,
    ['H'] = START_SERVICE, ['P'] = START_SERVICE,
};

/* The main pass: every rule at every offset, in one sweep. The second
 * byte is tested first: most 'e', 's' and 'r' bytes start nothing. */
static void scan_text(struct scan *s)
{
    const char *t = s->t;
    size_t i, next;
    char c1;
    unsigned char st;

    for (i = 0; i < s->n && !s->oom; i++) {
        next = 0;
        c1 = i + 1 < s->n ? t[i + 1] : '\0';
        switch (t[i]) {
        case '-':
            if (c1 == '-')
                next = secret_pem_at(s, i);
            else if (c1 == 'u' && i + 2 < s->n && t[i + 2] == 's')
                next = secret_services_mailchimp_at(s, i);
            if (next == 0) {
                secret_words_option_at(s, i);
                secret_stdin_option_at(s, i);
            }
            break;
        case ':':
            if (c1 == '/' && scan_has(s, i + 1, "//", 2)) {
                secret_conn_at(s, i);
            } else if (c1 == 'A' && i + 2 < s->n && t[i + 2] == 'A' &&
                       (next = secret_services_telegram_at(s, i)) != 0) {
                break;
            } else {
                if (i > 0 && t[i - 1] == 'e')
                    secret_conn_jdbc_oracle_at(s, i);
                secret_conn_pgpass_at(s, i);
                secret_assign_at(s, i);
            }
            break;
        case '=':
            if (c1 == '{')
                next = secret_conn_odbc_at(s, i);
            if (next == 0 && (next = secret_conn_key_at(s, i)) == 0)
                secret_assign_at(s, i);
            break;
        case '@':
            secret_conn_at_sign_at(s, i);
            break;
        case '<':
            if (ascii_is_alpha((unsigned char)c1))
                secret_xml_at(s, i);
            else if (c1 == '<')
                secret_stdin_here_at(s, i);
            break;
        case '#':
            secret_assign_define_at(s, i);
            break;
        case '"':
        case '\'':
            secret_args_call_at(s, i);
            secret_args_bare_call_at(s, i);
            det_chain(s, i);
            break;
        case '$':
            if (c1 == '{')
                secret_args_shell_default_at(s, i);
            else if (i > 0 && ascii_is_alnum((unsigned char)t[i - 1]))
                next = secret_hash_django_at(s, i);
            else if (ascii_in_set(c1, "1256ay$"))
                next = secret_hash_at(s, i);
            break;
        case '{':
            if (ascii_in_set(c1, "SMPsmp"))
                next = secret_hash_ldap_at(s, i);
            break;
        case '?':
        case '|':
            if (c1 == t[i])
                secret_args_fallback_at(s, i);
            else if (t[i] == '|' && (i == 0 || t[i - 1] != '|'))
                secret_stdin_pipe_at(s, i);
            break;
        case 'v':
            if (c1 == 'a') {
                secret_assign_block_at(s, i);
                if (scan_has(s, i, "vault ", 6) &&
                    (i == 0 || !ascii_is_alnum((unsigned char)t[i - 1])))
                    next = secret_words_command_at(s, i);
            }
            break;
        default:
            /* a suffix: the key's hex was passed over already */
            if (t[i] == 'N' && c1 == 'R' &&
                (next = secret_services_new_relic_license_at(s, i)) != 0)
                break;
            st = starts[(unsigned char)t[i]];
            if ((st & START_TOKEN) != 0)
                next = secret_tokens_at(s, i, c1);
            /* the other rules start a word (the byte before it is tested
             * here, last: most letters follow another) */
            if (next != 0 || (st & START_AT_WORD) == 0 ||
                (i > 0 && ascii_is_alnum((unsigned char)t[i - 1])))
                break;
            if ((st & START_SERVICE) != 0 && secret_services_may_start(t[i], c1))
                next = secret_services_at(s, i, c1);
            if (next == 0 && (st & START_HOOK) != 0)
                next = secret_tokens_webhook_at(s, i, c1);
            if (next == 0 && (st & START_WORD) != 0 &&
                (starts[(unsigned char)c1] & START_NEXT) != 0)
                next = secret_words_command_at(s, i);
            break;
        }
        if (next == 0 && encoded_start(s, i))
            next = det_encoded(s, i);
        if (next > i + 1)
            i = next - 1;
    }
}

struct near_rule {
    int anchor;              /* kind of the key id */
    int kind;                /* kind given to the secret found near it */
    size_t len;              /* exact bytes of the secret */
    byte_pred pred;          /* every byte of the secret */
    double min_bits;         /* entropy, bits per byte */
    int mixed;               /* 1: needs upper case, lower case and a digit */
};

static const struct near_rule near_rules[] = {
    {K_AWS_ID, K_AWS_SECRET, 40, is_aws_secret_char, 4.0, 1},
    {K_RAZORPAY_KEY, K_RAZORPAY_SECRET, 24, ascii_is_alnum, 3.5, 1},
    {K_TWILIO_SID, K_TWILIO_TOKEN, 32, is_hex_lower, 3.0, 0},
};

/* Offset of the start of the line NEAR_LINES lines above p, at most
 * NEAR_BYTES back and not before floor (already searched). */
static size_t near_start(const struct scan *s, size_t p, size_t floor)
{
    size_t lo = p > NEAR_BYTES ? p - NEAR_BYTES : 0, k = p;
    const char *q;
    int lines;

    if (lo < floor)
        lo = floor;
    for (lines = 0; lines <= NEAR_LINES; lines++) {
        q = k > lo ? memrchr(s->t + lo, '\n', k - lo) : NULL;
        if (q == NULL)
            return lo;
        k = (size_t)(q - s->t);
    }
    return k + 1;
}

/* Offset of the end of the line NEAR_LINES lines below p, at most
 * NEAR_BYTES on. */
static size_t near_end(const struct scan *s, size_t p)
{
    size_t hi = s->n - p > NEAR_BYTES ? p + NEAR_BYTES : s->n, k = p;
    const char *q;
    int lines;

    for (lines = 0; ; lines++) {
        q = k < hi ? memchr(s->t + k, '\n', hi - k) : NULL;
        if (q == NULL)
            return hi;
        if (lines == NEAR_LINES)
            return (size_t)(q - s->t);
        k = (size_t)(q - s->t) + 1;
    }
}

/* Bare secrets near key ids (an AWS key id followed by its secret in a
 * CSV row or a tuple). Windows are visited in order and never re-read. */
static void scan_near(struct scan *s, const struct near_rule *rule)
{
    const char *t = s->t;
    size_t nv = s->nv, i, k, r, ws, we, done = 0;

    for (i = 0; i < nv && !s->oom; i++) {
        if (s->v[i].kind != rule->anchor)
            continue;
        if (s->v[i].start < done && s->v[i].end + NEAR_BYTES <= done)
            continue;
        ws = near_start(s, s->v[i].start, done < s->v[i].start ? done : s->v[i].start);
        we = near_end(s, s->v[i].end);
        for (k = ws > done ? ws : done; k < we; ) {
            if (!is_word_ext((unsigned char)t[k])) {
                k++;
                continue;
            }
            r = 0;
            while (k + r < s->n && is_word_ext((unsigned char)t[k + r]))
                r++;
            if ((k == 0 || !is_word_ext((unsigned char)t[k - 1])) && r == rule->len &&
                scan_run_len(s, k, rule->pred, r) == r &&
                (!rule->mixed || secret_text_mixed_case_digit(t + k, r)) &&
                !secret_text_mostly_one_byte(t + k, r) &&
                secret_text_entropy(t + k, r) >= rule->min_bits)
                scan_add(s, k, k + r, rule->kind, 0);
            k += r;
        }
        if (k > done)
            done = k;
    }
}

/* 1 when a span of kind lies within NEAR_LINES lines of v[i]. */
static int near_kind(const struct secret_span *v, size_t nv, size_t i, int kind)
{
    size_t j, steps;

    for (j = i, steps = 0; j > 0 && steps < NEAR_SPANS; steps++) {
        j--;
        if (v[i].line - v[j].line > NEAR_LINES)
            break;
        if (v[j].kind == kind)
            return 1;
    }
    for (j = i + 1, steps = 0; j < nv && steps < NEAR_SPANS; j++, steps++) {
        if (v[j].line - v[i].line > NEAR_LINES)
            break;
        if (v[j].kind == kind)
            return 1;
    }
    return 0;
}

/* Generic values next to an AWS or Razorpay key id are that key's secret. */
void secret_rules_relabel(struct secret_span *v, size_t nv)
{
    size_t i;

    for (i = 0; i < nv; i++) {
        if (v[i].kind != K_GENERIC)
            continue;
        if ((v[i].flags & F_VALUE_B64_40) != 0 && near_kind(v, nv, i, K_AWS_ID))
            v[i].kind = K_AWS_SECRET;
        else if ((v[i].flags & F_VALUE_ALNUM) != 0 && (v[i].flags & SECRET_NAME_SECRET) != 0 &&
                 near_kind(v, nv, i, K_RAZORPAY_KEY))
            v[i].kind = K_RAZORPAY_SECRET;
    }
}

const struct secret_kind *secret_rules_kind(int kind)
{
    return &kinds[kind];
}

int secret_rules_scan(const char *t, size_t n, struct secret_span **spans, size_t *count)
{
    struct scan s;
    size_t i;

    memset(&s, 0, sizeof(s));
    s.t = t;
    s.n = n;
    scan_text(&s);
    for (i = 0; i < sizeof(near_rules) / sizeof(near_rules[0]); i++)
        scan_near(&s, &near_rules[i]);
    free(s.decoded);
    if (s.oom) {
        free(s.v);
        *spans = NULL;
        *count = 0;
        return -1;
    }
    *spans = s.v;
    *count = s.nv;
    return 0;
}
