/* ranges.h - test support: a file's reviewed and skipped line ranges
 * (worker/context.h) as the contract says they are. */
#ifndef TEST_RANGES_H
#define TEST_RANGES_H

#include "common/json.h"

/* reviewed and skipped are arrays of [first, last] pairs, each sorted and
 * not touching, disjoint, and together covering 1..total exactly; fails the
 * test otherwise. */
void assert_ranges_cover(const cJSON *reviewed, const cJSON *skipped, long total);

#endif
