/* api.c - HTTP routing and the plumbing every handler uses: sessions from
 * cookies, JSON bodies, error responses, async store steps. */
#include "api_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../base/text.h"
#include "../net/static.h"
#include "api.h"
#include "api_push.h"
#include "client.h"
#include "media_s3.h"
#include "proto.h"
#include "uploads.h"

struct route {
    const char *method;
    const char *pattern; /* segments; "*" matches one segment into call->arg */
    void (*handler)(struct api_call *);
    int auth;
    int body; /* needs a JSON object body (checked before the handler) */
};

static void api_healthz(struct api_call *call);
static void api_metrics(struct api_call *call);
static void api_ws(struct api_call *call);

static const struct route routes[] = {
    {"POST", "/api/signup", api_signup, 0, 1},
    {"POST", "/api/login", api_login, 0, 1},
    {"POST", "/api/logout", api_logout, 1, 0},
    {"GET", "/api/me", api_me_get, 1, 0},
    {"PATCH", "/api/me", api_me_patch, 1, 1},
    {"POST", "/api/me/password", api_password, 1, 1},
    {"GET", "/api/friends/requests", api_requests_list, 1, 0},
    {"POST", "/api/friends/requests", api_request_send, 1, 1},
    {"POST", "/api/friends/requests/*/accept", api_request_accept, 1, 0},
    {"POST", "/api/friends/requests/*/decline", api_request_decline, 1, 0},
    {"DELETE", "/api/friends/requests/*", api_request_cancel, 1, 0},
    {"DELETE", "/api/friends/*", api_friend_remove, 1, 0},
    {"GET", "/api/blocks", api_blocks_list, 1, 0},
    {"PUT", "/api/blocks/*", api_block, 1, 0},
    {"DELETE", "/api/blocks/*", api_unblock, 1, 0},
    {"GET", "/api/chats", api_chats_list, 1, 0},
    {"GET", "/api/chats/*/messages", api_history, 1, 0},
    {"PUT", "/api/chats/*/state", api_chat_state, 1, 1}, /* c-org */
    {"GET", "/api/search", api_search, 1, 0},            /* c-org */
    {"GET", "/healthz", api_healthz, 0, 0},
    {"GET", "/metrics", api_metrics, 0, 0},
    {"GET", "/ws", api_ws, 1, 0},
    {"GET", "/api/push/key", api_push_key, 0, 0},
    {"GET", "/api/push/subscriptions", api_push_subs_list, 1, 0},
    {"POST", "/api/push/subscriptions", api_push_sub_add, 1, 1},
    {"DELETE", "/api/push/subscriptions/*", api_push_sub_delete, 1, 0},
    {"GET", "/api/push/settings", api_push_settings_get, 1, 0},
    {"PATCH", "/api/push/settings", api_push_settings_patch, 1, 1},
    /* media (issue 15; uploads.h) */
    {"OPTIONS", "/api/uploads", api_upload_options, 0, 0},
    {"POST", "/api/uploads", api_upload_create, 1, 0},
    {"HEAD", "/api/uploads/*", api_upload_head, 1, 0},
    {"PATCH", "/api/uploads/*", api_upload_patch, 1, 0},
    {"DELETE", "/api/uploads/*", api_upload_delete, 1, 0},
    {"GET", "/api/media/*", api_media_get, 1, 0},
    {"HEAD", "/api/media/*", api_media_get, 1, 0},
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* ---- responses ---- */

static void api_done(struct api_call *call)
{
    if (call->secret != NULL) {
        sodium_memzero(call->secret, call->secret_len);
        free(call->secret);
    }
    json_decref(call->body);
    store_req_reset(&call->sreq);
    pool_destroy(&call->pool);
    net_conn_unref(call->conn);
    free(call);
}

void api_json_done(struct api_call *call)
{
    api_done(call);
}

/* Every API answer carries NET_JSON_HEADERS (never cached, nosniff, a
 * deny-all CSP, ...); the instance header is added to every response by the
 * network layer (main.c). */
static const char *std_headers(struct api_call *call, const char *extra)
{
    if (extra == NULL)
        return NET_JSON_HEADERS;
    size_t n = strlen(extra) + sizeof(NET_JSON_HEADERS);
    char *h = pool_alloc(&call->pool, n);
    if (h == NULL)
        return NULL; /* the caller answers 500 without extra headers */
    snprintf(h, n, "%s%s", NET_JSON_HEADERS, extra);
    return h;
}

void api_json(struct api_call *call, int status, json_t *json, const char *headers)
{
    struct app *app = call->app;
    const char *hdrs = std_headers(call, headers);
    if (hdrs == NULL) { /* without them (a cookie, say) the answer would lie */
        json_decref(json);
        json = NULL;
        status = 500;
        hdrs = NET_JSON_HEADERS;
    }
    app->metrics.http_requests++;
    if (status >= 400)
        app->metrics.http_errors++;
    char *body = NULL;
    if (json == NULL && status != 204) {
        status = 500; /* a json_pack above ran out of memory */
        body = strdup("{\"error\":\"internal\",\"message\":\"out of memory\"}");
    } else if (json != NULL) {
        body = json_dumps(json, JSON_COMPACT);
        json_decref(json);
        if (body == NULL) {
            status = 500;
            body = strdup("{\"error\":\"internal\",\"message\":\"out of memory\"}");
        }
    }
    net_respond(call->conn, status, body ? "application/json" : NULL, hdrs, body,
                body ? strlen(body) : 0);
    free(body);
    api_done(call);
}

void api_json_text(struct api_call *call, const char *body, size_t len)
{
    if (body == NULL) {
        api_json(call, 500, NULL, NULL);
        return;
    }
    call->app->metrics.http_requests++;
    net_respond(call->conn, 200, "application/json", NET_JSON_HEADERS, body, len);
    api_done(call);
}

void api_no_content(struct api_call *call, const char *headers)
{
    api_json(call, 204, NULL, headers);
}

static int status_for(const char *code)
{
    static const struct {
        const char *code;
        int status;
    } map[] = {
        {"unauthorized", 401},       {"bad_credentials", 401},
        {"forbidden", 403},          {"bad_origin", 403},
        {"not_friends", 403},        {"blocked", 403},
        {"delete_window_over", 403}, {"not_found", 404},
        {"method_not_allowed", 405}, {"username_taken", 409},
        {"already_friends", 409},    {"id_conflict", 409},
        {"already_deleted", 409},    {"unsupported_media_type", 415},
        {"rate_limited", 429},       {"busy", 503},
        {"store_failed", 503},       {"internal", 500},
        {"upgrade_required", 426},   {"too_many_connections", 429},
        {"daily_limit", 429},        {"recipient_backlog_full", 409},
        {"pin_limit", 409},          {"not_implemented", 501}, /* c-org */
        {"push_unavailable", 503},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(map[i].code, code) == 0)
            return map[i].status;
    return 400;
}

void api_error(struct api_call *call, const char *code, const char *message)
{
    json_t *j = json_pack("{s:s, s:s}", "error", code, "message", message);
    api_json(call, status_for(code), j, NULL);
}

static const char *message_for(int err)
{
    switch (err) {
    case DUET_ENOTFOUND:
        return "no such user or item";
    case DUET_EEXISTS:
        return "this username is taken";
    case DUET_EFORBIDDEN:
        return "that is not yours";
    case DUET_ENOTFRIENDS:
        return "you are not friends with this user";
    case DUET_EBLOCKED:
        return "one of you blocks the other";
    case DUET_ESTORE:
        return "the change could not be stored; nothing was changed";
    case DUET_EEXPIRED:
        return "the delete window is over";
    case DUET_ECONFLICT:
        return "this message id is used by the other participant";
    case DUET_ESELF:
        return "that is you";
    case DUET_EALREADY:
        return "you are already friends";
    case DUET_EBUSY:
        return "the server is busy; try again shortly";
    case DUET_EDELETED:
        return "the message is already deleted";
    case DUET_ELIMIT:
        return "too many friend requests in the last 24 hours; try again later";
    case DUET_EFULL:
        return "the recipient has too many undelivered messages";
    case -EINVAL:
        return "bad request";
    default:
        return "internal error";
    }
}

void api_fail(struct api_call *call, int err)
{
    if (err == DUET_ESTORE)
        call->app->metrics.store_errors++;
    if (err != DUET_ENOTFOUND && err != DUET_EEXISTS && err > -1000 && err != -EINVAL)
        log_warn("api: %s %.*s: %s", call->req->method, (int)call->req->path.len,
                 call->req->path.base, duet_strerror_code(err));
    api_error(call, duet_strerror_code(err), message_for(err));
}

/* ---- async steps ---- */

static void api_store_done(store_req *r)
{
    struct api_call *call = r->data;
    if (r->status < 0) {
        api_fail(call, r->status);
        return;
    }
    call->then(call);
}

store_req *api_prepare(struct api_call *call, enum store_op op, void (*then)(struct api_call *))
{
    store_req_reset(&call->sreq);
    store_req_init(&call->sreq, op, api_store_done, call);
    call->then = then;
    return &call->sreq;
}

void api_submit(struct api_call *call)
{
    call->sreq.in.now = duet_now_ms();
    int r = app_store(call->app, &call->sreq);
    if (r < 0)
        api_fail(call, r);
}

/* ---- request helpers ---- */

int api_body_str(struct api_call *call, const char *key, const char **s, size_t *len)
{
    int r = proto_get_str(call->body, key, s, len);
    if (r == -ENOENT) {
        char msg[96];
        snprintf(msg, sizeof(msg), "missing field '%s'", key);
        api_error(call, "missing_field", msg);
        return -1;
    }
    if (r < 0) {
        char msg[96];
        snprintf(msg, sizeof(msg), "field '%s' must be a string", key);
        api_error(call, "bad_request", msg);
        return -1;
    }
    return 0;
}

int api_arg_username(struct api_call *call)
{
    if (text_username(call->arg.base, call->arg.len, call->name) < 0) {
        /* No valid username can exist under this name. */
        api_error(call, "not_found", "no such user");
        return -1;
    }
    return 0;
}

const char *api_cookie_headers(struct api_call *call, const char *token)
{
    const struct config *cfg = call->app->cfg;
    size_t n = 256;
    char *h = pool_alloc(&call->pool, n);
    if (h == NULL)
        return NULL;
    snprintf(h, n, "Set-Cookie: %s=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=%lld%s\r\n",
             auth_cookie_name(cfg->secure_cookies), token ? token : "",
             token ? (long long)cfg->session_idle_s : 0LL, cfg->secure_cookies ? "; Secure" : "");
    return h;
}

void api_keep_user(struct api_call *call, const struct duet_user *in, struct duet_user *out)
{
    *out = *in;
    out->username = pool_strdup(&call->pool, in->username ? in->username : "");
    out->display_name = pool_strdup(&call->pool, in->display_name ? in->display_name : "");
    out->pwhash = NULL;
    if (out->username == NULL || out->display_name == NULL)
        out->username = out->display_name = "";
}

/* ---- routing ---- */

static int match(const char *pattern, duet_slice path, duet_slice *arg)
{
    const char *p = pattern, *s = path.base, *end = path.base + path.len;
    while (*p != '\0') {
        if (*p == '*') {
            const char *seg = s;
            while (s < end && *s != '/')
                s++;
            if (s == seg)
                return 0;
            *arg = (duet_slice){seg, (size_t)(s - seg)};
            p++;
            continue;
        }
        if (s >= end || *s != *p)
            return 0;
        p++, s++;
    }
    return s == end;
}

/* The client's address: the peer, or behind a trusted proxy the address the
 * proxy saw (X-Real-IP, else the last X-Forwarded-For entry). */
static void client_addr(struct api_call *call)
{
    const net_request *req = call->req;
    const char *a = req->client_addr ? req->client_addr : "";
    size_t len = strlen(a);
    if (call->app->cfg->trust_proxy) {
        const duet_slice *h = net_header(req, "X-Real-IP");
        const duet_slice *x = net_header(req, "X-Forwarded-For");
        if (h != NULL) {
            a = h->base, len = h->len;
        } else if (x != NULL) {
            const char *c = memrchr(x->base, ',', x->len);
            a = c ? c + 1 : x->base;
            len = (size_t)(x->base + x->len - a);
        }
        while (len > 0 && *a == ' ')
            a++, len--;
        while (len > 0 && a[len - 1] == ' ')
            len--;
    }
    if (len >= sizeof(call->addr))
        len = sizeof(call->addr) - 1;
    memcpy(call->addr, a, len);
    call->addr[len] = '\0';
}

/* An Origin header, when present, must name this host (or the configured
 * extra origin): it stops other sites from using a visitor's cookie. */
static int origin_ok(struct api_call *call)
{
    const struct config *cfg = call->app->cfg;
    return net_origin_ok(call->req, cfg->allowed_origin, cfg->secure_cookies);
}

static int parse_body(struct api_call *call)
{
    const net_request *req = call->req;
    if (req->body.len == 0)
        return 0;
    const duet_slice *ct = net_header(req, "Content-Type");
    if (ct == NULL || ct->len < 16 || strncasecmp(ct->base, "application/json", 16) != 0 ||
        (ct->len > 16 && ct->base[16] != ';' && ct->base[16] != ' ')) {
        api_error(call, "unsupported_media_type", "the body must be application/json");
        return -1;
    }
    json_error_t jerr;
    call->body = json_loadb(req->body.base, req->body.len, JSON_REJECT_DUPLICATES, &jerr);
    if (call->body == NULL) {
        char msg[96];
        const char *code = proto_json_refusal(req->body.base, req->body.len, &jerr,
                                              "the body is not a JSON object", msg, sizeof(msg));
        api_error(call, code, msg);
        return -1;
    }
    if (!json_is_object(call->body)) {
        api_error(call, "bad_json", "the body is not a JSON object");
        return -1;
    }
    return 0;
}

/* After authentication, so that a missing session is 401 whatever the body. */
static void run_route(struct api_call *call, const struct route *rt)
{
    if (rt->body && call->body == NULL) {
        api_error(call, "bad_json", "send a JSON object");
        return;
    }
    rt->handler(call);
}

static void api_session_done(struct api_call *call)
{
    api_keep_user(call, &call->sreq.out.user, &call->me);
    run_route(call, &routes[call->i2]);
}

static void api_session_cb(store_req *r)
{
    struct api_call *call = r->data;
    if (r->status == DUET_ENOTFOUND)
        api_error(call, "unauthorized", "the session is missing, expired or ended; log in");
    else if (r->status < 0)
        api_fail(call, r->status);
    else
        api_session_done(call);
}

static void api_with_session(struct api_call *call, size_t route)
{
    duet_slice tok;
    if (net_cookie(call->req, auth_cookie_name(call->app->cfg->secure_cookies), &tok) < 0 ||
        auth_token_hash(tok.base, tok.len, call->token_hash) < 0) {
        api_error(call, "unauthorized", "log in first");
        return;
    }
    call->i2 = (int64_t)route;
    store_req *r = api_prepare(call, STORE_SESSION_GET, api_session_done);
    memcpy(r->in.token_hash, call->token_hash, 32);
    r->in.idle_ms = call->app->cfg->session_idle_s * 1000;
    r->cb = api_session_cb; /* a missing session is 401, not 404 */
    api_submit(call);
}

static void dispatch(struct api_call *call)
{
    const net_request *req = call->req;
    int path_known = 0;
    for (size_t i = 0; i < NROUTES; i++) {
        duet_slice arg = {NULL, 0};
        if (!match(routes[i].pattern, req->path, &arg))
            continue;
        path_known = 1;
        if (strcmp(routes[i].method, req->method) != 0)
            continue;
        call->arg = arg;
        if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0 &&
            strcmp(req->method, "OPTIONS") != 0 && !origin_ok(call)) {
            api_error(call, "bad_origin", "cross-site request refused");
            return;
        }
        if (parse_body(call) < 0)
            return;
        if (routes[i].auth)
            api_with_session(call, i);
        else
            run_route(call, &routes[i]);
        return;
    }
    if (path_known) {
        api_error(call, "method_not_allowed", "this path does not take that method");
        return;
    }
    if (req->path.len >= 5 && memcmp(req->path.base, "/api/", 5) == 0) {
        api_error(call, "not_found", "no such endpoint");
        return;
    }
    if (req->is_upgrade) {
        api_error(call, "not_found", "WebSockets are served at /ws");
        return;
    }
    call->app->metrics.http_requests++;
    static_serve_csp(&call->app->web, call->conn, req, call->app->cfg->web_dir,
                     media_s3_origin(call->app->cfg));
    api_done(call);
}

void api_on_request(void *appp, net_conn *c, net_request *req)
{
    struct app *app = appp;
    struct api_call *call = calloc(1, sizeof(*call));
    if (call == NULL) {
        static const char oom[] = "{\"error\":\"internal\",\"message\":\"out of memory\"}";
        net_respond(c, 500, "application/json", NET_JSON_HEADERS, oom, sizeof(oom) - 1);
        return;
    }
    call->app = app;
    call->conn = c;
    call->req = req;
    pool_init(&call->pool);
    store_req_init(&call->sreq, STORE_USER_GET, NULL, call);
    net_conn_ref(c);
    client_addr(call);
    dispatch(call);
}

/* ---- operations ---- */

static void api_healthz(struct api_call *call)
{
    struct app *app = call->app;
    json_t *j = json_pack("{s:s, s:s, s:I}", "status", "ok", "instance", app->cfg->instance,
                          "uptime_ms", (json_int_t)(duet_now_ms() - app->started_at));
    api_json(call, 200, j, NULL);
}

static void api_metrics(struct api_call *call)
{
    struct app *app = call->app;
    char *text;
    size_t len;
    app->metrics.http_requests++;
    if (metrics_render(&app->metrics, &app->hub->stats, net_server_conn_count(app->net),
                       net_server_ws_count(app->net), net_server_ws_parked_count(app->net),
                       hub_online_count(app->hub), app->cfg->instance, &text, &len) < 0) {
        api_fail(call, -ENOMEM);
        return;
    }
    net_respond(call->conn, 200, "text/plain; version=0.0.4", NET_JSON_HEADERS, text, len);
    free(text);
    api_done(call);
}

static void api_ws(struct api_call *call)
{
    if (!call->req->is_upgrade) {
        api_error(call, "upgrade_required", "this endpoint is a WebSocket");
        return;
    }
    if (!origin_ok(call)) {
        api_error(call, "bad_origin", "cross-site WebSocket refused");
        return;
    }
    /* client_start answers the upgrade (or the 400 of a bad handshake). */
    int r = client_start(call->app, call->conn, &call->me, call->token_hash, call->addr);
    if (r == -EBUSY) {
        api_error(call, "too_many_connections", "too many WebSockets from this address");
        return;
    }
    if (r < 0 && r != -EINVAL) {
        api_fail(call, r);
        return;
    }
    api_done(call);
}
