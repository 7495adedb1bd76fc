/* fuzz_sniff.c - the type sniffer (base/media_sniff.c) and the rule that
 * a declared media type agrees with the bytes.
 *
 * Input: the first bytes of an upload. Oracles besides the sanitizers: a
 * kind in 1..4 and a type on the allowlist or a safe file type; an image,
 * video or audio is accepted only for bytes sniffed as that kind (or an
 * audio-capable container for audio) and then served as an inline type; a
 * file is never served as an inline type; HTML or SVG is never served. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/base/media_sniff.h"

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_sniff: oracle failed: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct media_sniffed s;
    media_sniff(data, size, &s);
    check(s.mime != NULL && s.kind >= 1 && s.kind <= 4, "a kind and a type");
    check(s.kind == MEDIA_FILE || media_inline_ok(s.mime), "a media kind has an inline type");
    struct media_sniffed back;
    media_sniffed_from_mime(s.mime, &back);
    check(back.kind == s.kind && back.container == s.container, "the stored type says the same");
    for (int declared = 0; declared <= 5; declared++) {
        const char *serve = NULL;
        int ok = media_agrees(declared, &s, &serve);
        if (!ok)
            continue;
        check(declared >= 1 && declared <= 4, "only types 1..4");
        check(serve != NULL && strstr(serve, "html") == NULL && strstr(serve, "svg") == NULL,
              "never HTML or SVG");
        if (declared == MEDIA_FILE) {
            check(!media_inline_ok(serve), "a file is an attachment");
        } else {
            check(media_inline_ok(serve), "media are served inline");
            check(s.kind == declared || (declared == MEDIA_AUDIO && s.container),
                  "the bytes are of the declared kind");
        }
    }
    return 0;
}
