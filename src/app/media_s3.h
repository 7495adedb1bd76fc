/* media_s3.h - the S3 blob store from duetd's configuration (--media s3).
 * main.c opens it instead of the local disk's; api.c's static files name
 * its origin in the page's CSP. */
#ifndef DUET_MEDIA_S3_H
#define DUET_MEDIA_S3_H

#include <uv.h>

#include "../blob/blob.h"
#include "config.h"

/* Opens the S3 backend: --s3-endpoint and --s3-bucket are required, the
 * keys come from their files (regular, mode 0600 or stricter) or from
 * DUET_S3_ACCESS_KEY / DUET_S3_SECRET_KEY. Prints what is wrong to stderr
 * (never a key). 0 or a negative errno. */
int media_s3_open(const struct config *cfg, uv_loop_t *loop, blob_store **out);

/* The origin browsers fetch media from (the S3 endpoint), for the page's
 * CSP; NULL unless --media s3. */
const char *media_s3_origin(const struct config *cfg);

#endif
