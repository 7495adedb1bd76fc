/* test_media.c - the pure parts of media (issue 15): the type sniffer and
 * the type agreement rule, the Range parser, the tus header parsers and
 * the media metadata validator. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "../../src/app/media_meta.h"
#include "../../src/app/tus.h"
#include "../../src/base/media_sniff.h"
#include "../../src/net/net.h"

static struct media_sniffed sniff(const void *p, size_t n)
{
    struct media_sniffed s;
    media_sniff(p, n, &s);
    return s;
}

Test(media, sniffs_the_allowlist)
{
    cr_assert_str_eq(sniff("\xFF\xD8\xFF\xE0", 4).mime, "image/jpeg");
    cr_assert_str_eq(sniff("\x89PNG\r\n\x1A\n", 8).mime, "image/png");
    cr_assert_str_eq(sniff("GIF89a", 6).mime, "image/gif");
    cr_assert_str_eq(sniff("RIFF\0\0\0\0WEBPVP8 ", 16).mime, "image/webp");
    cr_assert_str_eq(sniff("\0\0\0\x18"
                           "ftypisom\0\0\0\0",
                           16)
                         .mime,
                     "video/mp4");
    cr_assert_str_eq(sniff("\0\0\0\x18"
                           "ftypM4A \0\0\0\0",
                           16)
                         .mime,
                     "audio/mp4");
    cr_assert_str_eq(sniff("\0\0\0\x18"
                           "ftypavif\0\0\0\0",
                           16)
                         .mime,
                     "image/avif");
    cr_assert_str_eq(sniff("\x1A\x45\xDF\xA3", 4).mime, "video/webm");
    cr_assert_str_eq(sniff("OggS", 4).mime, "audio/ogg");
    cr_assert_str_eq(sniff("ID3\x04", 4).mime, "audio/mpeg");
    cr_assert_str_eq(sniff("%PDF-1.7", 8).mime, "application/pdf");
    struct media_sniffed html = sniff("<html><script>", 14);
    cr_assert_str_eq(html.mime, "application/octet-stream");
    cr_assert_eq(html.kind, MEDIA_FILE);
    cr_assert_eq(sniff("", 0).kind, MEDIA_FILE);
    cr_assert_eq(sniff("\xFF\xD8", 2).kind, MEDIA_FILE, "too short for the magic");
}

Test(media, declared_types_must_agree)
{
    const char *serve = NULL;
    struct media_sniffed jpeg = sniff("\xFF\xD8\xFF\xE0", 4);
    struct media_sniffed webm = sniff("\x1A\x45\xDF\xA3", 4);
    struct media_sniffed pdf = sniff("%PDF-1.7", 8);
    cr_assert(media_agrees(1, &jpeg, &serve));
    cr_assert_str_eq(serve, "image/jpeg");
    cr_assert_not(media_agrees(2, &jpeg, &serve));
    cr_assert_not(media_agrees(3, &jpeg, &serve));
    cr_assert(media_agrees(3, &webm, &serve), "a voice note in WebM");
    cr_assert_str_eq(serve, "audio/webm");
    cr_assert(media_agrees(2, &webm, &serve));
    cr_assert_not(media_agrees(1, &pdf, &serve));
    cr_assert(media_agrees(4, &pdf, &serve));
    cr_assert_str_eq(serve, "application/pdf");
    cr_assert(media_agrees(4, &jpeg, &serve));
    cr_assert_str_eq(serve, "application/octet-stream", "a photo as a file is a download");
    cr_assert_not(media_agrees(0, &jpeg, &serve));
    cr_assert_not(media_agrees(5, &jpeg, &serve));
    cr_assert_not(media_inline_ok("text/html"));
    cr_assert_not(media_inline_ok("image/svg+xml"));
}

Test(media, range_parser)
{
    uint64_t a, b;
    cr_assert_eq(net_range_parse("bytes=0-99", 10, 1000, &a, &b), 1);
    cr_assert(a == 0 && b == 99);
    cr_assert_eq(net_range_parse("bytes=990-2000", 14, 1000, &a, &b), 1);
    cr_assert(a == 990 && b == 999, "clamped to the end");
    cr_assert_eq(net_range_parse("bytes=-10", 9, 1000, &a, &b), 1);
    cr_assert(a == 990 && b == 999);
    cr_assert_eq(net_range_parse("bytes=-5000", 11, 1000, &a, &b), 1);
    cr_assert(a == 0 && b == 999);
    cr_assert_eq(net_range_parse("bytes=500-", 10, 1000, &a, &b), 1);
    cr_assert(a == 500 && b == 999);
    cr_assert_eq(net_range_parse("bytes=1000-", 11, 1000, &a, &b), -ERANGE);
    cr_assert_eq(net_range_parse("bytes=-0", 8, 1000, &a, &b), -ERANGE);
    cr_assert_eq(net_range_parse("bytes=0-1,5-6", 13, 1000, &a, &b), 0, "several: whole");
    cr_assert_eq(net_range_parse("items=0-1", 9, 1000, &a, &b), 0, "another unit");
    cr_assert_eq(net_range_parse("bytes=5-1", 9, 1000, &a, &b), 0, "invalid: ignored");
    cr_assert_eq(net_range_parse("bytes=x-1", 9, 1000, &a, &b), 0);
    cr_assert_eq(net_range_parse("bytes=0-0", 9, 0, &a, &b), -ERANGE, "nothing in an empty body");
}

Test(media, tus_headers)
{
    uint64_t v;
    cr_assert_eq(tus_parse_u64("12345", 5, &v), 0);
    cr_assert_eq(v, 12345);
    cr_assert_eq(tus_parse_u64("", 0, &v), -EINVAL);
    cr_assert_eq(tus_parse_u64("-1", 2, &v), -EINVAL);
    cr_assert_eq(tus_parse_u64(" 1", 2, &v), -EINVAL);
    cr_assert_eq(tus_parse_u64("12345678901234567890", 20, &v), -EINVAL);
    char name[TUS_NAME_MAX + 1], type[TUS_TYPE_MAX + 1];
    const char *m = "filename cGhvdG8uanBn,filetype aW1hZ2UvanBlZw==,is_private";
    cr_assert_eq(tus_parse_metadata(m, strlen(m), name, type), 0);
    cr_assert_str_eq(name, "photo.jpg");
    cr_assert_str_eq(type, "image/jpeg");
    const char *dup = "filename YQ==,filename Yg==";
    cr_assert_eq(tus_parse_metadata(dup, strlen(dup), name, type), -EINVAL);
    const char *ctl = "filename YQpi"; /* "a\nb" */
    cr_assert_eq(tus_parse_metadata(ctl, strlen(ctl), name, type), -EINVAL);
    const char *bad = "filename !!!";
    cr_assert_eq(tus_parse_metadata(bad, strlen(bad), name, type), -EINVAL);
    cr_assert_eq(tus_parse_metadata("a,", 2, name, type), -EINVAL, "a trailing comma");
    cr_assert(tus_id_ok("0123456789abcdef0123456789abcdef", 32));
    cr_assert_not(tus_id_ok("0123456789ABCDEF0123456789abcdef", 32));
    cr_assert_not(tus_id_ok("0123", 4));
}

static int meta(const char *json)
{
    json_t *o = json_loads(json, 0, NULL);
    struct media_meta m;
    const char *err;
    int r = media_meta_parse(o, &m, &err);
    json_decref(o);
    return r;
}

Test(media, metadata_bounds)
{
#define UP "\"upload\":\"0123456789abcdef0123456789abcdef\""
#define TH "\"thumb\":\"data:image/jpeg;base64,/9j/4AA=\""
    cr_assert_eq(meta("{" UP ",\"type\":1,\"size\":10," TH "}"), 0);
    cr_assert_eq(meta("{" UP ",\"type\":1,\"size\":10}"), -1, "an image needs a thumb");
    cr_assert_eq(meta("{" UP ",\"type\":4,\"size\":10}"), 0);
    cr_assert_eq(meta("{" UP ",\"type\":4,\"size\":0}"), -1);
    cr_assert_eq(meta("{" UP ",\"type\":0,\"size\":10}"), -1);
    cr_assert_eq(meta("{" UP ",\"type\":1,\"size\":10,\"width\":20001," TH "}"), -1);
    cr_assert_eq(meta("{" UP ",\"type\":3,\"size\":10,\"duration_ms\":86400001}"), -1);
    cr_assert_eq(meta("{" UP ",\"type\":3,\"size\":10,\"waveform\":[0,255]}"), 0);
    cr_assert_eq(meta("{" UP ",\"type\":3,\"size\":10,\"waveform\":[256]}"), -1);
    cr_assert_eq(
        meta("{" UP ",\"type\":1,\"size\":10,\"thumb\":\"data:image/svg+xml;base64,PHN2Zz4=\"}"),
        -1);
    cr_assert_eq(meta("{\"upload\":\"xyz\",\"type\":4,\"size\":10}"), -1);
    cr_assert_eq(meta("[1]"), -1);
}
