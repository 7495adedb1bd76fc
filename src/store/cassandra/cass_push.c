/* cass_push.c - Web Push on Cassandra: not implemented yet (issue 16).
 * Every push op answers -ENOTSUP, and duetd does not start its push
 * sender with --store cassandra (docs/cassandra.md), so the HTTP routes
 * answer push_unavailable. The tables are in cass_schema.c's plan for it. */
#include <errno.h>

#include "cass_int.h"

void cs_push_unsupported(cs_op *op)
{
    cs_finish(op, -ENOTSUP);
}
