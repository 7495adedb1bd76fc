/* api_users.c - accounts: sign-up, login, logout, settings, password. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../base/text.h"
#include "api_int.h"
#include "api_push.h"
#include "cache.h"
#include "login_limit.h"
#include "presence.h"
#include "proto.h"
#include "publish.h"

#define PASSWORD_MIN_CHARS 8
#define PASSWORD_MAX_BYTES 1024

/* The optional display_name of a body (*s stays NULL when absent); -1
 * after answering a bad one. */
static int opt_display_name(struct api_call *call, const char **s, size_t *len)
{
    int r = proto_get_str(call->body, "display_name", s, len);
    if (r == -EINVAL) {
        api_error(call, "bad_request", "display_name must be a string");
        return -1;
    }
    if (r == 0 && !text_display_name_ok(*s, *len)) {
        api_error(call, "bad_display_name", "display names are 1 to 64 printable characters");
        return -1;
    }
    if (r < 0)
        *s = NULL;
    return 0;
}

static int check_password(struct api_call *call, const char *pw, size_t len)
{
    if (len > PASSWORD_MAX_BYTES || text_utf8_chars(pw, len) < PASSWORD_MIN_CHARS) {
        api_error(call, "weak_password", "the password needs at least 8 characters");
        return -1;
    }
    return 0;
}

/* Copies a (and b after it) into one buffer that api_done wipes. */
static int keep_secret(struct api_call *call, const char *a, size_t alen, const char *b,
                       size_t blen)
{
    call->secret = malloc(alen + blen + 1);
    if (call->secret == NULL)
        return -ENOMEM;
    memcpy(call->secret, a, alen);
    if (blen > 0)
        memcpy(call->secret + alen, b, blen);
    call->secret[alen + blen] = '\0';
    call->secret_len = alen + blen;
    return 0;
}

/* Keeps the password for the hashing step, then looks call->name up; cb
 * sees DUET_ENOTFOUND as a status, not as a failed request. */
static void find_user(struct api_call *call, const char *pw, size_t plen, store_cb cb)
{
    if (keep_secret(call, pw, plen, NULL, 0) < 0) {
        api_fail(call, -ENOMEM);
        return;
    }
    store_req *q = api_prepare(call, STORE_USER_GET_BY_NAME, NULL);
    q->cb = cb;
    q->in.username = call->name;
    api_submit(call);
}

/* ---- a new session, the last step of sign-up and login ---- */

static void session_made(struct api_call *call)
{
    const char *headers = api_cookie_headers(call, call->token);
    json_t *j = json_pack("{s:o}", "user", proto_me(&call->me));
    api_json(call, call->i2 == 1 ? 201 : 200, j, headers);
}

static void session_start(struct api_call *call, int created)
{
    char *token = pool_alloc(&call->pool, AUTH_TOKEN_LEN + 1);
    if (token == NULL) {
        api_fail(call, -ENOMEM);
        return;
    }
    store_req *r = api_prepare(call, STORE_SESSION_CREATE, session_made);
    auth_token_new(token, r->in.token_hash);
    r->in.user = call->me.id;
    call->token = token;
    call->i2 = created;
    api_submit(call);
}

/* 429 rate_limited with Retry-After and retry_after, in whole seconds. */
void api_rate_limited(struct api_call *call, int64_t wait_s, const char *message)
{
    char hdr[64];
    snprintf(hdr, sizeof(hdr), "Retry-After: %lld\r\n", (long long)wait_s);
    const char *h = pool_strdup(&call->pool, hdr);
    json_t *j = json_pack("{s:s, s:s, s:I}", "error", "rate_limited", "message", message,
                          "retry_after", (json_int_t)wait_s);
    api_json(call, 429, j, h);
}

/* ---- sign-up ---- */

static void signup_created(struct api_call *call)
{
    api_keep_user(call, &call->sreq.out.user, &call->me);
    log_info("signup user=%s", call->me.username);
    session_start(call, 1);
}

static void signup_hashed(void *data, int status, const char *hash)
{
    struct api_call *call = data;
    if (status < 0) {
        api_fail(call, status);
        return;
    }
    char *h = pool_strdup(&call->pool, hash);
    if (h == NULL) {
        api_fail(call, -ENOMEM);
        return;
    }
    const char *display = NULL;
    size_t dlen;
    proto_get_str(call->body, "display_name", &display, &dlen);
    store_req *r = api_prepare(call, STORE_USER_CREATE, signup_created);
    r->in.username = call->name;
    r->in.display_name = display;
    r->in.pwhash = h;
    api_submit(call);
}

static void signup_checked(store_req *r)
{
    struct api_call *call = r->data;
    if (r->status == 0) {
        api_fail(call, DUET_EEXISTS);
        return;
    }
    if (r->status != DUET_ENOTFOUND) {
        api_fail(call, r->status);
        return;
    }
    int e = auth_hash(&call->app->auth, call->addr, call->secret, call->secret_len, signup_hashed,
                      call);
    if (e < 0)
        api_fail(call, e);
}

void api_signup(struct api_call *call)
{
    const char *user, *pw, *display;
    size_t ulen, plen, dlen;
    if (api_body_str(call, "username", &user, &ulen) < 0 ||
        api_body_str(call, "password", &pw, &plen) < 0)
        return;
    if (text_username(user, ulen, call->name) < 0) {
        api_error(call, "bad_username", "usernames are 3 to 32 of a-z, 0-9, _ and .");
        return;
    }
    if (check_password(call, pw, plen) < 0)
        return;
    if (opt_display_name(call, &display, &dlen) < 0)
        return;
    /* Every well-formed attempt takes a token, taken or not: the bucket
     * bounds both account creation and probing for names from an address. */
    int64_t wait = limits_take_signup(&call->app->limits, call->addr, uv_now(call->app->loop));
    if (wait > 0) {
        api_rate_limited(call, (wait + 999) / 1000,
                         "too many sign-ups from this address; try later");
        return;
    }
    /* Check the name before paying for a hash; USER_CREATE still decides. */
    find_user(call, pw, plen, signup_checked);
}

/* ---- login ---- */

static void login_verified(void *data, int status, const char *hash)
{
    struct api_call *call = data;
    struct app *app = call->app;
    if (status == DUET_ENOTFOUND) {
        app->metrics.logins_failed++;
        log_info("login failed user=%s addr=%s", call->name, call->addr);
        api_error(call, "bad_credentials", "wrong username or password");
        return;
    }
    if (status < 0) {
        api_fail(call, status);
        return;
    }
    login_limit_ok(call, call->name);
    log_info("login user=%s addr=%s", call->name, call->addr);
    session_start(call, 0);
}

static void login_found(store_req *r)
{
    struct api_call *call = r->data;
    const char *hash = NULL;
    if (r->status == 0) {
        api_keep_user(call, &r->out.user, &call->me);
        hash = r->out.user.pwhash;
    } else if (r->status != DUET_ENOTFOUND) {
        api_fail(call, r->status);
        return;
    }
    /* Unknown users are verified against nothing, at the cost of a real
     * hash, so the answer's timing does not reveal which names exist. */
    int e = auth_verify(&call->app->auth, call->addr, hash, call->secret, call->secret_len,
                        login_verified, call);
    if (e < 0)
        api_fail(call, e);
}

/* A name no account can have, once the attempt is counted. */
static void login_bad_name(struct api_call *call)
{
    call->app->metrics.logins_failed++;
    api_error(call, "bad_credentials", "wrong username or password");
}

static void login_lookup(struct api_call *call)
{
    store_req *q = api_prepare(call, STORE_USER_GET_BY_NAME, NULL);
    q->cb = login_found;
    q->in.username = call->name;
    api_submit(call);
}

void api_login(struct api_call *call)
{
    const char *user, *pw;
    size_t ulen, plen;
    if (api_body_str(call, "username", &user, &ulen) < 0 ||
        api_body_str(call, "password", &pw, &plen) < 0)
        return;
    if (text_username(user, ulen, call->name) < 0 || plen > PASSWORD_MAX_BYTES) {
        /* No account can have this name; the throttle key is still the
         * name (truncated) so repeated tries count against the address. */
        snprintf(call->name, sizeof(call->name), "%.*s", (int)(ulen > 32 ? 32 : ulen), user);
        login_limit_begin(call, login_bad_name);
        return;
    }
    if (keep_secret(call, pw, plen, NULL, 0) < 0) {
        api_fail(call, -ENOMEM);
        return;
    }
    login_limit_begin(call, login_lookup);
}

/* ---- logout ---- */

static void logout_done(struct api_call *call)
{
    struct hub *hub = call->app->hub;
    hub_end_sessions(hub, &call->me.id, call->token_hash, 0);
    log_info("logout user=%s", call->me.username);
    api_no_content(call, api_cookie_headers(call, NULL));
}

static void logout_session(struct api_call *call)
{
    store_req *r = api_prepare(call, STORE_SESSION_DELETE, logout_done);
    memcpy(r->in.token_hash, call->token_hash, 32);
    api_submit(call);
}

void api_logout(struct api_call *call)
{
    /* The session's push subscriptions go first (api_push.c): a device
     * logged out gets no more notifications. */
    if (api_push_logout(call, logout_session) < 0)
        logout_session(call);
}

/* ---- settings ---- */

void api_me_get(struct api_call *call)
{
    api_json(call, 200, json_pack("{s:o}", "user", proto_me(&call->me)), NULL);
}

static void me_answer(void *data)
{
    struct api_call *call = data;
    api_json(call, 200, json_pack("{s:o}", "user", proto_me(&call->me)), NULL);
}

/* A new display name goes to every friend live (friends_changed renamed,
 * with the pair's chat). */
static void me_renamed_tell(struct api_call *call)
{
    const store_req *r = &call->sreq;
    for (size_t i = 0; i < r->out.n_users; i++) {
        duet_id chat;
        duet_chat_id(&call->me.id, &r->out.users[i].id, &chat);
        publish_event(call->app, &r->out.users[i].id,
                      proto_friends_event("renamed", &call->me, &chat), NULL);
    }
}

/* The last-seen setting is in the cached presence lists of the user and of
 * every friend (cache.c): forget them before answering. */
static void me_peers(struct api_call *call)
{
    const store_req *r = &call->sreq;
    if (r->in.display_name != NULL)
        me_renamed_tell(call);
    if (call->sreq.in.lastseen_vis < 0 || !hub_has_cache(call->app->hub)) {
        me_answer(call);
        return;
    }
    duet_id *ids = pool_alloc(&call->pool, (r->out.n_users + 1) * sizeof(*ids));
    if (ids == NULL) {
        api_fail(call, -ENOMEM);
        return;
    }
    ids[0] = call->me.id;
    for (size_t i = 0; i < r->out.n_users; i++)
        ids[i + 1] = r->out.users[i].id;
    cache_forget_peers(call->app, ids, r->out.n_users + 1, me_answer, call);
}

static void me_updated(struct api_call *call)
{
    struct hub *hub = call->app->hub;
    int vis = call->sreq.in.lastseen_vis, vis_set = vis >= 0;
    int vis_changed = vis_set && call->me.lastseen_vis != call->sreq.out.user.lastseen_vis;
    const char *renamed = call->sreq.in.display_name; /* borrowed from the body */
    api_keep_user(call, &call->sreq.out.user, &call->me);
    if (vis_changed)
        presence_settings_changed(call->app, &call->sreq.out.user);
    if (renamed == NULL && (!vis_set || !hub_has_cache(hub))) {
        me_answer(call);
        return;
    }
    /* The friends (no block either way) are needed to tell them a new
     * name, or to forget their cached presence lists. */
    store_req *q = api_prepare(call, STORE_PRESENCE_PEERS, me_peers);
    q->in.user = call->me.id;
    q->in.display_name = renamed;
    q->in.lastseen_vis = vis;
    api_submit(call);
}

void api_me_patch(struct api_call *call)
{
    const char *display = NULL, *vis;
    size_t dlen, vlen;
    int receipts = -1, lastseen = -1;
    if (opt_display_name(call, &display, &dlen) < 0)
        return;
    int r = proto_get_str(call->body, "last_seen", &vis, &vlen);
    if (r == 0 && strcmp(vis, "friends") == 0)
        lastseen = LASTSEEN_FRIENDS;
    else if (r == 0 && strcmp(vis, "nobody") == 0)
        lastseen = LASTSEEN_NOBODY;
    else if (r != -ENOENT) {
        api_error(call, "bad_request", "last_seen is \"friends\" or \"nobody\"");
        return;
    }
    r = proto_get_bool(call->body, "read_receipts", &receipts);
    if (r == -EINVAL) {
        api_error(call, "bad_request", "read_receipts is true or false");
        return;
    }
    store_req *q = api_prepare(call, STORE_USER_UPDATE, me_updated);
    q->in.user = call->me.id;
    q->in.display_name = display;
    q->in.lastseen_vis = lastseen;
    q->in.read_receipts = receipts;
    api_submit(call);
}

/* ---- password change ---- */

static void password_set(struct api_call *call)
{
    struct hub *hub = call->app->hub;
    hub_end_sessions(hub, &call->me.id, call->token_hash, 1);
    log_info("password changed user=%s", call->me.username);
    api_no_content(call, NULL);
}

/* The other sessions end, and their push subscriptions go (api_push.c). */
static void password_pushes(struct api_call *call)
{
    if (api_push_logout_others(call, password_set) < 0)
        password_set(call);
}

static void password_hashed(void *data, int status, const char *hash)
{
    struct api_call *call = data;
    char *h = status == 0 ? pool_strdup(&call->pool, hash) : NULL;
    if (status < 0 || h == NULL) {
        api_fail(call, status < 0 ? status : -ENOMEM);
        return;
    }
    store_req *r = api_prepare(call, STORE_USER_SET_PASSWORD, password_pushes);
    r->in.user = call->me.id;
    r->in.pwhash = h;
    memcpy(r->in.token_hash, call->token_hash, 32);
    api_submit(call);
}

static void password_verified(void *data, int status, const char *hash)
{
    struct api_call *call = data;
    struct app *app = call->app;
    if (status == DUET_ENOTFOUND) {
        api_error(call, "bad_credentials", "the old password is wrong");
        return;
    }
    if (status < 0) {
        api_fail(call, status);
        return;
    }
    login_limit_ok(call, call->me.username);
    /* The new password was kept after the old one in secret. */
    const char *newpw = call->secret + call->i1;
    size_t newlen = call->secret_len - (size_t)call->i1;
    int e = auth_hash(&app->auth, call->addr, newpw, newlen, password_hashed, call);
    if (e < 0)
        api_fail(call, e);
}

static void password_user(struct api_call *call)
{
    const char *hash = call->sreq.out.user.pwhash;
    int e = auth_verify(&call->app->auth, call->addr, hash, call->secret, (size_t)call->i1,
                        password_verified, call);
    if (e < 0)
        api_fail(call, e);
}

/* Counted against the login throttle: check the old password. */
static void password_go(struct api_call *call)
{
    if (call->i1 > PASSWORD_MAX_BYTES) {
        api_error(call, "bad_credentials", "the old password is wrong");
        return;
    }
    store_req *r = api_prepare(call, STORE_USER_GET_BY_NAME, password_user);
    r->in.username = call->name;
    api_submit(call);
}

void api_password(struct api_call *call)
{
    const char *oldpw, *newpw;
    size_t olen, nlen;
    if (api_body_str(call, "old_password", &oldpw, &olen) < 0 ||
        api_body_str(call, "new_password", &newpw, &nlen) < 0)
        return;
    if (check_password(call, newpw, nlen) < 0)
        return;
    snprintf(call->name, sizeof(call->name), "%s", call->me.username);
    call->i1 = (int64_t)olen;
    /* One wiped buffer holds both: old, then new from offset i1. */
    if (olen <= PASSWORD_MAX_BYTES && keep_secret(call, oldpw, olen, newpw, nlen) < 0) {
        api_fail(call, -ENOMEM);
        return;
    }
    login_limit_begin(call, password_go);
}
