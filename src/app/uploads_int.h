/* uploads_int.h - what uploads.c and uploads_patch.c share. */
#ifndef DUET_UPLOADS_INT_H
#define DUET_UPLOADS_INT_H

#include "../base/media_sniff.h"
#include "uploads.h"

#define UP_BUF        (256u << 10)
#define UP_CHECKPOINT (8u << 20)
#define TUS_HDR       "Tus-Resumable: 1.0.0\r\n"

/* One PATCH in progress. Ownership: malloc'd by api_upload_patch, linked in
 * uploads->patches, freed once answered; owns the call (answered at the
 * very end, also when the connection is gone), the buffer and the fd. */
struct up_patch {
    struct up_patch *next;
    struct uploads *u;
    struct api_call *call;
    char id[33];
    char path[1100];
    uint64_t length;
    uint64_t file_off; /* bytes written to the file */
    uint64_t saved;    /* offset stored */
    char *buf;
    size_t used;
    size_t win; /* body bytes the network layer may still deliver */
    uv_file fd;
    uv_fs_t fs;
    store_req sreq;
    int writing; /* a file operation or store request in flight */
    int ended;   /* the body ended (end_status) */
    int end_status;
    int err;        /* the first failure; answered at the end */
    int overflow;   /* the body ran past Upload-Length */
    int completing; /* the last byte is in: sniff, blob put, store */
    int nosave;     /* an fsync or store failed: no further checkpoint */
    uint8_t head[MEDIA_SNIFF_BYTES];
    struct media_sniffed sniffed;
};

/* uploads.c */
int up_tus_ok(struct api_call *call);
int up_arg_id(struct api_call *call, char out[33]);
void up_fail(struct api_call *call, int err);
/* uploads_gc.c: once closing and nothing is left running, the close goes on. */
void up_maybe_done(struct uploads *u);

#endif
