/* test_store_sqlite.c - the SQLite store: accounts, sessions, friends and
 * blocks (the request queue: test_store_sqlite_queue.c). */
#include "test_store_sqlite.h"

TestSuite(store_sqlite, .init = setup, .fini = teardown, .timeout = 30);

/* ---- accounts and sessions ---- */

Test(store_sqlite, user_create_and_get)
{
    store_req *r = op(STORE_USER_CREATE);
    r->in.username = "alice";
    r->in.pwhash = "h";
    cr_assert_eq(run(r), DUET_EEXISTS);
    cr_assert_null(r->out.user.username, "a failed request has no results");
    done(r);

    r = op(STORE_USER_CREATE);
    r->in.username = "dave";
    r->in.display_name = "Dave D";
    r->in.pwhash = "hash-d";
    r->in.now = T0 + 5;
    cr_assert_eq(run(r), 0);
    cr_assert_str_eq(r->out.user.display_name, "Dave D");
    cr_assert_eq(r->out.user.created_at, T0 + 5);
    cr_assert_eq(r->out.user.read_receipts, 1);
    cr_assert_null(r->out.user.pwhash);
    duet_id dave = r->out.user.id;
    done(r);

    r = op(STORE_USER_GET_BY_NAME);
    r->in.username = "dave";
    cr_assert_eq(run(r), 0);
    cr_assert(duet_id_eq(&r->out.user.id, &dave));
    cr_assert_str_eq(r->out.user.pwhash, "hash-d");
    done(r);

    r = op(STORE_USER_GET);
    r->in.user = E.alice;
    cr_assert_eq(run(r), 0);
    cr_assert_str_eq(r->out.user.username, "alice");
    cr_assert_str_eq(r->out.user.display_name, "alice", "defaults to the username");
    cr_assert_null(r->out.user.pwhash);
    done(r);

    r = op(STORE_USER_GET);
    duet_id_random(&r->in.user);
    cr_assert_eq(run(r), DUET_ENOTFOUND);
    done(r);
    r = op(STORE_USER_GET_BY_NAME);
    r->in.username = "nobody";
    cr_assert_eq(run(r), DUET_ENOTFOUND);
    done(r);
}

Test(store_sqlite, user_update_and_last_seen)
{
    store_req *r = op(STORE_USER_UPDATE);
    r->in.user = E.alice;
    r->in.display_name = "Alice A";
    r->in.lastseen_vis = LASTSEEN_NOBODY;
    r->in.read_receipts = -1;
    cr_assert_eq(run(r), 0);
    cr_assert_str_eq(r->out.user.display_name, "Alice A");
    cr_assert_eq(r->out.user.lastseen_vis, LASTSEEN_NOBODY);
    cr_assert_eq(r->out.user.read_receipts, 1);
    done(r);

    r = op(STORE_USER_UPDATE);
    r->in.user = E.alice;
    r->in.lastseen_vis = -1;
    r->in.read_receipts = 0;
    cr_assert_eq(run(r), 0);
    cr_assert_str_eq(r->out.user.display_name, "Alice A");
    cr_assert_eq(r->out.user.lastseen_vis, LASTSEEN_NOBODY);
    cr_assert_eq(r->out.user.read_receipts, 0);
    done(r);

    r = op(STORE_USER_SET_LAST_SEEN);
    r->in.user = E.alice;
    r->in.now = T0 + 99;
    cr_assert_eq(run(r), 0);
    done(r);
    r = op(STORE_USER_GET);
    r->in.user = E.alice;
    cr_assert_eq(run(r), 0);
    cr_assert_eq(r->out.user.last_seen, T0 + 99);
    done(r);
}

static int session_get(const uint8_t *tok, int64_t now, int64_t idle_ms, duet_id *user)
{
    store_req *r = op(STORE_SESSION_GET);
    memcpy(r->in.token_hash, tok, 32);
    r->in.now = now;
    r->in.idle_ms = idle_ms;
    int rc = run(r);
    if (rc == 0 && user != NULL)
        *user = r->out.user.id;
    done(r);
    return rc;
}

static void session_create(duet_id user, const uint8_t *tok, int64_t now)
{
    store_req *r = op(STORE_SESSION_CREATE);
    r->in.user = user;
    memcpy(r->in.token_hash, tok, 32);
    r->in.now = now;
    cr_assert_eq(run(r), 0);
    done(r);
}

Test(store_sqlite, sessions)
{
    uint8_t t1[32], t2[32], t3[32];
    memset(t1, 1, 32);
    memset(t2, 2, 32);
    memset(t3, 3, 32);
    duet_id u;
    session_create(E.alice, t1, T0);
    session_create(E.alice, t2, T0);
    session_create(E.bob, t3, T0);
    cr_assert_eq(session_get(t1, T0 + 1000, 10 * MINUTE, &u), 0);
    cr_assert(duet_id_eq(&u, &E.alice));

    /* Refreshed after a minute, so the idle limit counts from then. */
    cr_assert_eq(session_get(t1, T0 + 8 * MINUTE, 10 * MINUTE, NULL), 0);
    cr_assert_eq(session_get(t1, T0 + 16 * MINUTE, 10 * MINUTE, NULL), 0);
    /* Idle too long: deleted, and stays deleted with a larger limit. */
    cr_assert_eq(session_get(t3, T0 + 11 * MINUTE, 10 * MINUTE, NULL), DUET_ENOTFOUND);
    cr_assert_eq(session_get(t3, T0 + 11 * MINUTE, 100 * MINUTE, NULL), DUET_ENOTFOUND);

    /* A password change keeps only the given session. */
    store_req *r = op(STORE_USER_SET_PASSWORD);
    r->in.user = E.alice;
    r->in.pwhash = "new";
    memcpy(r->in.token_hash, t1, 32);
    cr_assert_eq(run(r), 0);
    done(r);
    cr_assert_eq(session_get(t1, T0 + 16 * MINUTE, 10 * MINUTE, NULL), 0);
    cr_assert_eq(session_get(t2, T0 + 16 * MINUTE, 10 * MINUTE, NULL), DUET_ENOTFOUND);

    r = op(STORE_SESSION_DELETE);
    memcpy(r->in.token_hash, t1, 32);
    cr_assert_eq(run(r), 0);
    done(r);
    cr_assert_eq(session_get(t1, T0 + 16 * MINUTE, 10 * MINUTE, NULL), DUET_ENOTFOUND);
}

/* ---- friends and blocks ---- */

Test(store_sqlite, friend_request_flow)
{
    cr_assert_eq(friend_op(STORE_FRIEND_REQUEST, E.alice, "nobody", T0), DUET_ENOTFOUND);
    cr_assert_eq(friend_op(STORE_FRIEND_REQUEST, E.alice, "alice", T0), DUET_ESELF);
    cr_assert_eq(friend_op(STORE_FRIEND_REQUEST, E.alice, "bob", T0), DUET_EALREADY);

    store_req *r = op(STORE_FRIEND_REQUEST);
    r->in.user = E.alice;
    r->in.name = "carol";
    r->in.now = T0 + 10;
    cr_assert_eq(run(r), 0);
    cr_assert_eq(r->out.friend_result, FRIEND_REQUESTED);
    cr_assert(duet_id_eq(&r->out.peer.id, &E.carol));
    done(r);
    cr_assert_eq(friend_op(STORE_FRIEND_REQUEST, E.alice, "carol", T0 + 11), 0, "idempotent");

    r = op(STORE_REQUESTS_LIST);
    r->in.user = E.carol;
    cr_assert_eq(run(r), 0);
    cr_assert_eq(r->out.n_reqs_in, 1);
    cr_assert_eq(r->out.n_reqs_out, 0);
    cr_assert_str_eq(r->out.reqs_in[0].user.username, "alice");
    cr_assert_eq(r->out.reqs_in[0].created_at, T0 + 10);
    done(r);

    cr_assert_eq(friend_op(STORE_FRIEND_DECLINE, E.carol, "alice", T0), 0);
    cr_assert_eq(friend_op(STORE_FRIEND_DECLINE, E.carol, "alice", T0), DUET_ENOTFOUND);
    cr_assert_eq(friend_op(STORE_FRIEND_ACCEPT, E.carol, "alice", T0), DUET_ENOTFOUND);
    cr_assert_eq(friend_op(STORE_FRIEND_REQUEST, E.alice, "carol", T0), 0);
    cr_assert_eq(friend_op(STORE_FRIEND_CANCEL, E.alice, "carol", T0), 0);
    cr_assert_eq(friend_op(STORE_FRIEND_CANCEL, E.alice, "carol", T0), DUET_ENOTFOUND);

    cr_assert_eq(friend_op(STORE_FRIEND_REQUEST, E.carol, "alice", T0 + 20), 0);
    r = op(STORE_FRIEND_ACCEPT);
    r->in.user = E.alice;
    r->in.name = "carol";
    r->in.now = T0 + 30;
    cr_assert_eq(run(r), 0);
    duet_id want;
    duet_chat_id(&E.carol, &E.alice, &want);
    cr_assert(duet_id_eq(&r->out.chat_id, &want));
    done(r);

    r = chats(E.alice);
    cr_assert_eq(r->out.n_chats, 2);
    cr_assert_str_eq(r->out.chats[0].peer.username, "carol", "newest activity first");
    cr_assert_eq(r->out.chats[0].last_activity, T0 + 30);
    cr_assert_eq(r->out.chats[0].has_last, 0);
    done(r);
}

Test(store_sqlite, crossing_requests)
{
    cr_assert_eq(friend_op(STORE_FRIEND_REQUEST, E.carol, "alice", T0), 0);
    store_req *r = op(STORE_FRIEND_REQUEST);
    r->in.user = E.alice;
    r->in.name = "carol";
    r->in.now = T0 + 5;
    cr_assert_eq(run(r), 0);
    cr_assert_eq(r->out.friend_result, FRIEND_ACCEPTED);
    duet_id want;
    duet_chat_id(&E.alice, &E.carol, &want);
    cr_assert(duet_id_eq(&r->out.chat_id, &want));
    done(r);
    r = op(STORE_REQUESTS_LIST);
    r->in.user = E.alice;
    cr_assert_eq(run(r), 0);
    cr_assert_eq(r->out.n_reqs_in + r->out.n_reqs_out, 0);
    done(r);
    cr_assert_eq(send_msg(E.carol, want, "m1", "hi", T0 + 6, NULL), 0);
}

Test(store_sqlite, remove_keeps_history)
{
    int64_t seq;
    cr_assert_eq(send_msg(E.alice, E.ab, "m1", "hello", T0 + 10, &seq), 0);
    store_req *r = op(STORE_FRIEND_REMOVE);
    r->in.user = E.bob;
    r->in.name = "alice";
    cr_assert_eq(run(r), 0);
    cr_assert(duet_id_eq(&r->out.chat_id, &E.ab));
    done(r);
    cr_assert_eq(friend_op(STORE_FRIEND_REMOVE, E.bob, "alice", T0), DUET_ENOTFOUND,
                 "not friends answers as no such user");
    cr_assert_eq(friend_op(STORE_FRIEND_REMOVE, E.bob, "carol", T0), DUET_ENOTFOUND);

    cr_assert_eq(send_msg(E.alice, E.ab, "m2", "there?", T0 + 11, NULL), DUET_ENOTFRIENDS);
    r = chats(E.alice);
    cr_assert_eq(r->out.n_chats, 1, "a former friend's chat stays listed");
    cr_assert_eq(r->out.chats[0].friends, 0);
    done(r);
    r = history(E.bob, E.ab, 0, -1, 50);
    cr_assert_eq(r->out.n_msgs, 1, "former friends keep their history");
    done(r);

    cr_assert_eq(friend_op(STORE_FRIEND_REQUEST, E.bob, "alice", T0 + 20), 0);
    cr_assert_eq(friend_op(STORE_FRIEND_ACCEPT, E.alice, "bob", T0 + 21), 0);
    cr_assert_eq(send_msg(E.alice, E.ab, "m2", "back", T0 + 22, &seq), 0);
    cr_assert_eq(seq, 2, "re-friending reuses the chat");
}

Test(store_sqlite, blocks)
{
    cr_assert_eq(friend_op(STORE_FRIEND_REQUEST, E.carol, "alice", T0), 0);
    cr_assert_eq(friend_op(STORE_BLOCK, E.alice, "alice", T0), DUET_ESELF);
    cr_assert_eq(friend_op(STORE_BLOCK, E.alice, "nobody", T0), DUET_ENOTFOUND);
    cr_assert_eq(friend_op(STORE_BLOCK, E.alice, "carol", T0 + 1), 0);
    cr_assert_eq(friend_op(STORE_BLOCK, E.alice, "carol", T0 + 2), 0, "idempotent");
    cr_assert_eq(friend_op(STORE_FRIEND_ACCEPT, E.alice, "carol", T0), DUET_ENOTFOUND,
                 "the block withdrew the request");
    /* A request to the blocker is stored, hidden from them (not revealed). */
    store_req *q = op(STORE_FRIEND_REQUEST);
    q->in.user = E.carol;
    q->in.name = "alice";
    cr_assert_eq(run(q), 0);
    cr_assert_eq(q->out.friend_result, FRIEND_REQUESTED);
    cr_assert_eq(q->out.hidden, 1);
    done(q);
    q = op(STORE_REQUESTS_LIST);
    q->in.user = E.alice;
    cr_assert_eq(run(q), 0);
    cr_assert_eq(q->out.n_reqs_in, 0, "the blocker does not see it");
    done(q);
    cr_assert_eq(friend_op(STORE_FRIEND_REQUEST, E.alice, "carol", T0), DUET_EBLOCKED);

    /* Blocking a friend suspends messaging and presence, keeps the friendship;
     * the blocked one's message is stored withheld. */
    cr_assert_eq(friend_op(STORE_BLOCK, E.bob, "alice", T0 + 3), 0);
    int64_t wseq = 0;
    cr_assert_eq(send_msg(E.alice, E.ab, "m1", "hi", T0 + 4, &wseq), 0);
    cr_assert_eq(wseq, 1);
    cr_assert_eq(send_msg(E.bob, E.ab, "m2", "hi", T0 + 4, NULL), DUET_EBLOCKED);
    store_req *r = op(STORE_CHAT_PEER);
    r->in.user = E.alice;
    r->in.chat_id = E.ab;
    cr_assert_eq(run(r), DUET_EBLOCKED);
    done(r);
    r = op(STORE_PRESENCE_PEERS);
    r->in.user = E.alice;
    cr_assert_eq(run(r), 0);
    cr_assert_eq(r->out.n_users, 0);
    done(r);
    r = chats(E.alice);
    cr_assert_eq(r->out.n_chats, 1);
    cr_assert_eq(r->out.chats[0].blocked_me, 1);
    cr_assert_eq(r->out.chats[0].blocked_by_me, 0);
    cr_assert_eq(r->out.chats[0].has_last, 1, "the sender sees the withheld message");
    done(r);
    r = chats(E.bob);
    cr_assert_eq(r->out.chats[0].has_last, 0, "not the blocker's last message");
    cr_assert_eq(r->out.chats[0].unread, 0);
    done(r);
    r = history(E.bob, E.ab, 0, -1, 50);
    cr_assert_eq(r->out.n_msgs, 1);
    cr_assert_eq(r->out.msgs[0].withheld, 1);
    cr_assert_str_eq(r->out.msgs[0].message, "");
    done(r);
    r = op(STORE_BLOCKS_LIST);
    r->in.user = E.alice;
    cr_assert_eq(run(r), 0);
    cr_assert_eq(r->out.n_users, 1);
    cr_assert_str_eq(r->out.users[0].username, "carol");
    done(r);

    cr_assert_eq(friend_op(STORE_UNBLOCK, E.bob, "alice", T0), 0);
    cr_assert_eq(friend_op(STORE_UNBLOCK, E.bob, "alice", T0), DUET_ENOTFOUND,
                 "nothing left to lift");
    cr_assert_eq(friend_op(STORE_UNBLOCK, E.bob, "nobody", T0), DUET_ENOTFOUND);
    cr_assert_eq(send_msg(E.alice, E.ab, "m3", "hi", T0 + 5, NULL), 0);
    r = history(E.bob, E.ab, 0, -1, 50);
    cr_assert_eq(r->out.n_msgs, 2);
    cr_assert_eq(r->out.msgs[0].withheld, 1, "withheld for good");
    cr_assert_eq(r->out.msgs[1].withheld, 0);
    done(r);
    r = op(STORE_PRESENCE_PEERS);
    r->in.user = E.alice;
    cr_assert_eq(run(r), 0);
    cr_assert_eq(r->out.n_users, 1);
    cr_assert_str_eq(r->out.users[0].username, "bob");
    done(r);
}

Test(store_sqlite, chat_peer)
{
    store_req *r = op(STORE_CHAT_PEER);
    r->in.user = E.alice;
    r->in.chat_id = E.ab;
    cr_assert_eq(run(r), 0);
    cr_assert(duet_id_eq(&r->out.peer.id, &E.bob));
    cr_assert(duet_id_eq(&r->out.chat_id, &E.ab));
    done(r);
    r = op(STORE_CHAT_PEER);
    r->in.user = E.carol;
    r->in.chat_id = E.ab;
    cr_assert_eq(run(r), DUET_EFORBIDDEN);
    done(r);
    r = op(STORE_CHAT_PEER);
    r->in.user = E.alice;
    duet_id_random(&r->in.chat_id);
    cr_assert_eq(run(r), DUET_EFORBIDDEN);
    done(r);
    cr_assert_eq(friend_op(STORE_FRIEND_REMOVE, E.alice, "bob", T0), 0);
    r = op(STORE_CHAT_PEER);
    r->in.user = E.alice;
    r->in.chat_id = E.ab;
    cr_assert_eq(run(r), DUET_ENOTFRIENDS);
    done(r);
}
