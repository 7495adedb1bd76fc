/* test_static.c - the pure helpers behind the static files: content types,
 * ETags and If-None-Match, Accept-Encoding, and gzip. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../../src/net/net_int.h"
#include "../../src/net/static_ver.h"

static duet_slice sl(const char *s)
{
    return (duet_slice){s, strlen(s)};
}

static int gz_ok(const char *v)
{
    duet_slice s = sl(v);
    return net__accepts_gzip(&s);
}

static int inm(const char *v, const char *etag)
{
    duet_slice s = sl(v);
    return net__etag_match(&s, etag);
}

Test(static, content_types)
{
    cr_assert_str_eq(net__content_type("/w/index.html"), "text/html; charset=utf-8");
    cr_assert_str_eq(net__content_type("/w/js/app.JS"), "text/javascript; charset=utf-8");
    cr_assert_str_eq(net__content_type("/w/app.css"), "text/css; charset=utf-8");
    cr_assert_str_eq(net__content_type("/w/icon.svg"), "image/svg+xml");
    cr_assert_str_eq(net__content_type("/w/a.png"), "image/png");
    cr_assert_str_eq(net__content_type("/w/README"), "application/octet-stream");
    cr_assert_str_eq(net__content_type("/w.d/README"), "application/octet-stream");
    cr_assert_str_eq(net__content_type("/w/x.exe"), "application/octet-stream");
}

Test(static, compressible)
{
    cr_assert(net__compressible("text/html; charset=utf-8"));
    cr_assert(net__compressible("text/javascript; charset=utf-8"));
    cr_assert(net__compressible("application/json"));
    cr_assert(net__compressible("application/manifest+json"));
    cr_assert(net__compressible("image/svg+xml"));
    cr_assert_not(net__compressible("image/png"));
    cr_assert_not(net__compressible("font/woff2"));
    cr_assert_not(net__compressible("application/octet-stream"));
}

Test(static, etag_is_a_quoted_content_hash)
{
    char a[NET__ETAG_LEN + 1], b[NET__ETAG_LEN + 1], c[NET__ETAG_LEN + 1];
    net__etag("hello", 5, a);
    net__etag("hello", 5, b);
    net__etag("hellp", 5, c);
    cr_assert_eq(strlen(a), NET__ETAG_LEN);
    cr_assert_eq(a[0], '"');
    cr_assert_eq(a[NET__ETAG_LEN - 1], '"');
    for (int i = 1; i < NET__ETAG_LEN - 1; i++)
        cr_assert(strchr("0123456789abcdef", a[i]) != NULL, "hex digit at %d", i);
    cr_assert_str_eq(a, b);
    cr_assert_str_neq(a, c);
    net__etag("", 0, c);
    cr_assert_str_neq(a, c);
}

Test(static, if_none_match)
{
    const char *e = "\"0123456789abcdef\"";
    cr_assert(inm("\"0123456789abcdef\"", e));
    cr_assert(inm("W/\"0123456789abcdef\"", e));
    cr_assert(inm("\"x\", \"0123456789abcdef\"", e));
    cr_assert(inm("  \"x\" ,W/\"0123456789abcdef\"  ", e));
    cr_assert(inm("*", e));
    cr_assert_not(inm("", e));
    cr_assert_not(inm("\"0123456789abcdee\"", e));
    cr_assert_not(inm("0123456789abcdef", e));
    cr_assert_not(inm("\"0123456789abcdef-gz\"", e));
    cr_assert_not(inm("\"0123456789abcdef\"x", e));
    cr_assert_not(inm("**", e));
    cr_assert_not(inm(",,,", e));
}

Test(static, accept_encoding)
{
    cr_assert(gz_ok("gzip"));
    cr_assert(gz_ok("gzip, deflate, br, zstd"));
    cr_assert(gz_ok("br;q=1.0, GZIP;q=0.5"));
    cr_assert(gz_ok("x-gzip"));
    cr_assert(gz_ok("*"));
    cr_assert(gz_ok("identity, *;q=0.1"));
    cr_assert(gz_ok("gzip;q=0.001"));
    cr_assert(gz_ok(" gzip ; q=1 "));
    cr_assert_not(gz_ok(""));
    cr_assert_not(gz_ok("identity"));
    cr_assert_not(gz_ok("br, deflate"));
    cr_assert_not(gz_ok("gzip;q=0"));
    cr_assert_not(gz_ok("gzip;q=0.000"));
    cr_assert_not(gz_ok("gzip;q=0, *"), "an explicit q=0 wins over *");
    cr_assert_not(gz_ok("*;q=0"));
    cr_assert_not(gz_ok("gzipx, xgzip"));
}

static void roundtrip(const char *in, size_t len)
{
    char *gz = NULL;
    size_t gz_len = 0;
    cr_assert_eq(net__gzip(in, len, &gz, &gz_len), 0);
    cr_assert(gz_len >= 18, "a gzip member has a header and a trailer");
    cr_assert_eq((unsigned char)gz[0], 0x1f);
    cr_assert_eq((unsigned char)gz[1], 0x8b);

    z_stream z;
    memset(&z, 0, sizeof(z));
    cr_assert_eq(inflateInit2(&z, 15 + 16), Z_OK);
    char *out = malloc(len + 1);
    cr_assert_not_null(out);
    z.next_in = (Bytef *)gz;
    z.avail_in = (uInt)gz_len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)len + 1;
    cr_assert_eq(inflate(&z, Z_FINISH), Z_STREAM_END);
    cr_assert_eq(z.total_out, len);
    cr_assert_eq(memcmp(out, in, len), 0);
    inflateEnd(&z);
    free(out);
    free(gz);
}

Test(static, gzip_roundtrip)
{
    roundtrip("", 0);
    roundtrip("a", 1);
    size_t n = 200000;
    char *big = malloc(n);
    cr_assert_not_null(big);
    for (size_t i = 0; i < n; i++)
        big[i] = "duet says hi; "[i % 14];
    roundtrip(big, n);
    /* Incompressible bytes still round-trip. */
    unsigned x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        big[i] = (char)(x >> 16);
    }
    roundtrip(big, n);
    free(big);
}

/* The version token of index.html: every @V@ replaced, nothing else. */
Test(static, version_substitution)
{
    const char *page = "<a href=\"v/@V@/x.js\">@V@@V@ @V</a>";
    char *out = NULL;
    size_t len = 0;
    cr_assert_eq(static_ver_subst(page, strlen(page), "0123456789abcdef", &out, &len), 0);
    cr_assert_str_eq(out, "<a href=\"v/0123456789abcdef/x.js\">0123456789abcdef0123456789abcdef @V</a>");
    cr_assert_eq(len, strlen(out));
    free(out);
    cr_assert_eq(static_ver_subst("", 0, "0123456789abcdef", &out, &len), 0);
    cr_assert_eq(len, 0);
    free(out);
}
