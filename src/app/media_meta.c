/* media_meta.c - the media object's bounds: the server never decodes media,
 * so what the client says about it (dimensions, duration, waveform, the
 * thumbnail) is only bounded and passed on. */
#include "media_meta.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "../base/text.h"
#include "tus.h"

static int get_int(json_t *obj, const char *key, int64_t lo, int64_t hi, int64_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v)) {
        *out = 0;
        return 0;
    }
    if (!json_is_integer(v))
        return -1;
    json_int_t i = json_integer_value(v);
    if (i < lo || i > hi)
        return -1;
    *out = i;
    return 0;
}

static int get_str(json_t *obj, const char *key, size_t max, const char **out)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v)) {
        *out = "";
        return 0;
    }
    if (!json_is_string(v))
        return -1;
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (n > max || memchr(s, '\0', n) != NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return -1;
    *out = s;
    return 0;
}

/* data:image/webp;base64,... or data:image/jpeg;base64,... of at most
 * MEDIA_THUMB_MAX bytes, with valid base64 (not decoded further). */
static int thumb_ok(const char *t)
{
    static const char *const heads[] = {"data:image/webp;base64,", "data:image/jpeg;base64,"};
    size_t n = strlen(t);
    if (n > MEDIA_THUMB_MAX)
        return 0;
    for (size_t i = 0; i < 2; i++) {
        size_t h = strlen(heads[i]);
        if (n > h && memcmp(t, heads[i], h) == 0) {
            unsigned char buf[MEDIA_THUMB_MAX];
            size_t out = 0;
            return sodium_base642bin(buf, sizeof(buf), t + h, n - h, NULL, &out, NULL,
                                     sodium_base64_VARIANT_ORIGINAL) == 0 &&
                   out > 0;
        }
    }
    return 0;
}

int media_meta_parse(json_t *obj, struct media_meta *out, const char **err)
{
    memset(out, 0, sizeof(*out));
    if (!json_is_object(obj)) {
        *err = "'media' must be an object";
        return -1;
    }
    json_t *up = json_object_get(obj, "upload");
    if (!json_is_string(up) || !tus_id_ok(json_string_value(up), json_string_length(up))) {
        *err = "'media.upload' must be an upload id";
        return -1;
    }
    memcpy(out->upload, json_string_value(up), 32);
    int64_t v;
    if (get_int(obj, "type", 1, 4, &v) < 0 || v == 0) {
        *err = "'media.type' is 1 (image), 2 (video), 3 (audio) or 4 (file)";
        return -1;
    }
    out->type = (int)v;
    json_t *sz = json_object_get(obj, "size");
    if (!json_is_integer(sz) || json_integer_value(sz) < 1) {
        *err = "'media.size' must be the upload's length";
        return -1;
    }
    out->size = (uint64_t)json_integer_value(sz);
    if (get_str(obj, "mime", MEDIA_MIME_MAX, &out->mime) < 0) {
        *err = "'media.mime' must be a short string";
        return -1;
    }
    if (get_str(obj, "name", MEDIA_NAME_MAX, &out->name) < 0 ||
        !text_utf8_valid(out->name, strlen(out->name))) {
        *err = "'media.name' must be at most 255 bytes of text";
        return -1;
    }
    if (get_int(obj, "width", 0, MEDIA_DIM_MAX, &out->width) < 0 ||
        get_int(obj, "height", 0, MEDIA_DIM_MAX, &out->height) < 0) {
        *err = "'media.width' and 'media.height' are 0..20000";
        return -1;
    }
    if (get_int(obj, "duration_ms", 0, MEDIA_DURATION_MAX, &out->duration_ms) < 0) {
        *err = "'media.duration_ms' is 0..86400000";
        return -1;
    }
    json_t *w = json_object_get(obj, "waveform");
    if (w != NULL && !json_is_null(w)) {
        if (!json_is_array(w) || json_array_size(w) > MEDIA_WAVE_MAX) {
            *err = "'media.waveform' is an array of at most 64 integers 0..255";
            return -1;
        }
        out->has_waveform = 1;
        for (size_t i = 0; i < json_array_size(w); i++) {
            json_t *e = json_array_get(w, i);
            if (!json_is_integer(e) || json_integer_value(e) < 0 || json_integer_value(e) > 255) {
                *err = "'media.waveform' is an array of at most 64 integers 0..255";
                return -1;
            }
            out->waveform[out->n_waveform++] = (uint8_t)json_integer_value(e);
        }
    }
    if (get_str(obj, "thumb", MEDIA_THUMB_MAX, &out->thumb) < 0 ||
        (out->thumb[0] != '\0' && !thumb_ok(out->thumb))) {
        *err = "'media.thumb' is a data:image/webp or data:image/jpeg base64 URL of at most 16 KiB";
        return -1;
    }
    if ((out->type == 1 || out->type == 2) && out->thumb[0] == '\0') {
        *err = "'media.thumb' is required for images and videos";
        return -1;
    }
    return 0;
}

char *media_meta_stored(const struct media_meta *m, const char *serve_mime)
{
    json_t *wave = json_array();
    if (wave == NULL)
        return NULL;
    for (size_t i = 0; i < m->n_waveform; i++)
        if (json_array_append_new(wave, json_integer(m->waveform[i])) < 0) {
            json_decref(wave);
            return NULL;
        }
    json_t *o =
        json_pack("{s:s, s:s, s:I, s:s, s:I, s:I, s:I, s:o}", "id", m->upload, "mime", serve_mime,
                  "size", (json_int_t)m->size, "name", m->name, "width", (json_int_t)m->width,
                  "height", (json_int_t)m->height, "duration_ms", (json_int_t)m->duration_ms,
                  "waveform", m->has_waveform ? wave : json_null());
    if (!m->has_waveform)
        json_decref(wave);
    if (o == NULL)
        return NULL;
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s;
}
