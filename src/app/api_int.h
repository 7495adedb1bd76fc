/* api_int.h - what the HTTP handlers (api_*.c) share. */
#ifndef DUET_API_INT_H
#define DUET_API_INT_H

#include "app.h"

/* One HTTP request in flight through its async steps (store requests,
 * password hashing). Ownership: allocated by api_on_request, freed by
 * api_done() after the response; holds a reference on the conn. */
struct api_call {
    struct app *app;
    net_conn *conn;
    net_request *req; /* valid until the response is sent */
    json_t *body;     /* parsed JSON body, or NULL */
    store_req sreq;
    void (*then)(struct api_call *);  /* the step to run when sreq completes */
    void (*after)(struct api_call *); /* a step to run after an async side step */
    struct duet_user me;              /* the session's user; strings in pool */
    uint8_t token_hash[32];
    duet_slice arg; /* the {param} of the route */
    char name[33];  /* arg as a folded username */
    duet_id chat_id;
    const char *token;  /* a new session token (in pool) */
    const char *reason; /* friends_changed reason of the op in flight */
    char *secret;       /* a password copy to wipe, when a step needs one */
    size_t secret_len;
    int64_t i1, i2; /* handler scratch */
    char addr[64];  /* client address (proxy-aware) */
    pool_t pool;
};

/* Responds and frees the call. json is stolen (may be NULL for no body). */
void api_json(struct api_call *call, int status, json_t *json, const char *headers);
/* Responds 200 with an encoded JSON body (copied; NULL: out of memory, 500)
 * and frees the call. */
void api_json_text(struct api_call *call, const char *body, size_t len);
/* Responds with an error body for a stable code; the status follows the code. */
void api_error(struct api_call *call, const char *code, const char *message);
/* 429 rate_limited with Retry-After and retry_after, in whole seconds. */
void api_rate_limited(struct api_call *call, int64_t wait_s, const char *message);
/* Maps an error (negative errno or DUET_E*) to a response. */
void api_fail(struct api_call *call, int err);
void api_no_content(struct api_call *call, const char *headers);

/* Runs `then` once a store request of `op` completes with status 0; any
 * failure is answered with api_fail. Fill call->sreq.in after this and
 * before api_submit. */
store_req *api_prepare(struct api_call *call, enum store_op op, void (*then)(struct api_call *));
void api_submit(struct api_call *call);

/* Required body fields; on failure the error response is sent and -1
 * returned. */
int api_body_str(struct api_call *call, const char *key, const char **s, size_t *len);
/* The route's {username} folded into call->name; responds on failure. */
int api_arg_username(struct api_call *call);

/* Builds "Set-Cookie" for a new token (or a clearing one for NULL) plus the
 * standard headers, in call->pool. */
const char *api_cookie_headers(struct api_call *call, const char *token);
/* Copies a user into the call's pool (so it outlives sreq's results). */
void api_keep_user(struct api_call *call, const struct duet_user *in, struct duet_user *out);

/* Handlers (api_users.c). */
void api_signup(struct api_call *call);
void api_login(struct api_call *call);
void api_logout(struct api_call *call);
void api_me_get(struct api_call *call);
void api_me_patch(struct api_call *call);
void api_password(struct api_call *call);
/* Handlers (api_social.c). */
void api_requests_list(struct api_call *call);
void api_request_send(struct api_call *call);
void api_request_accept(struct api_call *call);
void api_request_decline(struct api_call *call);
void api_request_cancel(struct api_call *call);
void api_friend_remove(struct api_call *call);
void api_blocks_list(struct api_call *call);
void api_block(struct api_call *call);
void api_unblock(struct api_call *call);
void api_chats_list(struct api_call *call);
void api_history(struct api_call *call);
/* Handlers (api_org.c, c-org). */
void api_search(struct api_call *call);
void api_chat_state(struct api_call *call);
/* Adds pinned, archived and muted_until to a chat object j (stolen; NULL
 * when j is NULL or out of memory). */
json_t *api_org_chat_fields(json_t *j, const struct duet_chat_state *st);

#endif
