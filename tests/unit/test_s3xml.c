/* test_s3xml.c - src/s3/s3_xml.c on the answers S3 and S3Proxy send, and
 * on broken ones. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "../../src/s3/s3_xml.h"

static int find(const char *xml, const char *tag, char *out, size_t cap)
{
    return s3_xml_text(xml, strlen(xml), tag, out, cap);
}

Test(s3xml, initiate_multipart_upload_result)
{
    const char *x =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<Bucket>b</Bucket><Key>media/x</Key>"
        "<UploadId>VXBsb2FkIElE-_.~</UploadId></InitiateMultipartUploadResult>";
    char out[128];
    cr_assert_eq(find(x, "UploadId", out, sizeof(out)), 16);
    cr_assert_str_eq(out, "VXBsb2FkIElE-_.~");
    cr_assert_eq(find(x, "Key", out, sizeof(out)), 7);
    cr_assert_str_eq(out, "media/x");
    /* The root has children: it is not a text element. */
    cr_assert_eq(find(x, "InitiateMultipartUploadResult", out, sizeof(out)), -EINVAL);
}

Test(s3xml, entities_and_etags)
{
    char out[64];
    cr_assert_eq(find("<ETag>&quot;abc&quot;</ETag>", "ETag", out, sizeof(out)), 5);
    cr_assert_str_eq(out, "\"abc\"");
    cr_assert_eq(find("<ETag>&#34;a&#x22;&amp;&lt;&gt;&apos;</ETag>", "ETag", out, sizeof(out)), 7);
    cr_assert_str_eq(out, "\"a\"&<>'");
    cr_assert_eq(find("<ETag>&bogus;</ETag>", "ETag", out, sizeof(out)), -EINVAL);
    cr_assert_eq(find("<ETag>&#0;</ETag>", "ETag", out, sizeof(out)), -EINVAL);
    cr_assert_eq(find("<ETag>&#300;</ETag>", "ETag", out, sizeof(out)), -EINVAL);
    cr_assert_eq(find("<ETag>&amp</ETag>", "ETag", out, sizeof(out)), -EINVAL);
}

Test(s3xml, error_document)
{
    const char *x = "<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we "
                    "calculated does not match</Message><RequestId>4442587FB7D0A2F9</RequestId>"
                    "</Error>";
    char out[64];
    cr_assert_gt(find(x, "Code", out, sizeof(out)), 0);
    cr_assert_str_eq(out, "SignatureDoesNotMatch");
    cr_assert_eq(find(x, "Message", out, 10), -ENOSPC);
    cr_assert_str_eq(out, "");
    cr_assert_eq(find(x, "Resource", out, sizeof(out)), -ENOENT);
}

Test(s3xml, names_match_whole)
{
    char out[64];
    /* <Keys> is not <Key>; attributes and empty elements. */
    cr_assert_eq(find("<Keys>no</Keys><Key a=\"1\">yes</Key>", "Key", out, sizeof(out)), 3);
    cr_assert_str_eq(out, "yes");
    cr_assert_eq(find("<Key/><Key>x</Key>", "Key", out, sizeof(out)), 0);
    cr_assert_str_eq(out, "");
}

Test(s3xml, broken_input)
{
    char out[64];
    cr_assert_eq(find("<Key>abc", "Key", out, sizeof(out)), -EINVAL);
    cr_assert_eq(find("<Key>abc</Ke", "Key", out, sizeof(out)), -EINVAL);
    cr_assert_eq(find("<Key", "Key", out, sizeof(out)), -ENOENT);
    cr_assert_eq(find("<Key ", "Key", out, sizeof(out)), -EINVAL);
    cr_assert_eq(find("", "Key", out, sizeof(out)), -ENOENT);
    cr_assert_eq(find("<Key>a</Key>", "", out, sizeof(out)), -EINVAL);
    cr_assert_eq(find("<Key>a</Key>", "K>", out, sizeof(out)), -EINVAL);
    cr_assert_eq(find("<Key>a</Key>", "Key", out, 0), -EINVAL);
    cr_assert_eq(s3_xml_text("<Key>a\0b</Key>", 13, "Key", out, sizeof(out)), -EINVAL);
    /* Not NUL-terminated input: the length is what counts. */
    cr_assert_eq(s3_xml_text("<Key>ab</Key>", 8, "Key", out, sizeof(out)), -EINVAL);
}
