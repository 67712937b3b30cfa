/* items.h - comma-separated lists in settings ("a, b,c").
 *
 *     const char *s = list, *item;
 *     size_t n;
 *     while (items_next(&s, &item, &n))
 *         use item[0..n)
 */
#ifndef CI_ITEMS_H
#define CI_ITEMS_H

#include <stddef.h>

/* Finds the next non-empty item at *cursor (NULL or "" is an empty list):
 * sets item and len to it without the spaces and tabs around it, moves
 * *cursor past it and its comma, and returns 1; returns 0 at the end. */
int items_next(const char **cursor, const char **item, size_t *len);

#endif
