/* test_blob.c - the blob store's key rules (blob.h): only 32 lowercase hex
 * digits name a blob, so a key can never leave <data>/media/. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "../../src/blob/blob.h"

Test(blob, keys_are_32_lowercase_hex)
{
    cr_assert(blob_key_ok("0123456789abcdef0123456789abcdef"));
    cr_assert_not(blob_key_ok("0123456789ABCDEF0123456789abcdef"));
    cr_assert_not(blob_key_ok("../../../../etc/passwd/aaaaaaaaa"));
    cr_assert_not(blob_key_ok("0123456789abcdef0123456789abcde"));
    cr_assert_not(blob_key_ok("0123456789abcdef0123456789abcdef0"));
    cr_assert_not(blob_key_ok(""));
    cr_assert_not(blob_key_ok(NULL));
}

Test(blob, key_path_fans_out_by_the_first_two_digits)
{
    char out[128];
    cr_assert_eq(blob_key_path("/d/media", "ab23456789abcdef0123456789abcdef", out, sizeof(out)),
                 0);
    cr_assert_str_eq(out, "/d/media/ab/ab23456789abcdef0123456789abcdef");
    cr_assert_eq(blob_key_path("/d/media", "../x", out, sizeof(out)), -EINVAL);
    cr_assert_eq(blob_key_path("/d/media", "ab23456789abcdef0123456789abcdef", out, 20),
                 -ENAMETOOLONG);
}
