/* cass_uploads.c - uploads and media on Cassandra (issue 15): not built in
 * this branch yet; every op answers -ENOTSUP, which the API reports as
 * "media is not available on this store" (docs/cassandra.md). */
#include "cass_int.h"

#include <errno.h>

void cs_upload_op(cs_op *op)
{
    cs_finish(op, -ENOTSUP);
}
