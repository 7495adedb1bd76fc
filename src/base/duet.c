#include "duet.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>
#include <time.h>

int64_t duet_now_ms(void)
{
    struct timespec ts;
    /* CLOCK_REALTIME cannot fail with a valid clock id and pointer. */
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void duet_id_format(const duet_id *id, char out[DUET_ID_STRLEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[id->b[i] >> 4];
        out[o++] = hex[id->b[i] & 15];
    }
    out[o] = '\0';
}

int duet_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void duet_hex_encode(const uint8_t *b, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[b[i] >> 4];
        out[2 * i + 1] = d[b[i] & 15];
    }
    out[2 * n] = '\0';
}

int duet_hex_decode(const char *s, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++) {
        int hi = duet_hexval(s[2 * i]), lo = duet_hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -EINVAL;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

int duet_id_parse(const char *s, size_t len, duet_id *out)
{
    if (s == NULL || len != DUET_ID_STRLEN)
        return -EINVAL;
    duet_id id;
    size_t j = 0;
    for (size_t i = 0; i < len;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return -EINVAL;
            i++;
            continue;
        }
        int hi = duet_hexval(s[i]), lo = duet_hexval(s[i + 1]);
        if (hi < 0 || lo < 0)
            return -EINVAL;
        id.b[j++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    *out = id;
    return 0;
}

int duet_id_eq(const duet_id *a, const duet_id *b)
{
    return memcmp(a->b, b->b, 16) == 0;
}

int duet_id_cmp(const duet_id *a, const duet_id *b)
{
    return memcmp(a->b, b->b, 16);
}

static void set_version(duet_id *id, int version)
{
    id->b[6] = (uint8_t)((id->b[6] & 0x0f) | (version << 4));
    id->b[8] = (uint8_t)((id->b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
}

void duet_id_random(duet_id *out)
{
    randombytes_buf(out->b, sizeof(out->b));
    set_version(out, 4);
}

void duet_chat_id(const duet_id *a, const duet_id *b, duet_id *out)
{
    /* Order the pair so that (a, b) and (b, a) give one chat. The fixed
     * context string makes these ids distinct from any other hash use. */
    const duet_id *lo = duet_id_cmp(a, b) <= 0 ? a : b;
    const duet_id *hi = lo == a ? b : a;
    uint8_t in[32 + 10];
    memcpy(in, "duet-chat:", 10);
    memcpy(in + 10, lo->b, 16);
    memcpy(in + 26, hi->b, 16);
    crypto_generichash(out->b, sizeof(out->b), in, sizeof(in), NULL, 0);
    set_version(out, 8);
}

const char *duet_strerror_code(int err)
{
    switch (err) {
    case 0:
        return "ok";
    case DUET_ENOTFOUND:
        return "not_found";
    case DUET_EEXISTS:
        return "username_taken";
    case DUET_EFORBIDDEN:
        return "forbidden";
    case DUET_ENOTFRIENDS:
        return "not_friends";
    case DUET_EBLOCKED:
        return "blocked";
    case DUET_ESTORE:
        return "store_failed";
    case DUET_EEXPIRED:
        return "delete_window_over";
    case DUET_ECONFLICT:
        return "id_conflict";
    case DUET_ESELF:
        return "self";
    case DUET_EALREADY:
        return "already_friends";
    case DUET_EBUSY:
        return "busy";
    case DUET_EDELETED:
        return "already_deleted";
    case DUET_EFULL:
        return "recipient_backlog_full";
    case DUET_ELIMIT:
        return "daily_limit";
    case -ENOMEM:
        return "internal";
    case -EINVAL:
        return "bad_request";
    default:
        return "internal";
    }
}
