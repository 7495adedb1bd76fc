/* cass_conv.c - issue 17's ops on Cassandra: not implemented yet. Each
 * answers -ENOTSUP ("unsupported"), changing nothing, so a client of a
 * Cassandra-backed server is told instead of silently losing a reaction,
 * an edit or a hide; cs_msg_send refuses reply_to and forward the same way. */
#include "cass_int.h"

#include <errno.h>

void cs_msg_conv_unsupported(cs_op *op)
{
    cs_finish(op, -ENOTSUP);
}
