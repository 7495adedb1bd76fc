/* tus.c - tus header parsing. */
#include "tus.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "../base/text.h"

int tus_parse_u64(const char *s, size_t len, uint64_t *out)
{
    if (len == 0 || len > 19)
        return -EINVAL;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Decodes one base64 value into out (cap bytes and a NUL). */
static int decode_value(const char *b64, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    if (len == 0) {
        out[0] = '\0';
        return 0;
    }
    if (len > 4 * ((cap + 2) / 3) ||
        sodium_base642bin((unsigned char *)out, cap, b64, len, NULL, &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return -EINVAL;
    out[n] = '\0';
    if (!text_utf8_valid(out, n))
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
            return -EINVAL;
    return 0;
}

int tus_parse_metadata(const char *s, size_t len, char name[TUS_NAME_MAX + 1],
                       char type[TUS_TYPE_MAX + 1])
{
    int seen_name = 0, seen_type = 0;
    name[0] = type[0] = '\0';
    const char *p = s, *end = s + len;
    /* Keys other than ours only need to be unique among a few. */
    const char *keys[16];
    size_t klens[16], nkeys = 0;
    while (p < end) {
        const char *pair_end = memchr(p, ',', (size_t)(end - p));
        if (pair_end == NULL)
            pair_end = end;
        while (p < pair_end && *p == ' ')
            p++;
        const char *k = p;
        while (p < pair_end && *p != ' ')
            p++;
        size_t klen = (size_t)(p - k);
        if (klen == 0 || klen > 64)
            return -EINVAL;
        for (size_t i = 0; i < klen; i++)
            if ((unsigned char)k[i] <= 0x20 || (unsigned char)k[i] >= 0x7f)
                return -EINVAL;
        for (size_t i = 0; i < nkeys; i++)
            if (klens[i] == klen && memcmp(keys[i], k, klen) == 0)
                return -EINVAL;
        if (nkeys == sizeof(keys) / sizeof(keys[0]))
            return -EINVAL;
        keys[nkeys] = k;
        klens[nkeys++] = klen;
        while (p < pair_end && *p == ' ')
            p++;
        const char *v = p;
        size_t vlen = (size_t)(pair_end - v);
        while (vlen > 0 && v[vlen - 1] == ' ')
            vlen--;
        if (memchr(v, ' ', vlen) != NULL)
            return -EINVAL;
        if (klen == 8 && memcmp(k, "filename", 8) == 0) {
            if (seen_name++ || decode_value(v, vlen, name, TUS_NAME_MAX) < 0)
                return -EINVAL;
        } else if (klen == 8 && memcmp(k, "filetype", 8) == 0) {
            if (seen_type++ || decode_value(v, vlen, type, TUS_TYPE_MAX) < 0)
                return -EINVAL;
        }
        p = pair_end < end ? pair_end + 1 : end;
        if (pair_end < end && p == end)
            return -EINVAL; /* a trailing comma */
    }
    return 0;
}

int tus_id_ok(const char *s, size_t len)
{
    if (len != 32)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}
