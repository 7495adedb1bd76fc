/* cass_org.c - search and organise on Cassandra (c-org, issue 17): not
 * built yet. Both ops fail with -ENOSYS, which the API answers with
 * 501 not_implemented (docs/cassandra.md, "Search and organise"). */
#include <errno.h>

#include "cass_int.h"

void cs_search(cs_op *op)
{
    cs_finish(op, -ENOSYS);
}

void cs_chat_state_set(cs_op *op)
{
    cs_finish(op, -ENOSYS);
}
