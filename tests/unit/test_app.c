/* Unit tests of the pure parts of src/app: tokens and the command line. */
#include <criterion/criterion.h>
#include <errno.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
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

/* An address over its limit is refused whatever name it tries, and the
 * names it tried leave no counters behind: one client cannot grow the map
 * by a counter per refused request. */
Test(app_auth, refused_address_makes_no_user_counters)
{
    uv_loop_t loop;
    struct auth a;
    cr_assert_eq(uv_loop_init(&loop), 0);
    cr_assert_eq(auth_init(&a, &loop, 1, 8192, 1, 16, 900, 5, 3), 0);
    char name[32];
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof(name), "user%d", i);
        cr_assert_eq(auth_login_begin(&a, name, "10.0.0.1", 1000), 0);
    }
    for (int i = 3; i < 1000; i++) {
        snprintf(name, sizeof(name), "user%d", i);
        cr_assert_gt(auth_login_begin(&a, name, "10.0.0.1", 1000), 0);
    }
    cr_assert_eq(a.by_user.count, 3);
    cr_assert_eq(a.by_addr.count, 1);
    /* a name over its own limit is still refused from another address */
    for (int i = 0; i < 5; i++)
        (void)auth_login_begin(&a, "target", i < 3 ? "10.0.0.2" : "10.0.0.3", 1000);
    cr_assert_gt(auth_login_begin(&a, "target", "10.0.0.4", 1000), 0);
    auth_close(&a);
    cr_assert_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
    auth_free(&a);
    cr_assert_eq(uv_loop_close(&loop), 0);
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
