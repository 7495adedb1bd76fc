/* ws_op.h - one WebSocket request in flight, shared by ws_requests.c (the
 * requests of the seed), ws_typing.c and ws_conv.c (issue 17's react, edit,
 * hide). */
#ifndef DUET_WS_OP_H
#define DUET_WS_OP_H

#include "cache.h"
#include "client.h"
#include "proto_req.h"

/* One WebSocket request in flight.
 * Ownership: holds a reference on its client and owns the decoded request
 * (the store borrows strings from its frame); freed by op_free. */
struct chat_op {
    struct client *cl;
    struct proto_request req;
    json_t *ref;         /* borrowed from req */
    const char *request; /* static type name */
    store_req sreq;
    uint64_t t0; /* uv_hrtime at receipt */
    void (*done)(struct chat_op *op);
    char cache_key[CACHE_KEY_MAX]; /* typing: the check's cache entry */
    char *cache_gen;               /* set on a miss: fill it after the read */
    struct pipe_slot *slot;        /* the answer's place; NULL once answered */
    int again;                     /* done() submitted sreq again: not finished */
    char *media_json;              /* send with media: msg.media (malloc'd) */
    char media_mime[128];          /* ... the type it is served as (outlives the check's req) */
};

/* ws_requests.c: answers the requester with ev (steals it; once per op). */
void op_answer(struct chat_op *op, json_t *ev);
/* Initialises op's store request for type; done runs on success. */
store_req *op_prepare(struct chat_op *op, enum store_op type, void (*done)(struct chat_op *));
/* Submits it: 0, or -1 after answering the error. */
int op_submit(struct chat_op *op);
/* Takes one of the user's message budget (a send, and the writes that
 * reach the peer or the store as often as a client likes: reactions and
 * hides): 0, or -1 after answering rate_limited. */
int op_take_message(struct chat_op *op);
/* Takes one of the user's erase budget (a delete or an edit makes the
 * store erase): 0, or -1 after answering rate_limited. */
int op_take_erase(struct chat_op *op);

/* Frees op, answering nothing if it still holds its slot (close of an op
 * that needs no answer). */
void op_free(struct chat_op *op);
/* Answers rate_limited with retry_after_ms; the message names the request. */
void op_rate_limited(struct chat_op *op, int64_t wait_ms);

/* ws_typing.c: the typing start (0, or -1 when nothing is in flight). */
int ws_typing_start(struct chat_op *op);

/* ws_conv.c: the starts (0, or -1 when nothing is in flight). */
int ws_conv_start_react(struct chat_op *op);
int ws_conv_start_edit(struct chat_op *op);
int ws_conv_start_hide(struct chat_op *op);
/* The error code and message of a failed store op of issue 17, where they
 * differ from the generic ones; NULL otherwise. */
const char *ws_conv_err_code(enum store_op op, int err);
const char *ws_conv_err_message(enum store_op op, int err);

#endif
