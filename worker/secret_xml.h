/* secret_xml.h - the rule for a secret that is an XML element's text,
 * named by the element: <password>VALUE</password> (Maven settings.xml),
 * <apiKey>VALUE</apiKey>. (Attributes, key="ApiKey" value="...", are
 * name/value pairs of the assignment rule, secret_assign.c.)
 */
#ifndef WK_SECRET_XML_H
#define WK_SECRET_XML_H

#include <stddef.h>

#include "worker/secret_scan.h"

/* Tries the element rule at a '<' at t[i]; adds the span of the element's
 * text when it is a secret. Reads at most one line. */
void secret_xml_at(struct scan *s, size_t i);

#endif
