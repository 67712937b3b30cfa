/* secret_conn.h - the rule for passwords in connection strings
 * (scheme://user:password@host).
 */
#ifndef WK_SECRET_CONN_H
#define WK_SECRET_CONN_H

#include <stddef.h>

#include "worker/secret_scan.h"

/* Tries the connection-string rule at the ':' of a "://" at t[i]; adds the
 * password's span when there is one. */
void secret_conn_at(struct scan *s, size_t i);

#endif
