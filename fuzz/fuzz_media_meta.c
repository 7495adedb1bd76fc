/* fuzz_media_meta.c - the media object of a send (app/media_meta.c).
 *
 * Input: a JSON text, the media object. Oracles besides the sanitizers: an
 * accepted object is within every documented bound, and the stored form
 * (media_meta_stored) is a JSON object that parses back with the same id,
 * size and waveform. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/app/media_meta.h"

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_media_meta: oracle failed: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *obj = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (obj == NULL)
        return 0;
    struct media_meta m;
    const char *err = NULL;
    if (media_meta_parse(obj, &m, &err) == 0) {
        check(m.type >= 1 && m.type <= 4, "type 1..4");
        check(strlen(m.upload) == 32, "an upload id");
        check(m.width >= 0 && m.width <= MEDIA_DIM_MAX && m.height >= 0 &&
                  m.height <= MEDIA_DIM_MAX,
              "dimensions");
        check(m.duration_ms >= 0 && m.duration_ms <= MEDIA_DURATION_MAX, "duration");
        check(m.n_waveform <= MEDIA_WAVE_MAX, "waveform");
        check(strlen(m.thumb) <= MEDIA_THUMB_MAX, "thumb");
        check(strlen(m.name) <= MEDIA_NAME_MAX, "name");
        check((m.type != 1 && m.type != 2) || m.thumb[0] != '\0', "a thumb for images and videos");
        char *s = media_meta_stored(&m, "image/png");
        check(s != NULL, "stored");
        json_t *back = json_loads(s, 0, NULL);
        check(json_is_object(back), "stored is a JSON object");
        check(strcmp(json_string_value(json_object_get(back, "id")), m.upload) == 0, "same id");
        check((uint64_t)json_integer_value(json_object_get(back, "size")) == m.size, "same size");
        json_t *w = json_object_get(back, "waveform");
        check(m.has_waveform ? json_array_size(w) == m.n_waveform : json_is_null(w),
              "same waveform");
        json_decref(back);
        free(s);
    } else {
        check(err != NULL, "a reason");
    }
    json_decref(obj);
    return 0;
}
