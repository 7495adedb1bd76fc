/* sqlite_friends.c - friend requests, friendships, blocks and the chat list. */
#include "sqlite_int.h"

#include <errno.h>
#include <string.h>

/* The other member of a chat row, for a query whose ?1 is the user. */
#define SQ_PEER_OF "iif(c.user_a = ?1, c.user_b, c.user_a)"

const char *const sq_friends_sql[SQ_STMT_COUNT] = {
    [SQ_CHAT_GET] = "SELECT user_a, user_b, friends, since, last_seq, last_activity,"
                    " a_read_seq, b_read_seq FROM chats WHERE chat_id = ?1",
    /* Re-friending reuses the row and its history. */
    [SQ_CHAT_BEFRIEND] = "INSERT INTO chats (chat_id, user_a, user_b, friends, since,"
                         " last_seq, last_activity, a_read_seq, b_read_seq)"
                         " VALUES (?1, ?2, ?3, 1, ?4, 0, ?4, 0, 0)"
                         " ON CONFLICT (chat_id) DO UPDATE SET friends = 1,"
                         " since = excluded.since,"
                         " last_activity = iif(last_seq = 0, excluded.since, last_activity)",
    [SQ_CHAT_UNFRIEND] = "UPDATE chats SET friends = 0 WHERE chat_id = ?1 AND friends = 1",
    /* Two key lookups: an OR of the two directions runs through a
     * temporary b-tree (EXPLAIN: OpenEphemeral), as an IN list does
     * (round 7). */
    [SQ_BLOCKED_EITHER] = "SELECT 1 WHERE EXISTS (SELECT 1 FROM blocks WHERE blocker = ?1"
                          " AND blocked = ?2) OR EXISTS (SELECT 1 FROM blocks"
                          " WHERE blocker = ?2 AND blocked = ?1)",
    [SQ_BLOCKS_ME] = "SELECT 1 FROM blocks WHERE blocker = ?1 AND blocked = ?2",
    /* The count of `user_id IN (?1, ?2) AND read_receipts = 1`: ?2 counts
     * only when it is not ?1, as in the list. */
    [SQ_RECEIPTS_BOTH] = "SELECT (SELECT count(*) FROM users WHERE user_id = ?1"
                         " AND read_receipts = 1) + (SELECT count(*) FROM users"
                         " WHERE user_id = ?2 AND read_receipts = 1 AND ?2 <> ?1)",
    [SQ_REQ_INSERT] = "INSERT OR IGNORE INTO friend_requests (from_id, to_id, created_at)"
                      " VALUES (?1, ?2, ?3)",
    [SQ_REQ_DELETE] = "DELETE FROM friend_requests WHERE from_id = ?1 AND to_id = ?2",
    [SQ_REQ_SENT_LOG] = "INSERT INTO friend_requests_sent (from_id, created_at) VALUES (?1, ?2)",
    [SQ_REQ_SENT_PRUNE] =
        "DELETE FROM friend_requests_sent WHERE from_id = ?1 AND created_at <= ?2",
    /* Stops at the ceiling: the cost is bounded by it, not by history. */
    [SQ_REQ_SENT_COUNT] = "SELECT count(*) FROM (SELECT 1 FROM friend_requests_sent"
                          " WHERE from_id = ?1 AND created_at > ?2 LIMIT ?3)",
    [SQ_BLOCK_INSERT] = "INSERT OR IGNORE INTO blocks (blocker, blocked, created_at)"
                        " VALUES (?1, ?2, ?3)",
    [SQ_BLOCK_DELETE] = "DELETE FROM blocks WHERE blocker = ?1 AND blocked = ?2",
    /* A request from someone the user blocks waits unseen (store.h). */
    [SQ_REQS_IN] = "SELECT r.created_at, " SQ_USER_COLS(
        "u.") " FROM friend_requests r"
              " JOIN users u ON u.user_id = r.from_id WHERE r.to_id = ?1"
              " AND NOT EXISTS (SELECT 1 FROM blocks WHERE blocker = ?1 AND blocked = r.from_id)"
              " ORDER BY r.created_at, u.username",
    [SQ_REQS_OUT] = "SELECT r.created_at, " SQ_USER_COLS(
        "u.") " FROM friend_requests r"
              " JOIN users u ON u.user_id = r.to_id WHERE r.from_id = ?1"
              " ORDER BY r.created_at, u.username",
    [SQ_BLOCKS_LIST] =
        "SELECT " SQ_USER_COLS("u.") " FROM blocks b"
                                     " JOIN users u ON u.user_id = b.blocked WHERE b.blocker = ?1"
                                     " ORDER BY b.created_at, u.username",
    [SQ_CHATS_LIST] = "SELECT c.chat_id, c.last_seq, c.last_activity,"
                      " iif(c.user_a = ?1, c.a_read_seq, c.b_read_seq),"
                      /* peer_read_seq: the peer's reported seen position, not
                       * its read position (reads made with receipts off stay
                       * unreported). */
                      " iif(c.user_a = ?1, c.b_seen_seq, c.a_seen_seq),"
                      " EXISTS (SELECT 1 FROM blocks WHERE blocker = ?1 AND blocked = u.user_id),"
                      " EXISTS (SELECT 1 FROM blocks WHERE blocker = u.user_id AND blocked = ?1),"
                      " u.read_receipts AND (SELECT read_receipts FROM users WHERE user_id = ?1),"
                      " c.friends,"
                      " " SQ_USER_COLS("u.") " FROM chats c"
                                             " JOIN users u ON u.user_id = " SQ_PEER_OF
                                             " WHERE (c.user_a = ?1 OR c.user_b = ?1)"
                                             " ORDER BY c.last_activity DESC, c.chat_id",
    /* Messages withheld from the user (?2) are neither last nor unread. */
    [SQ_CHAT_LAST_MSG] = "SELECT " SQ_MSG_COLS("") " FROM messages WHERE chat_id = ?1"
                                                   " AND NOT (withheld = 1 AND receiver = ?2)"
                                                   /* not one the user hid (issue 17) */
                                                   " AND NOT EXISTS (SELECT 1 FROM hidden h"
                                                   " WHERE h.user_id = ?2 AND h.chat_id = ?1"
                                                   " AND h.sequence = messages.sequence)"
                                                   " ORDER BY sequence DESC LIMIT 1",
    /* Among the newest ?4 messages after the read position (STORE_UNREAD_MAX). */
    [SQ_CHAT_UNREAD] = "SELECT count(*) FROM (SELECT sequence, sender, deleted_at, withheld"
                       " FROM messages WHERE chat_id = ?1 AND sequence > ?2"
                       " ORDER BY sequence DESC LIMIT ?4) m"
                       " WHERE m.sender = ?3 AND m.deleted_at = 0 AND m.withheld = 0"
                       /* hidden by the reader (the member who is not ?3) */
                       " AND NOT EXISTS (SELECT 1 FROM hidden h WHERE h.chat_id = ?1"
                       " AND h.sequence = m.sequence AND h.user_id <> ?3)",
    [SQ_PRESENCE_PEERS] =
        "SELECT " SQ_USER_COLS("u.") " FROM chats c"
                                     " JOIN users u ON u.user_id = " SQ_PEER_OF
                                     " WHERE (c.user_a = ?1 OR c.user_b = ?1) AND c.friends = 1"
                                     " AND NOT EXISTS (SELECT 1 FROM blocks"
                                     " WHERE (blocker = ?1 AND blocked = u.user_id)"
                                     " OR (blocker = u.user_id AND blocked = ?1))"
                                     " ORDER BY u.username",
};

/* Column indexes of SQ_CHATS_LIST. */
enum {
    CL_ID,
    CL_LAST_SEQ,
    CL_ACTIVITY,
    CL_MY_READ,
    CL_PEER_READ,
    CL_BLOCKED_BY_ME,
    CL_BLOCKED_ME,
    CL_RECEIPTS,
    CL_FRIENDS,
    CL_PEER
};

int sq_chat_load(sq_store *s, const duet_id *id, const duet_id *user, struct sq_chat *c)
{
    duet_id a, b;
    sqlite3_stmt *st = sq_bind(s, SQ_CHAT_GET, "i", id);
    if (st == NULL)
        return DUET_ESTORE;
    int rc = sq_step(s, st);
    if (rc <= 0)
        return rc == 0 ? DUET_EFORBIDDEN : rc;
    memset(c, 0, sizeof(*c));
    c->id = *id;
    sq_col_id(st, 0, &a);
    sq_col_id(st, 1, &b);
    c->friends = sqlite3_column_int(st, 2);
    c->since = sqlite3_column_int64(st, 3);
    c->last_seq = sqlite3_column_int64(st, 4);
    c->last_activity = sqlite3_column_int64(st, 5);
    c->me_is_a = duet_id_eq(&a, user);
    c->my_read_seq = sqlite3_column_int64(st, c->me_is_a ? 6 : 7);
    c->peer_read_seq = sqlite3_column_int64(st, c->me_is_a ? 7 : 6);
    c->peer = c->me_is_a ? b : a;
    sq_reset(st);
    if (!c->me_is_a && !duet_id_eq(&b, user))
        return DUET_EFORBIDDEN;
    return 0;
}

int sq_blocked(sq_store *s, const duet_id *a, const duet_id *b)
{
    int64_t v;
    return sq_get_int(s, &v, SQ_BLOCKED_EITHER, "ii", a, b);
}

int sq_blocks_me(sq_store *s, const duet_id *user, const duet_id *peer)
{
    int64_t v;
    return sq_get_int(s, &v, SQ_BLOCKS_ME, "ii", peer, user);
}

int sq_receipts_both(sq_store *s, const duet_id *a, const duet_id *b)
{
    int64_t n = 0;
    int rc = sq_get_int(s, &n, SQ_RECEIPTS_BOTH, "ii", a, b);
    return rc < 0 ? rc : n == 2;
}

/* Makes user and peer friends, creating their chat row if needed. */
static int sq_befriend(sq_store *s, const duet_id *user, const duet_id *peer, int64_t now,
                       duet_id *chat_id)
{
    int lo = duet_id_cmp(user, peer) < 0;
    duet_chat_id(user, peer, chat_id);
    int rc = sq_exec(s, SQ_CHAT_BEFRIEND, "iiil", chat_id, lo ? user : peer, lo ? peer : user, now);
    return rc < 0 ? rc : 0;
}

/* Resolves in.name into out.peer; ESELF when it names the user. */
static int sq_peer(sq_store *s, store_req *req)
{
    int rc = sq_user_by_name(s, &req->pool, req->in.name, &req->out.peer);
    if (rc == 0 && duet_id_eq(&req->out.peer.id, &req->in.user))
        return DUET_ESELF;
    return rc;
}

#define SQ_DAY_MS 86400000LL

/* The daily ceiling on new friend requests: ELIMIT when the user made max of
 * them in the last 24 h, else logs this one. Rows older than a day go first,
 * so a user's log holds at most about two days' worth of ceilings. max 0 =
 * no ceiling and no log. */
static int sq_request_quota(sq_store *s, const duet_id *me, int64_t now, int64_t max)
{
    if (max <= 0)
        return 0;
    int64_t n = 0;
    int rc = sq_exec(s, SQ_REQ_SENT_PRUNE, "il", me, now - SQ_DAY_MS);
    if (rc >= 0)
        rc = sq_get_int(s, &n, SQ_REQ_SENT_COUNT, "ill", me, now - SQ_DAY_MS, max);
    if (rc < 0)
        return rc;
    if (n >= max)
        return DUET_ELIMIT;
    rc = sq_exec(s, SQ_REQ_SENT_LOG, "il", me, now);
    return rc < 0 ? rc : 0;
}

int sq_friend_request(sq_store *s, store_req *req)
{
    const duet_id *me = &req->in.user, *peer = &req->out.peer.id;
    struct sq_chat c;
    duet_id chat_id;

    int rc = sq_peer(s, req);
    if (rc < 0)
        return rc;
    /* The user's own block refuses (even when the peer blocks too). */
    if ((rc = sq_blocks_me(s, peer, me)) != 0)
        return rc > 0 ? DUET_EBLOCKED : rc;
    if ((rc = sq_blocks_me(s, me, peer)) < 0)
        return rc;
    int blocked = rc;
    duet_chat_id(me, peer, &chat_id);
    rc = sq_chat_load(s, &chat_id, me, &c);
    if (rc == 0 && c.friends)
        return DUET_EALREADY;
    if (rc < 0 && rc != DUET_EFORBIDDEN)
        return rc;
    /* The peer blocks the user: answered and stored as any request, so the
     * block does not show; the peer sees it only once they unblock. */
    req->out.hidden = blocked;
    /* Their request to me crossed mine: that is a yes from both. */
    if ((rc = sq_exec(s, SQ_REQ_DELETE, "ii", peer, me)) < 0)
        return rc;
    if (rc > 0) {
        if ((rc = sq_exec(s, SQ_REQ_DELETE, "ii", me, peer)) < 0 ||
            (rc = sq_befriend(s, me, peer, req->in.now, &req->out.chat_id)) < 0)
            return rc;
        req->out.friend_result = FRIEND_ACCEPTED;
        return 0;
    }
    if ((rc = sq_exec(s, SQ_REQ_INSERT, "iil", me, peer, req->in.now)) < 0)
        return rc;
    /* A repeat of a standing request changes nothing and is not counted. */
    req->out.friend_result = rc > 0 ? FRIEND_REQUESTED : FRIEND_PENDING;
    if (rc > 0 && (rc = sq_request_quota(s, me, req->in.now, req->in.max_per_day)) < 0)
        return rc;
    return 0;
}

int sq_friend_accept(sq_store *s, store_req *req)
{
    const duet_id *me = &req->in.user, *peer = &req->out.peer.id;
    int rc = sq_peer(s, req);
    if (rc < 0)
        return rc == DUET_ESELF ? DUET_ENOTFOUND : rc;
    if ((rc = sq_exec(s, SQ_REQ_DELETE, "ii", peer, me)) <= 0)
        return rc == 0 ? DUET_ENOTFOUND : rc;
    if ((rc = sq_exec(s, SQ_REQ_DELETE, "ii", me, peer)) < 0)
        return rc;
    return sq_befriend(s, me, peer, req->in.now, &req->out.chat_id);
}

/* Deletes the request from -> to; ENOTFOUND if there was none. */
static int sq_request_drop(sq_store *s, store_req *req, int mine)
{
    const duet_id *me = &req->in.user, *peer = &req->out.peer.id;
    int rc = sq_peer(s, req);
    if (rc < 0)
        return rc == DUET_ESELF ? DUET_ENOTFOUND : rc;
    rc = sq_exec(s, SQ_REQ_DELETE, "ii", mine ? me : peer, mine ? peer : me);
    if (rc <= 0)
        return rc == 0 ? DUET_ENOTFOUND : rc;
    return 0;
}

int sq_friend_decline(sq_store *s, store_req *req)
{
    return sq_request_drop(s, req, 0);
}

int sq_friend_cancel(sq_store *s, store_req *req)
{
    return sq_request_drop(s, req, 1);
}

int sq_friend_remove(sq_store *s, store_req *req)
{
    int rc = sq_peer(s, req);
    if (rc < 0)
        return rc == DUET_ESELF ? DUET_ENOTFOUND : rc;
    duet_chat_id(&req->in.user, &req->out.peer.id, &req->out.chat_id);
    /* Not friends answers as a missing user does (no enumeration). */
    if ((rc = sq_exec(s, SQ_CHAT_UNFRIEND, "i", &req->out.chat_id)) <= 0)
        return rc == 0 ? DUET_ENOTFOUND : rc;
    return 0;
}

/* out.friends: whether the user and out.peer are friends. */
static int sq_friends_now(sq_store *s, store_req *req)
{
    struct sq_chat c;
    duet_id chat;
    duet_chat_id(&req->in.user, &req->out.peer.id, &chat);
    int rc = sq_chat_load(s, &chat, &req->in.user, &c);
    if (rc < 0 && rc != DUET_EFORBIDDEN)
        return rc;
    req->out.friends = rc == 0 && c.friends;
    return 0;
}

int sq_block(sq_store *s, store_req *req)
{
    const duet_id *me = &req->in.user, *peer = &req->out.peer.id;
    int rc = sq_peer(s, req);
    if (rc < 0)
        return rc;
    /* The friendship row stays: a block suspends it, unblocking restores. */
    int changes = 0;
    if ((rc = sq_friends_now(s, req)) < 0 ||
        (rc = sq_exec(s, SQ_BLOCK_INSERT, "iil", me, peer, req->in.now)) < 0)
        return rc;
    changes += rc;
    if ((rc = sq_exec(s, SQ_REQ_DELETE, "ii", me, peer)) < 0)
        return rc;
    changes += rc;
    if ((rc = sq_exec(s, SQ_REQ_DELETE, "ii", peer, me)) < 0)
        return rc;
    req->out.unchanged = changes + rc == 0;
    return 0;
}

int sq_unblock(sq_store *s, store_req *req)
{
    int rc = sq_user_by_name(s, &req->pool, req->in.name, &req->out.peer);
    if (rc < 0 || (rc = sq_friends_now(s, req)) < 0)
        return rc;
    rc = sq_exec(s, SQ_BLOCK_DELETE, "ii", &req->in.user, &req->out.peer.id);
    /* No block to lift: nothing changed, nobody is told. */
    if (rc == 0)
        return DUET_ENOTFOUND;
    if (rc > 0 && req->out.friends && (rc = sq_blocks_me(s, &req->in.user, &req->out.peer.id)) > 0)
        req->out.friends = 0; /* still blocked the other way */
    return rc < 0 ? rc : 0;
}

/* Reads every friend request row of st into a pool array. */
static int sq_read_reqs(sq_store *s, store_req *req, sqlite3_stmt *st, struct duet_friend_req **out,
                        size_t *n)
{
    size_t cap = 0;
    int rc;
    if (st == NULL)
        return DUET_ESTORE;
    while ((rc = sq_step(s, st)) == 1) {
        struct duet_friend_req *a = pool_grow(&req->pool, *out, *n, &cap, sizeof(**out));
        if (a == NULL || sq_read_user(&req->pool, st, 1, &a[*n].user) < 0) {
            sq_reset(st);
            return -ENOMEM;
        }
        a[*n].created_at = sqlite3_column_int64(st, 0);
        *out = a;
        (*n)++;
    }
    return rc;
}

int sq_requests_list(sq_store *s, store_req *req)
{
    const duet_id *me = &req->in.user;
    int rc = sq_read_reqs(s, req, sq_bind(s, SQ_REQS_IN, "i", me), &req->out.reqs_in,
                          &req->out.n_reqs_in);
    if (rc < 0)
        return rc;
    return sq_read_reqs(s, req, sq_bind(s, SQ_REQS_OUT, "i", me), &req->out.reqs_out,
                        &req->out.n_reqs_out);
}

/* Reads every user row of st into out.users. */
static int sq_read_users(sq_store *s, store_req *req, sqlite3_stmt *st)
{
    size_t cap = 0;
    int rc;
    if (st == NULL)
        return DUET_ESTORE;
    while ((rc = sq_step(s, st)) == 1) {
        struct duet_user *a =
            pool_grow(&req->pool, req->out.users, req->out.n_users, &cap, sizeof(*a));
        if (a == NULL || sq_read_user(&req->pool, st, 0, &a[req->out.n_users]) < 0) {
            sq_reset(st);
            return -ENOMEM;
        }
        req->out.users = a;
        req->out.n_users++;
    }
    return rc;
}

int sq_blocks_list(sq_store *s, store_req *req)
{
    return sq_read_users(s, req, sq_bind(s, SQ_BLOCKS_LIST, "i", &req->in.user));
}

int sq_presence_peers(sq_store *s, store_req *req)
{
    return sq_read_users(s, req, sq_bind(s, SQ_PRESENCE_PEERS, "i", &req->in.user));
}

/* Adds the newest message and the unread count to a chat list entry. */
static int sq_chat_fill(sq_store *s, store_req *req, struct duet_chat *c, int64_t last_seq,
                        int receipts)
{
    int rc;
    if (last_seq > 0) {
        sqlite3_stmt *st = sq_bind(s, SQ_CHAT_LAST_MSG, "ii", &c->chat_id, &req->in.user);
        if (st == NULL)
            return DUET_ESTORE;
        if ((rc = sq_step(s, st)) < 0)
            return rc;
        if (rc == 1) {
            rc = sq_read_msg(&req->pool, st, 0, &c->last);
            sq_reset(st);
            if (rc < 0)
                return rc;
            c->has_last = 1;
            /* The privacy rule of seen_at, as in HISTORY. */
            if (!receipts)
                c->last.seen_at = 0;
        }
    }
    rc = sq_get_int(s, &c->unread, SQ_CHAT_UNREAD, "ilil", &c->chat_id, c->my_read_seq, &c->peer.id,
                    (int64_t)STORE_UNREAD_MAX);
    if (rc >= 0)
        rc = sq_state_fill(s, &req->in.user, c); /* c-org */
    return rc < 0 ? rc : 0;
}

int sq_chats_list(sq_store *s, store_req *req)
{
    size_t cap = 0, n = 0;
    struct duet_chat *chats = NULL;
    int rc;

    sqlite3_stmt *st = sq_bind(s, SQ_CHATS_LIST, "i", &req->in.user);
    if (st == NULL)
        return DUET_ESTORE;
    while ((rc = sq_step(s, st)) == 1) {
        struct duet_chat *a = pool_grow(&req->pool, chats, n, &cap, sizeof(*a));
        if (a == NULL)
            goto nomem;
        chats = a;
        struct duet_chat *c = memset(&chats[n], 0, sizeof(*c));
        int receipts = sqlite3_column_int(st, CL_RECEIPTS) != 0;
        sq_col_id(st, CL_ID, &c->chat_id);
        c->last_activity = sqlite3_column_int64(st, CL_ACTIVITY);
        c->my_read_seq = sqlite3_column_int64(st, CL_MY_READ);
        c->peer_read_seq = receipts ? sqlite3_column_int64(st, CL_PEER_READ) : 0;
        c->blocked_by_me = sqlite3_column_int(st, CL_BLOCKED_BY_ME);
        c->blocked_me = sqlite3_column_int(st, CL_BLOCKED_ME);
        c->friends = sqlite3_column_int(st, CL_FRIENDS) != 0;
        if (sq_read_user(&req->pool, st, CL_PEER, &c->peer) < 0)
            goto nomem;
        rc = sq_chat_fill(s, req, c, sqlite3_column_int64(st, CL_LAST_SEQ), receipts);
        if (rc < 0) {
            sq_reset(st);
            return rc;
        }
        n++;
    }
    if (rc < 0)
        return rc;
    req->out.chats = chats;
    req->out.n_chats = n;
    return 0;

nomem:
    sq_reset(st);
    return -ENOMEM;
}

int sq_chat_peer(sq_store *s, store_req *req)
{
    struct sq_chat c;
    int rc = sq_chat_load(s, &req->in.chat_id, &req->in.user, &c);
    if (rc < 0)
        return rc;
    if (!c.friends)
        return DUET_ENOTFRIENDS;
    if ((rc = sq_blocked(s, &req->in.user, &c.peer)) != 0)
        return rc > 0 ? DUET_EBLOCKED : rc;
    if ((rc = sq_user_by_id(s, &req->pool, &c.peer, &req->out.peer)) < 0)
        return rc == DUET_ENOTFOUND ? DUET_EFORBIDDEN : rc;
    req->out.chat_id = c.id;
    return 0;
}
