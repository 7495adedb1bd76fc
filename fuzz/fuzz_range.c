/* fuzz_range.c - the Range header of downloads (net_range_parse).
 *
 * Input: 8 bytes of body size (little-endian, taken modulo 2^40), then the
 * header value. Oracles besides the sanitizers: a range that is answered
 * lies inside the body (first <= last < size), and an empty body never
 * gets a 206. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/net/net.h"

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_range: oracle failed: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8)
        return 0;
    uint64_t body = 0;
    for (int i = 7; i >= 0; i--)
        body = body << 8 | data[i];
    body %= 1ULL << 40;
    uint64_t first = 0, last = 0;
    int r = net_range_parse((const char *)data + 8, size - 8, body, &first, &last);
    check(r == 0 || r == 1 || r == -ERANGE, "a known result");
    if (r == 1) {
        check(body > 0, "no 206 for an empty body");
        check(first <= last && last < body, "the range lies inside the body");
    }
    return 0;
}
