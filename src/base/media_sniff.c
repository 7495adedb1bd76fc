/* media_sniff.c - magic numbers of the allowlisted media types. */
#include "media_sniff.h"

#include <string.h>

static int has(const uint8_t *p, size_t len, size_t off, const char *magic, size_t n)
{
    return len >= off + n && memcmp(p + off, magic, n) == 0;
}

/* ISO BMFF ("ftyp" box at offset 4): the major brand says which. */
static void sniff_ftyp(const uint8_t *p, size_t len, struct media_sniffed *out)
{
    static const struct {
        const char *brand;
        const char *mime;
        int kind;
    } brands[] = {
        {"avif", "image/avif", MEDIA_IMAGE},      {"avis", "image/avif", MEDIA_IMAGE},
        {"heic", "image/heic", MEDIA_IMAGE},      {"heix", "image/heic", MEDIA_IMAGE},
        {"mif1", "image/heic", MEDIA_IMAGE},      {"msf1", "image/heic", MEDIA_IMAGE},
        {"M4A ", "audio/mp4", MEDIA_AUDIO},       {"M4B ", "audio/mp4", MEDIA_AUDIO},
        {"qt  ", "video/quicktime", MEDIA_VIDEO},
    };
    if (len < 12)
        return;
    for (size_t i = 0; i < sizeof(brands) / sizeof(brands[0]); i++) {
        if (memcmp(p + 8, brands[i].brand, 4) == 0) {
            out->mime = brands[i].mime;
            out->kind = brands[i].kind;
            out->container = brands[i].kind != MEDIA_IMAGE;
            return;
        }
    }
    out->mime = "video/mp4"; /* isom, mp41, mp42, iso2..6, dash, avc1, 3gp* ... */
    out->kind = MEDIA_VIDEO;
    out->container = 1;
}

void media_sniff(const uint8_t *p, size_t len, struct media_sniffed *out)
{
    out->mime = "application/octet-stream";
    out->kind = MEDIA_FILE;
    out->container = 0;
    if (len > MEDIA_SNIFF_BYTES)
        len = MEDIA_SNIFF_BYTES;
    if (has(p, len, 0, "\xFF\xD8\xFF", 3)) {
        out->mime = "image/jpeg", out->kind = MEDIA_IMAGE;
    } else if (has(p, len, 0, "\x89PNG\r\n\x1A\n", 8)) {
        out->mime = "image/png", out->kind = MEDIA_IMAGE;
    } else if (has(p, len, 0, "GIF87a", 6) || has(p, len, 0, "GIF89a", 6)) {
        out->mime = "image/gif", out->kind = MEDIA_IMAGE;
    } else if (has(p, len, 0, "RIFF", 4) && has(p, len, 8, "WEBP", 4)) {
        out->mime = "image/webp", out->kind = MEDIA_IMAGE;
    } else if (has(p, len, 0, "RIFF", 4) && has(p, len, 8, "WAVE", 4)) {
        out->mime = "audio/wav", out->kind = MEDIA_AUDIO;
    } else if (has(p, len, 4, "ftyp", 4)) {
        sniff_ftyp(p, len, out);
    } else if (has(p, len, 0, "\x1A\x45\xDF\xA3", 4)) {
        out->mime = "video/webm", out->kind = MEDIA_VIDEO, out->container = 1;
    } else if (has(p, len, 0, "OggS", 4)) {
        out->mime = "audio/ogg", out->kind = MEDIA_AUDIO, out->container = 1;
    } else if (has(p, len, 0, "fLaC", 4)) {
        out->mime = "audio/flac", out->kind = MEDIA_AUDIO;
    } else if (has(p, len, 0, "ID3", 3) ||
               (len >= 2 && p[0] == 0xFF && (p[1] == 0xFB || p[1] == 0xF3 || p[1] == 0xF2))) {
        out->mime = "audio/mpeg", out->kind = MEDIA_AUDIO;
    } else if (len >= 2 && p[0] == 0xFF && (p[1] == 0xF1 || p[1] == 0xF9)) {
        out->mime = "audio/aac", out->kind = MEDIA_AUDIO;
    } else if (has(p, len, 0, "%PDF-", 5)) {
        out->mime = "application/pdf";
    } else if (has(p, len, 0, "PK\x03\x04", 4)) {
        out->mime = "application/zip";
    }
}

int media_agrees(int declared, const struct media_sniffed *s, const char **serve_mime)
{
    switch (declared) {
    case MEDIA_IMAGE:
    case MEDIA_VIDEO:
        *serve_mime = s->mime;
        return s->kind == declared;
    case MEDIA_AUDIO:
        if (s->kind == MEDIA_AUDIO) {
            *serve_mime = s->mime;
            return 1;
        }
        if (s->container && s->kind == MEDIA_VIDEO) { /* a voice note in a video container */
            *serve_mime = strcmp(s->mime, "video/webm") == 0 ? "audio/webm" : "audio/mp4";
            return 1;
        }
        return 0;
    case MEDIA_FILE:
        *serve_mime =
            strcmp(s->mime, "application/pdf") == 0 || strcmp(s->mime, "application/zip") == 0
                ? s->mime
                : "application/octet-stream";
        return 1;
    default:
        return 0;
    }
}

void media_sniffed_from_mime(const char *mime, struct media_sniffed *out)
{
    static const char *const containers[] = {"video/mp4", "video/quicktime", "video/webm",
                                             "audio/ogg", "audio/mp4"};
    out->mime = mime;
    out->kind = strncmp(mime, "image/", 6) == 0   ? MEDIA_IMAGE
                : strncmp(mime, "video/", 6) == 0 ? MEDIA_VIDEO
                : strncmp(mime, "audio/", 6) == 0 ? MEDIA_AUDIO
                                                  : MEDIA_FILE;
    out->container = 0;
    for (size_t i = 0; i < sizeof(containers) / sizeof(containers[0]); i++)
        if (strcmp(mime, containers[i]) == 0)
            out->container = 1;
}

int media_inline_ok(const char *mime)
{
    static const char *const ok[] = {
        "image/jpeg", "image/png",  "image/gif",       "image/webp", "image/avif", "image/heic",
        "video/mp4",  "video/webm", "video/quicktime", "audio/mp4",  "audio/webm", "audio/ogg",
        "audio/mpeg", "audio/wav",  "audio/flac",      "audio/aac",
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (strcmp(mime, ok[i]) == 0)
            return 1;
    return 0;
}
