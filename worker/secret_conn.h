/* secret_conn.h - the rules for passwords in connection strings:
 * scheme://user:password@host, the Go MySQL driver's
 * user:password@tcp(host)/db, Oracle's user/password@host:port/service
 * (and jdbc:oracle:thin:user/password@...), an ODBC string's Pwd={...},
 * the AccountKey= / SharedAccessKey= of an Azure connection string, an
 * Azure SAS token's sig=, and a .pgpass line
 * (host:port:database:user:password).
 */
#ifndef WK_SECRET_CONN_H
#define WK_SECRET_CONN_H

#include <stddef.h>

#include "worker/secret_scan.h"

/* Tries the connection-string rule at the ':' of a "://" at t[i]; adds the
 * password's span when there is one. */
void secret_conn_at(struct scan *s, size_t i);

/* Tries the DSN rules at an '@' at t[i] (user:password@tcp(...),
 * user:password@unix(...), user/password@host:port/...); adds the
 * password's span when there is one. */
void secret_conn_at_sign_at(struct scan *s, size_t i);

/* Tries the Azure rules at an '=' at t[i] after AccountKey or
 * SharedAccessKey, or after ?sig or &sig (a SAS token's signature, in a
 * URL or a SharedAccessSignature=). Returns the offset past the key's or
 * the signature's span, added, or 0. */
size_t secret_conn_key_at(struct scan *s, size_t i);

/* Tries the ODBC rule at an '=' at t[i] before a '{': Pwd={VALUE} or
 * Password={VALUE} (any case), the keyword after a ';' (or first in a
 * quoted string, a ';' after the value), VALUE up to the first '}' that is
 * not doubled, on one line (it may hold ';' and blanks). Returns the
 * offset past the closing brace when the value's span was added, else 0. */
size_t secret_conn_odbc_at(struct scan *s, size_t i);

/* Tries the Oracle JDBC rule at the ':' after "jdbc:oracle" at t[i]:
 * jdbc:oracle:thin:USER/PASSWORD@ADDRESS (or oci:), the address a host,
 * //host or a (DESCRIPTION=...); adds the password's span when it is no
 * stand-in. */
void secret_conn_jdbc_oracle_at(struct scan *s, size_t i);

/* Tries the .pgpass rule at a ':' at t[i]: host:port:database:user:password
 * on one line, the host (letters, digits, . - _ or *, a letter, '.' or '*'
 * among them) starting its line or a quoted string, the port digits or '*',
 * the password up to a blank, a quote or the line's end; adds the password's
 * span when it passes the value filters. */
void secret_conn_pgpass_at(struct scan *s, size_t i);

#endif
