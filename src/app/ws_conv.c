/* ws_conv.c - issue 17's WebSocket requests: react, edit, hide (delete for
 * me). Reply and forward are fields of send (ws_requests.c). Each answers
 * the requester with its event (and ref) and publishes it, through the hub,
 * to the user's other connections and, unless withheld, to the peer's. */
#include <errno.h>
#include <stddef.h>

#include "proto.h"
#include "proto_conv.h"
#include "publish.h"
#include "push_hooks.h"
#include "ws_op.h"

/* The answer: ev with the request's ref (steals ev). */
static void answer_with_ref(struct chat_op *op, json_t *ev)
{
    if (ev != NULL && op->ref != NULL && json_object_set(ev, "ref", op->ref) < 0) {
        json_decref(ev);
        ev = NULL; /* an answer the client cannot match: pipe_answer_json closes */
    }
    op_answer(op, ev);
}

/* Push hook (issue 16): called once for each new reaction by the other
 * participant, with the message's author (the one to notify), after the
 * store made it durable and never for a withheld one: a Web Push when the
 * author has no visible tab (push_hooks.c). */
static void ws_conv_reaction_notify(struct app *app, const duet_id *author,
                                    const struct duet_msg *m, const struct duet_reaction *r)
{
    push_on_reaction(app, author, m, &r->user, r->emoji);
}

/* ---- react ---- */

static void react_done(struct chat_op *op)
{
    struct app *app = op->cl->app;
    const store_req *r = &op->sreq;
    const struct duet_msg *m = &r->out.msg;
    const duet_id *me = &op->cl->hub.user;
    const duet_id *peer = duet_id_eq(&m->sender, me) ? &m->receiver : &m->sender;
    answer_with_ref(op, proto_reaction_event(&m->chat_id, m->sequence, &r->out.reaction));
    if (!r->out.changed)
        return;
    publish_event(app, me, proto_reaction_event(&m->chat_id, m->sequence, &r->out.reaction),
                  op->cl);
    if (!r->out.hidden)
        publish_event(app, peer, proto_reaction_event(&m->chat_id, m->sequence, &r->out.reaction),
                      NULL);
    if (r->out.notify)
        ws_conv_reaction_notify(app, &m->sender, m, &r->out.reaction);
}

int ws_conv_start_react(struct chat_op *op)
{
    /* Each is a store write, an event to both and maybe a push. */
    if (op_take_message(op) < 0)
        return -1;
    store_req *q = op_prepare(op, STORE_MSG_REACT, react_done);
    q->in.chat_id = op->req.chat_id;
    q->in.seq = op->req.seq;
    q->in.emoji = op->req.emoji != NULL ? op->req.emoji : "";
    return op_submit(op);
}

/* ---- edit ---- */

static void edit_done(struct chat_op *op)
{
    struct app *app = op->cl->app;
    const struct duet_msg *m = &op->sreq.out.msg;
    answer_with_ref(op, proto_edited_event(m));
    publish_event(app, &m->sender, proto_edited_event(m), op->cl);
    if (!op->sreq.out.hidden) /* withheld from the receiver: they never had it */
        publish_event(app, &m->receiver, proto_edited_event(m), NULL);
}

int ws_conv_start_edit(struct chat_op *op)
{
    /* The old text is erased as a delete's is: the same budget. */
    if (op_take_erase(op) < 0)
        return -1;
    store_req *q = op_prepare(op, STORE_MSG_EDIT, edit_done);
    q->in.chat_id = op->req.chat_id;
    q->in.seq = op->req.seq;
    q->in.text = op->req.text;
    q->in.window_ms = op->cl->app->cfg->edit_window_s * 1000;
    return op_submit(op);
}

/* ---- hide (delete for me) ---- */

static void hide_done(struct chat_op *op)
{
    const struct duet_msg *m = &op->sreq.out.msg;
    answer_with_ref(op, proto_hidden_event(&m->chat_id, m->sequence));
    if (!op->sreq.out.unchanged)
        publish_event(op->cl->app, &op->cl->hub.user, proto_hidden_event(&m->chat_id, m->sequence),
                      op->cl);
}

int ws_conv_start_hide(struct chat_op *op)
{
    if (op_take_message(op) < 0)
        return -1;
    store_req *q = op_prepare(op, STORE_MSG_HIDE, hide_done);
    q->in.chat_id = op->req.chat_id;
    q->in.seq = op->req.seq;
    return op_submit(op);
}

/* ---- errors ---- */

const char *ws_conv_err_code(enum store_op op, int err)
{
    if (op == STORE_MSG_EDIT) {
        if (err == -EPERM)
            return "not_sender";
        if (err == DUET_EEXPIRED)
            return "edit_window_over";
        if (err == -EINVAL)
            return "not_editable";
    }
    if (op == STORE_MSG_SEND && err == DUET_EDELETED)
        return "already_deleted";
    if (op == STORE_MSG_SEND && err == -EOPNOTSUPP)
        return "not_forwardable";
    return NULL;
}

const char *ws_conv_err_message(enum store_op op, int err)
{
    switch (op) {
    case STORE_MSG_EDIT:
        if (err == -EPERM)
            return "you can edit only your own messages";
        if (err == DUET_EEXPIRED)
            return "the edit window is over";
        if (err == -EINVAL)
            return "only a text message can be edited";
        if (err == DUET_EDELETED)
            return "the message is deleted";
        return NULL;
    case STORE_MSG_REACT:
        return err == DUET_EDELETED ? "the message is deleted" : NULL;
    case STORE_MSG_SEND:
        if (err == DUET_ENOTFOUND)
            return "no such message to quote or forward";
        if (err == -EOPNOTSUPP)
            return "photos, videos, voice notes and files cannot be forwarded yet";
        return err == DUET_EDELETED ? "the message to forward is deleted" : NULL;
    default:
        return NULL;
    }
}
