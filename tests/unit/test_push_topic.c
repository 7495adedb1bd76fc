/* test_push_topic.c - the Topic token (src/push/push_topic.c): 32
 * base64url characters, the same for one key and chat, different for
 * another chat or key, and not the chat id in any readable form. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "../../src/push/push.h"

TestSuite(push_topic);

static push_vapid *key_of(uint8_t fill)
{
    uint8_t priv[PUSH_PRIV_LEN];
    memset(priv, fill, sizeof(priv));
    push_vapid *v = NULL;
    cr_assert_eq(push_vapid_from_priv(priv, &v), 0);
    return v;
}

Test(push_topic, stable_per_key_and_chat)
{
    push_vapid *a = key_of(0x11), *b = key_of(0x22);
    uint8_t chat1[16], chat2[16];
    memset(chat1, 1, sizeof(chat1));
    memset(chat2, 2, sizeof(chat2));
    char t1[PUSH_TOPIC_SIZE], t1b[PUSH_TOPIC_SIZE], t2[PUSH_TOPIC_SIZE], o1[PUSH_TOPIC_SIZE];
    cr_assert_eq(push_topic(a, chat1, 16, t1), 0);
    cr_assert_eq(push_topic(a, chat1, 16, t1b), 0);
    cr_assert_eq(push_topic(a, chat2, 16, t2), 0);
    cr_assert_eq(push_topic(b, chat1, 16, o1), 0);
    cr_assert_eq(strlen(t1), 32, "RFC 8030: at most 32 characters");
    cr_assert_eq(strspn(t1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                 32);
    cr_assert_str_eq(t1, t1b, "one chat, one topic");
    cr_assert_str_neq(t1, t2, "two chats, two topics");
    cr_assert_str_neq(t1, o1, "another key (another deployment), another topic");
    cr_assert_eq(push_topic(NULL, chat1, 16, t1), -EINVAL);
    push_vapid_free(a);
    push_vapid_free(b);
}
