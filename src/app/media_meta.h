/* media_meta.h - the `media` object of a WebSocket send, validated
 * (docs/protocol.md, "Media"). Pure apart from jansson (fuzzed:
 * fuzz/fuzz_media_meta.c). */
#ifndef DUET_MEDIA_META_H
#define DUET_MEDIA_META_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define MEDIA_THUMB_MAX    16384      /* bytes of the thumb data: URL */
#define MEDIA_DIM_MAX      20000      /* width, height */
#define MEDIA_DURATION_MAX 86400000LL /* 24 h in ms */
#define MEDIA_WAVE_MAX     64         /* waveform samples */
#define MEDIA_NAME_MAX     255        /* bytes of name */
#define MEDIA_MIME_MAX     127        /* bytes of the declared mime */

/* A send's media object. Ownership: strings borrow from the JSON object
 * parsed (valid while it lives). Absent numbers are 0; absent strings "". */
struct media_meta {
    char upload[33];  /* the upload id (32 lowercase hex) */
    int type;         /* enum media_kind, 1..4 */
    const char *mime; /* as declared by the client (informative; the server sniffs) */
    uint64_t size;    /* must equal the upload's length */
    const char *name;
    int64_t width, height, duration_ms;
    uint8_t waveform[MEDIA_WAVE_MAX];
    size_t n_waveform;
    int has_waveform;
    const char *thumb; /* a data:image/webp or data:image/jpeg base64 URL, or "" */
};

/* Validates obj into out. 0, or -1 with *err a short message (static). */
int media_meta_parse(json_t *obj, struct media_meta *out, const char **err);

/* The JSON object stored with the message and sent in events (without the
 * thumb, which lives in the message's preview): id, mime (the served one),
 * size, name, width, height, duration_ms, waveform. malloc'd; NULL on OOM. */
char *media_meta_stored(const struct media_meta *m, const char *serve_mime);

#endif
