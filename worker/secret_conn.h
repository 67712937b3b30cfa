/* secret_conn.h - the rules for passwords in connection strings:
 * scheme://user:password@host, the Go MySQL driver's
 * user:password@tcp(host)/db, Oracle's user/password@host:port/service,
 * and the AccountKey= / SharedAccessKey= of an Azure connection string.
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

/* Tries the Azure rule at an '=' at t[i] after AccountKey or
 * SharedAccessKey. Returns the offset past the key's span, added, or 0. */
size_t secret_conn_key_at(struct scan *s, size_t i);

#endif
