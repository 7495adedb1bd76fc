/* uploads.h - media uploads (tus 1.0.0 under /api/uploads), media downloads
 * (/api/media/<id>), and the sweep of uploads never attached (issue 15;
 * docs/protocol.md "Media").
 *
 *   uploads.c      the tus endpoints: create, HEAD, PATCH (streamed to a
 *                  staged file under <data>/uploads/), DELETE, OPTIONS
 *   uploads_gc.c   the sweep, and removing a deleted message's blob
 *   media_api.c    downloads, after the access check (STORE_MEDIA_GET)
 *
 * The bytes go to the blob store (../blob/blob.h) once an upload is
 * complete; the store keeps the upload's state (offset, sniffed type, the
 * message holding it), never the bytes.
 */
#ifndef DUET_UPLOADS_H
#define DUET_UPLOADS_H

#include "api_int.h"

/* The uploads' state. Ownership: struct app (app->uploads), made by
 * uploads_start and freed by uploads_close. */
struct uploads;

/* Opens the blob store (--media), creates <data>/uploads and starts the
 * sweep timer. 0 or an error (logged). */
int uploads_start(struct app *app);
/* Stops the sweep, closes the blob store; done(ud) runs once both are
 * closed (later, on the loop). */
void uploads_close(struct app *app, void (*done)(void *), void *ud);

/* A message was deleted for everyone: removes its blob, then the upload
 * row (the sweep retries what fails or a crash interrupts). */
void uploads_forget(struct app *app, const char *upload_id);

/* HTTP handlers. */
void api_upload_options(struct api_call *call);
void api_upload_create(struct api_call *call);
void api_upload_head(struct api_call *call);
void api_upload_patch(struct api_call *call);
void api_upload_delete(struct api_call *call);
void api_media_get(struct api_call *call);

/* uploads.c, for uploads_gc.c: the staged file of id. */
int uploads_staged_path(const struct uploads *u, const char *id, char *out, size_t size);
/* Whether a PATCH is running for id (the sweep leaves it alone). */
int uploads_busy(const struct uploads *u, const char *id);
/* uploads_gc.c: starts and stops the sweep timer. */
int uploads_gc_start(struct uploads *u);
void uploads_gc_close(struct uploads *u, void (*closed)(struct uploads *));

/* The state (uploads.c owns it; uploads_gc.c reads it). */
struct up_patch;
struct up_sweep;
struct uploads {
    struct app *app;
    blob_store *blob;
    char staging[1024];        /* <data>/uploads */
    struct up_patch *patches;  /* PATCHes running (one per upload at most) */
    uv_timer_t sweep;          /* the sweep's period */
    struct up_sweep *sweeping; /* a sweep in progress, or NULL */
    int closing, handles;
    void (*done)(void *);
    void *done_ud;
};

/* Upload errors: a JSON error with the tus header. */
void uploads_error(struct api_call *call, const char *code, const char *message);

#endif
