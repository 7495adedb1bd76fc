/* fuzz_s3xml.c - src/s3/s3_xml.c on arbitrary bytes. The first byte picks
 * the element name and the output size; the rest is the document.
 * Oracles: the answer is a length that fits and matches strlen(out), or
 * one of the documented errors; a larger buffer never turns a success into
 * anything else, and gives the same text. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/s3/s3_xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const tags[] = {"UploadId", "ETag", "Code", "Message", "Key", "a"};
    if (size < 1)
        return 0;
    const char *tag = tags[data[0] % (sizeof(tags) / sizeof(tags[0]))];
    size_t cap = 1 + (data[0] >> 3); /* 1..32 */
    /* A copy exactly as long as the input, so ASan sees any over-read. */
    size_t len = size - 1;
    char *xml = malloc(len ? len : 1);
    if (!xml)
        return 0;
    memcpy(xml, data + 1, len);
    char small[33], big[4096];
    int a = s3_xml_text(xml, len, tag, small, cap);
    int b = s3_xml_text(xml, len, tag, big, sizeof(big));
    if (a >= 0) {
        if ((size_t)a >= cap || strlen(small) != (size_t)a)
            abort();
        if (b != a || memcmp(small, big, (size_t)a + 1) != 0)
            abort();
    } else if (a != -ENOENT && a != -EINVAL && a != -ENOSPC) {
        abort();
    } else if (a != -ENOSPC && b != a) {
        abort();
    }
    if (b >= 0 && strlen(big) != (size_t)b)
        abort();
    free(xml);
    return 0;
}
