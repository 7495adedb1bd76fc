/* push_hooks.c - when duet pushes. A message to a user with no visible
 * connection on this instance is written to the store's push queue (one
 * job per subscription, owned by this instance) in a request of its own
 * right after the message's: a crash between the two commits loses that
 * push (docs/protocol.md "Push" has the trade-off), while a job once
 * stored survives restarts until it is delivered or fails for good. */
#include "push_hooks.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../base/text.h"
#include "app.h"
#include "push_svc.h"
#include "retry.h"

/* The notification preview: this many characters at most. */
#define PUSH_PREVIEW_CHARS 100

/* One enqueue in flight. Ownership: freed by its callback; owns text.
 * Refused at submit because the store's queue was full, it waits in
 * app->retry (retry.h): never having reached the store, it cannot have
 * been stored, so submitting it again makes no second job. */
struct push_enq {
    struct retry_item retry; /* first: the item is the enqueue */
    struct app *app;
    store_req req;
    char *text;
};

static void enq_done(store_req *r)
{
    struct push_enq *e = r->data;
    if (r->status < 0)
        log_warn("push: queueing a push failed: %s", duet_strerror_code(r->status));
    else if (e->app->push != NULL)
        push_svc_add(e->app->push, r->out.push_jobs, r->out.n_push_jobs);
    /* else shutting down: the jobs wait in the store for the next start */
    store_req_reset(r);
    free(e->text);
    free(e);
}

/* The first PUSH_PREVIEW_CHARS characters of valid UTF-8, with an
 * ellipsis when cut; NULL when out of memory. */
static char *preview_cut(const char *s)
{
    size_t len = strlen(s), i = 0, chars = 0;
    while (i < len && chars < PUSH_PREVIEW_CHARS) {
        uint32_t cp;
        size_t n = text_utf8_seq((const unsigned char *)s, len, i, &cp);
        if (n == 0)
            break;
        i += n;
        chars++;
    }
    int cut = i < len;
    char *out = malloc(i + (cut ? 4 : 1));
    if (out == NULL)
        return NULL;
    memcpy(out, s, i);
    if (cut)
        memcpy(out + i, "\xe2\x80\xa6", 3); /* U+2026 */
    out[i + (cut ? 3 : 0)] = '\0';
    return out;
}

static void enq_refire(struct retry_item *it);

static struct push_enq *enq_new(struct app *app, const duet_id *user, const duet_id *chat,
                                int64_t seq, int kind, const duet_id *sender, const char *text)
{
    struct push_enq *e = calloc(1, sizeof(*e));
    if (e == NULL || (text != NULL && (e->text = preview_cut(text)) == NULL)) {
        log_warn("push: out of memory; a push is lost");
        free(e);
        return NULL;
    }
    e->app = app;
    e->retry.fire = enq_refire;
    store_req_init(&e->req, STORE_PUSH_ENQUEUE, enq_done, e);
    e->req.in.user = *user;
    e->req.in.chat_id = *chat;
    e->req.in.seq = seq;
    e->req.in.text = e->text;
    e->req.in.now = duet_now_ms();
    e->req.in.push.kind = kind;
    e->req.in.push.instance = app->cfg->instance;
    if (sender != NULL)
        e->req.in.push.sender = *sender;
    else
        e->req.in.push.from = "";
    return e;
}

static void enq_drop(struct push_enq *e);

static void enq_submit(struct push_enq *e)
{
    int rc = e->app->push != NULL ? app_store(e->app, &e->req) : -ECANCELED;
    if (rc == DUET_EBUSY && retry_later(e->app, &e->retry, rc))
        return;
    if (rc < 0) {
        log_warn("push: cannot queue a push: %s", duet_strerror_code(rc));
        enq_drop(e);
    }
}

static void enq_refire(struct retry_item *it)
{
    enq_submit((struct push_enq *)it);
}

static void enq_drop(struct push_enq *e)
{
    store_req_reset(&e->req);
    free(e->text);
    free(e);
}

/* The hub's answer: a visible tab anywhere takes the message live. */
static void on_visible(void *data, int visible)
{
    struct push_enq *e = data;
    if (visible)
        enq_drop(e);
    else
        enq_submit(e);
}

void push_on_message(struct app *app, const struct duet_msg *m)
{
    if (app->push == NULL)
        return;
    /* Muted chats push nothing: the store checks (STORE_PUSH_ENQUEUE). */
    struct push_enq *e = enq_new(app, &m->receiver, &m->chat_id, m->sequence, PUSH_JOB_MESSAGE,
                                 &m->sender, m->message);
    if (e != NULL)
        hub_visible(app->hub, &m->receiver, on_visible, e);
}

void push_on_reaction(struct app *app, const duet_id *author, const struct duet_msg *m,
                      const duet_id *reactor, const char *emoji)
{
    if (app->push == NULL || emoji == NULL || emoji[0] == '\0')
        return; /* a removed reaction tells nobody */
    struct push_enq *e =
        enq_new(app, author, &m->chat_id, m->sequence, PUSH_JOB_REACTION, reactor, emoji);
    if (e != NULL)
        hub_visible(app->hub, author, on_visible, e);
}

void push_on_read(struct app *app, const duet_id *user, const duet_id *chat)
{
    if (app->push == NULL)
        return;
    struct push_enq *e = enq_new(app, user, chat, 0, PUSH_JOB_CLEAR, NULL, NULL);
    if (e != NULL)
        enq_submit(e);
}

void push_on_delete(struct app *app, const struct duet_msg *m)
{
    if (app->push != NULL)
        push_svc_erase(app->push, &m->chat_id, m->sequence);
}
