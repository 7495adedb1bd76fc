/* fuzz_tus.c - the tus request headers (app/tus.c): Upload-Offset and
 * Upload-Length (tus_parse_u64), Upload-Metadata (tus_parse_metadata) and
 * upload ids (tus_id_ok).
 *
 * Input: the first byte picks the parser, the rest is the header value.
 * Oracles besides the sanitizers: an accepted number is all digits and
 * prints back to the same value, accepted names are bounded, valid UTF-8
 * without control characters, and an accepted id is 32 lowercase hex. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/app/tus.h"
#include "../src/base/text.h"

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_tus: oracle failed: %s\n", what);
        abort();
    }
}

static void text_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    check(n <= max, "a decoded value is bounded");
    check(text_utf8_valid(s, n), "a decoded value is UTF-8");
    for (size_t i = 0; i < n; i++)
        check((unsigned char)s[i] >= 0x20 && s[i] != 0x7f, "no control characters");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *v = (const char *)data + 1;
    size_t len = size - 1;
    switch (data[0] % 3) {
    case 0: {
        uint64_t x;
        if (tus_parse_u64(v, len, &x) == 0) {
            check(len >= 1 && len <= 19, "1..19 digits");
            uint64_t back = 0;
            for (size_t i = 0; i < len; i++) {
                check(v[i] >= '0' && v[i] <= '9', "digits only");
                back = back * 10 + (uint64_t)(v[i] - '0');
            }
            check(back == x, "the value is the digits'");
        }
        break;
    }
    case 1: {
        char name[TUS_NAME_MAX + 1], type[TUS_TYPE_MAX + 1];
        if (tus_parse_metadata(v, len, name, type) == 0) {
            text_ok(name, TUS_NAME_MAX);
            text_ok(type, TUS_TYPE_MAX);
        }
        break;
    }
    default:
        if (tus_id_ok(v, len)) {
            check(len == 32, "32 digits");
            for (size_t i = 0; i < len; i++)
                check((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f'),
                      "lowercase hex");
        }
    }
    return 0;
}
