/* media_sniff.h - what an upload's first bytes say it is. The server never
 * decodes media: it only compares magic numbers against an allowlist, and
 * whatever is not on it is a file served as an attachment
 * (docs/security.md, "Media"). Pure: no I/O, no allocation (fuzzed). */
#ifndef DUET_MEDIA_SNIFF_H
#define DUET_MEDIA_SNIFF_H

#include <stddef.h>
#include <stdint.h>

/* The message types of media (docs/protocol.md; 0 is text). */
enum media_kind { MEDIA_IMAGE = 1, MEDIA_VIDEO = 2, MEDIA_AUDIO = 3, MEDIA_FILE = 4 };

/* Bytes media_sniff() looks at, at most. */
#define MEDIA_SNIFF_BYTES 64

/* A sniffed type: mime and kind are static. container is 1 for formats
 * that may hold audio alone or video (MP4, WebM/Matroska, Ogg), so that a
 * voice note recorded as audio/webm is accepted as audio. */
struct media_sniffed {
    const char *mime;
    int kind; /* enum media_kind; MEDIA_FILE for anything not allowlisted */
    int container;
};

/* Sniffs the first len bytes of a blob (len may be short). */
void media_sniff(const uint8_t *p, size_t len, struct media_sniffed *out);

/* Whether a declared message type (1..4) agrees with the sniffed bytes, and
 * the Content-Type the blob is then served with (static): an image must be
 * an allowlisted image, a video a video, audio audio or an audio-capable
 * container (served as audio/...); a file (4) is anything, served as
 * application/pdf, application/zip or application/octet-stream. 1 agrees,
 * 0 does not. */
int media_agrees(int declared, const struct media_sniffed *s, const char **serve_mime);

/* What media_sniff said, rebuilt from the mime it gave (stored with the
 * upload): kind from the type's prefix, container for MP4, QuickTime, WebM
 * and Ogg. */
void media_sniffed_from_mime(const char *mime, struct media_sniffed *out);

/* Whether mime may be shown inline (an allowlisted image, video or audio
 * type); everything else is served with Content-Disposition: attachment. */
int media_inline_ok(const char *mime);

#endif
