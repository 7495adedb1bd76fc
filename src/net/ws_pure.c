/* ws_pure.c - the pure parts of RFC 6455 the WebSocket code needs: the
 * handshake's accept key, the incremental UTF-8 validator for text
 * messages, and the header of the frames written directly for parked
 * connections. Unit-tested (test_net.c) and fuzzed. */
#include "net_int.h"

#include <errno.h>
#include <openssl/evp.h>
#include <string.h>

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

static int is_b64(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

int net__ws_accept_key(const char *key, size_t len, char out[29])
{
    /* 16 bytes in base64: 22 symbols and "==". */
    if (len != 24 || key[22] != '=' || key[23] != '=')
        return -EINVAL;
    for (size_t i = 0; i < 22; i++)
        if (!is_b64(key[i]))
            return -EINVAL;
    unsigned char in[24 + sizeof(ws_guid) - 1];
    memcpy(in, key, 24);
    memcpy(in + 24, ws_guid, sizeof(ws_guid) - 1);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (EVP_Digest(in, sizeof(in), md, &mdlen, EVP_sha1(), NULL) != 1 || mdlen != 20)
        return -EIO;
    if (EVP_EncodeBlock((unsigned char *)out, md, 20) != 28)
        return -EIO;
    return 0;
}

/* The state packs the bytes still expected (bits 8-15) and the range the
 * next one must fall in (bits 16-23 and 24-31); the first byte of a sequence
 * picks that range, which is how overlongs, surrogates and code points above
 * U+10FFFF are refused (RFC 3629, section 4). */
static uint32_t utf8_expect(unsigned need, unsigned lo, unsigned hi)
{
    return 2u | need << 8 | lo << 16 | hi << 24;
}

uint32_t net__utf8_feed(uint32_t state, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len && state != NET__UTF8_REJECT; i++) {
        unsigned b = p[i];
        if (state == NET__UTF8_ACCEPT) {
            if (b < 0x80)
                continue;
            if (b >= 0xC2 && b <= 0xDF)
                state = utf8_expect(1, 0x80, 0xBF);
            else if (b == 0xE0)
                state = utf8_expect(2, 0xA0, 0xBF); /* no overlongs */
            else if (b == 0xED)
                state = utf8_expect(2, 0x80, 0x9F); /* no surrogates */
            else if (b >= 0xE1 && b <= 0xEF)
                state = utf8_expect(2, 0x80, 0xBF);
            else if (b == 0xF0)
                state = utf8_expect(3, 0x90, 0xBF); /* no overlongs */
            else if (b >= 0xF1 && b <= 0xF3)
                state = utf8_expect(3, 0x80, 0xBF);
            else if (b == 0xF4)
                state = utf8_expect(3, 0x80, 0x8F); /* nothing above U+10FFFF */
            else
                state = NET__UTF8_REJECT;
            continue;
        }
        unsigned need = state >> 8 & 0xFF, lo = state >> 16 & 0xFF, hi = state >> 24;
        if (b < lo || b > hi)
            state = NET__UTF8_REJECT;
        else
            state = need == 1 ? NET__UTF8_ACCEPT : utf8_expect(need - 1, 0x80, 0xBF);
    }
    return state;
}

size_t net__ws_frame_header(uint8_t out[10], unsigned opcode, uint64_t len)
{
    out[0] = (uint8_t)(0x80 | (opcode & 0x0f)); /* FIN: one frame per message */
    if (len < 126) {
        out[1] = (uint8_t)len;
        return 2;
    }
    if (len < 65536) {
        out[1] = 126;
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
        return 4;
    }
    out[1] = 127;
    for (int i = 0; i < 8; i++)
        out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
    return 10;
}

void net__ws_ping_frame(uint8_t out[NET__WS_PING_LEN], uint32_t id)
{
    out[0] = 0x80 | WSLAY_PING;
    out[1] = 4;
    out[2] = (uint8_t)(id >> 24);
    out[3] = (uint8_t)(id >> 16);
    out[4] = (uint8_t)(id >> 8);
    out[5] = (uint8_t)id;
}

int net__ws_pong_matches(uint32_t id, const uint8_t *payload, size_t len)
{
    uint8_t want[NET__WS_PING_LEN];
    net__ws_ping_frame(want, id);
    return len == 4 && memcmp(payload, want + 2, 4) == 0;
}

int net__ws_pong_matches_masked(uint32_t id, const uint8_t mask[4], const uint8_t *payload,
                                size_t len)
{
    uint8_t p[4];
    if (len != sizeof(p))
        return 0;
    for (size_t i = 0; i < len; i++)
        p[i] = payload[i] ^ mask[i];
    return net__ws_pong_matches(id, p, len);
}
