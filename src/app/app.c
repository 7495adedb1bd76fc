/* app.c - the helpers on the application's context (app.h). */
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "app.h"
#include "client.h"
#include "presence.h"
#include "proto.h"

int app_store(struct app *app, store_req *req)
{
    int r = store_submit(app->store, req);
    if (r < 0)
        app->metrics.store_errors++;
    return r;
}

/* The loop's writer; its buffer is kept between events, unless one grew it
 * past what a full history page of long texts needs. */
#define APP_WRITER_KEEP (1u << 20)

struct jsonw *app_writer(struct app *app)
{
    jsonw_reset(&app->out, APP_WRITER_KEEP);
    return &app->out;
}

void app_free_typing(struct app *app)
{
    recent_free(&app->typing);
}

/* ---- the hub's host interface (hub.h); ctx is the app ---- */

static int64_t host_now_ms(void *ctx)
{
    return duet_now_ms();
}

static void host_ref(void *ctx, struct hub_conn *c)
{
    client_ref(client_of(c));
}

static void host_unref(void *ctx, struct hub_conn *c)
{
    client_unref(client_of(c));
}

static int host_submit(void *ctx, store_req *req)
{
    return app_store(ctx, req);
}

/* Written as every live message event is (proto_write_message_event), then
 * copied: the hub keeps it past the loop's writer. */
static char *host_message_event(void *ctx, const struct duet_msg *m, size_t *len)
{
    struct jsonw *w = app_writer(ctx);
    proto_write_message_event(w, m, 0);
    const char *s = jsonw_finish(w, len);
    if (s == NULL)
        return NULL;
    char *copy = malloc(*len + 1);
    if (copy != NULL)
        memcpy(copy, s, *len + 1);
    return copy;
}

void app_hub_host(struct app *app, struct hub_host *out)
{
    *out = (struct hub_host){
        .ctx = app,
        .online = presence_online,
        .offline = presence_offline,
        .now_ms = host_now_ms,
        .ref = host_ref,
        .unref = host_unref,
        .submit = host_submit,
        .message_event = host_message_event,
    };
}
