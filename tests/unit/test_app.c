/* Unit tests of the pure parts of src/app: tokens and the command line. */
#include <criterion/criterion.h>
#include <errno.h>
#include <sodium.h>
#include <stdint.h>
#include <string.h>

#include "../../src/app/auth.h"
#include "../../src/app/config.h"

static void init_sodium(void)
{
    cr_assert(sodium_init() >= 0);
}

TestSuite(app_auth, .init = init_sodium);

Test(app_auth, tokens_hash_and_validate)
{
    char tok[AUTH_TOKEN_LEN + 1];
    uint8_t h1[32], h2[32];
    auth_token_new(tok, h1);
    cr_assert_eq(strlen(tok), AUTH_TOKEN_LEN);
    cr_assert_eq(auth_token_hash(tok, AUTH_TOKEN_LEN, h2), 0);
    cr_assert_eq(memcmp(h1, h2, 32), 0);
    cr_assert_eq(auth_token_hash(tok, AUTH_TOKEN_LEN - 1, h2), -EINVAL);
    tok[3] = '=';
    cr_assert_eq(auth_token_hash(tok, AUTH_TOKEN_LEN, h2), -EINVAL);
}

TestSuite(app_config);

Test(app_config, defaults_argv_and_errors)
{
    struct config c;
    char *argv1[] = {"duetd", "--listen", "127.0.0.1:0", "--instance=x7", "--secure-cookies", NULL};
    cr_assert_eq(config_load(&c, 5, argv1), 0);
    cr_assert_str_eq(c.host, "127.0.0.1");
    cr_assert_eq(c.port, 0);
    cr_assert_str_eq(c.instance, "x7");
    cr_assert_eq(c.secure_cookies, 1);
    cr_assert_eq(c.max_message_chars, 4000);
    cr_assert_eq(c.session_idle_s, 2592000);
    config_free(&c);

    char *argv2[] = {"duetd", "--max-message-chars", "zero", NULL};
    cr_assert_eq(config_load(&c, 3, argv2), -EINVAL);
    config_free(&c);
    char *argv3[] = {"duetd", "--nope", NULL};
    cr_assert_eq(config_load(&c, 2, argv3), -EINVAL);
    config_free(&c);
    char *argv4[] = {"duetd", "--listen", "nohost", NULL};
    cr_assert_eq(config_load(&c, 3, argv4), -EINVAL);
    config_free(&c);
}
