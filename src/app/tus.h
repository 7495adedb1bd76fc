/* tus.h - the tus 1.0.0 request headers (https://tus.io/protocols/resumable-upload),
 * parsed strictly. Pure (fuzzed: fuzz/fuzz_tus.c). */
#ifndef DUET_TUS_H
#define DUET_TUS_H

#include <stddef.h>
#include <stdint.h>

#define TUS_NAME_MAX 255 /* filename bytes */
#define TUS_TYPE_MAX 127 /* filetype bytes */

/* Upload-Offset / Upload-Length: 1 to 19 ASCII digits, nothing else
 * (no sign, no spaces inside). 0 or -EINVAL. */
int tus_parse_u64(const char *s, size_t len, uint64_t *out);

/* Upload-Metadata: comma-separated "key base64value" pairs (the value may be
 * absent). Keys are 1..64 printable ASCII characters without spaces or
 * commas, each at most once. filename and filetype are decoded into name
 * and type (NUL-terminated, "" when absent); they must be valid UTF-8
 * without control characters, name at most TUS_NAME_MAX bytes, type at most
 * TUS_TYPE_MAX; other keys are ignored. 0 or -EINVAL. */
int tus_parse_metadata(const char *s, size_t len, char name[TUS_NAME_MAX + 1],
                       char type[TUS_TYPE_MAX + 1]);

/* An upload id: 32 lowercase hex digits. */
int tus_id_ok(const char *s, size_t len);

#endif
