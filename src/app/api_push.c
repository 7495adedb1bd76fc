/* api_push.c - the Web Push HTTP routes. A subscription is what the
 * browser's pushManager.subscribe() returned: an endpoint URL at the
 * browser vendor's push service and the keys of RFC 8291. It belongs to
 * the session that registered it, so a logout removes it. */
#include "api_push.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../base/text.h"
#include "../push/push.h"
#include "proto.h"
#include "push_svc.h"

/* Endpoints seen in the wild are under 600 bytes (FCM, Mozilla, Apple). */
#define PUSH_ENDPOINT_MAX 1024
#define PUSH_DEVICE_CHARS 64

static int push_on(struct api_call *call)
{
    if (call->app->push != NULL)
        return 1;
    api_error(call, "push_unavailable", "push notifications are not available on this server");
    return 0;
}

void api_push_key(struct api_call *call)
{
    if (push_on(call))
        api_json(call, 200, json_pack("{s:s}", "key", push_svc_key(call->app->push)), NULL);
}

static json_t *sub_json(const struct duet_push_sub *s)
{
    char origin[256];
    if (push_origin(s->endpoint, origin, sizeof(origin)) < 0)
        origin[0] = '\0';
    return json_pack("{s:o, s:s, s:s, s:I, s:I}", "id", proto_id(&s->id), "device", s->device,
                     "service", origin, "created_at", (json_int_t)s->created_at, "last_success",
                     (json_int_t)s->last_success);
}

static void subs_listed(struct api_call *call)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < call->sreq.out.n_push_subs; i++)
        if (json_array_append_new(a, sub_json(&call->sreq.out.push_subs[i])) < 0) {
            json_decref(a);
            a = NULL;
        }
    api_json(call, 200, a ? json_pack("{s:o}", "subscriptions", a) : NULL, NULL);
}

void api_push_subs_list(struct api_call *call)
{
    if (!push_on(call))
        return;
    api_prepare(call, STORE_PUSH_SUB_LIST, subs_listed)->in.user = call->me.id;
    api_submit(call);
}

/* https:// (http:// only for tests), no spaces or controls, a host. */
static int endpoint_ok(struct api_call *call, const char *s, size_t len)
{
    char origin[PUSH_ENDPOINT_MAX + 1];
    int https = len > 8 && strncmp(s, "https://", 8) == 0;
    int http = len > 7 && strncmp(s, "http://", 7) == 0;
    if (len > PUSH_ENDPOINT_MAX || (!https && !(http && call->app->cfg->push_test_loopback)))
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return 0;
    return push_origin(s, origin, sizeof(origin)) == 0;
}

static void sub_added(struct api_call *call)
{
    api_json(call, 201, json_pack("{s:o}", "subscription", sub_json(&call->sreq.out.push_sub)),
             NULL);
}

void api_push_sub_add(struct api_call *call)
{
    const char *endpoint, *p256dh, *auth, *device = "";
    size_t elen, plen, alen, dlen = 0;
    struct push_sub_keys keys;
    if (!push_on(call) || api_body_str(call, "endpoint", &endpoint, &elen) < 0)
        return;
    json_t *k = json_object_get(call->body, "keys");
    if (!json_is_object(k)) {
        api_error(call, k ? "bad_request" : "missing_field", "'keys' must be an object");
        return;
    }
    if (proto_get_str(k, "p256dh", &p256dh, &plen) < 0 ||
        proto_get_str(k, "auth", &auth, &alen) < 0) {
        api_error(call, "bad_keys", "keys.p256dh and keys.auth must be strings");
        return;
    }
    int dr = proto_get_str(call->body, "device", &device, &dlen);
    if ((dr < 0 && dr != -ENOENT) ||
        (dr == 0 && text_utf8_chars(device, dlen) > PUSH_DEVICE_CHARS)) {
        api_error(call, "bad_device", "device is a label of up to 64 characters");
        return;
    }
    if (!endpoint_ok(call, endpoint, elen)) {
        api_error(call, "bad_endpoint", "endpoint must be an https URL of up to 1024 bytes");
        return;
    }
    /* p256dh a point on P-256 (uncompressed), auth 16 bytes. */
    if (push_sub_keys_parse(p256dh, auth, &keys) < 0) {
        api_error(call, "bad_keys", "p256dh must be a P-256 point and auth 16 bytes (base64url)");
        return;
    }
    store_req *r = api_prepare(call, STORE_PUSH_SUB_ADD, sub_added);
    r->in.user = call->me.id;
    memcpy(r->in.token_hash, call->token_hash, 32);
    r->in.push.endpoint = endpoint;
    r->in.push.p256dh = p256dh;
    r->in.push.auth = auth;
    r->in.push.device = dr == 0 ? device : "";
    r->in.limit = (int)call->app->cfg->push_max_subs;
    api_submit(call);
}

static void sub_deleted(struct api_call *call)
{
    api_no_content(call, NULL);
}

void api_push_sub_delete(struct api_call *call)
{
    duet_id id;
    if (!push_on(call))
        return;
    if (duet_id_parse(call->arg.base, call->arg.len, &id) < 0) {
        api_error(call, "not_found", "no such subscription");
        return;
    }
    store_req *r = api_prepare(call, STORE_PUSH_SUB_DELETE, sub_deleted);
    r->in.user = call->me.id;
    r->in.push.sub_id = id;
    api_submit(call);
}

static void prefs_done(struct api_call *call)
{
    api_json(call, 200, json_pack("{s:b}", "push_preview", call->sreq.out.push_preview), NULL);
}

void api_push_settings_get(struct api_call *call)
{
    if (!push_on(call))
        return;
    store_req *r = api_prepare(call, STORE_PUSH_PREFS, prefs_done);
    r->in.user = call->me.id;
    r->in.push.preview = -1;
    api_submit(call);
}

void api_push_settings_patch(struct api_call *call)
{
    int preview;
    if (!push_on(call))
        return;
    int rc = proto_get_bool(call->body, "push_preview", &preview);
    if (rc < 0) {
        api_error(call, rc == -ENOENT ? "missing_field" : "bad_request",
                  "push_preview must be true or false");
        return;
    }
    store_req *r = api_prepare(call, STORE_PUSH_PREFS, prefs_done);
    r->in.user = call->me.id;
    r->in.push.preview = preview;
    api_submit(call);
}

static int push_logout(struct api_call *call, void (*then)(struct api_call *), int others)
{
    if (call->app->push == NULL)
        return -1;
    store_req *r = api_prepare(call, STORE_PUSH_SUB_LOGOUT, then);
    r->in.user = call->me.id;
    memcpy(r->in.token_hash, call->token_hash, 32);
    r->in.push.kind = others;
    api_submit(call);
    return 0;
}

int api_push_logout(struct api_call *call, void (*then)(struct api_call *))
{
    return push_logout(call, then, 0);
}

int api_push_logout_others(struct api_call *call, void (*then)(struct api_call *))
{
    return push_logout(call, then, 1);
}
