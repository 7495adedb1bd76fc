/* proto_req.h - the WebSocket requests decoded: one function turns a text
 * frame into a typed request with every field validated (docs/protocol.md),
 * so that ws_requests.c only runs requests. The history parameters' check is shared
 * with the HTTP history route (api_social.c). */
#ifndef DUET_PROTO_REQ_H
#define DUET_PROTO_REQ_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/duet.h"
#include "media_meta.h"

enum proto_req_type {
    PROTO_REQ_SEND,
    PROTO_REQ_ACK,
    PROTO_REQ_SEEN,
    PROTO_REQ_TYPING,
    PROTO_REQ_DELETE,
    PROTO_REQ_HISTORY,
    PROTO_REQ_PING,
    PROTO_REQ_VISIBILITY, /* {visible: bool}: Web Push (ws_visibility.c) */
    /* issue 17 (c-msg) */
    PROTO_REQ_REACT,
    PROTO_REQ_EDIT,
    PROTO_REQ_HIDE,
};

/* A history page: before=0 is "no bound"; a request's before=0 ("before the
 * first message", an empty page) is kept as before=1, the store's spelling. */
struct proto_history {
    int64_t before, after;
    int has_after;
    int limit; /* 1..100 */
};

/* The history parameters as read (from JSON or a query string): has_* is 1
 * when present, 0 when absent, -1 when malformed. */
struct proto_history_in {
    int has_before, has_after, has_limit;
    int64_t before, after, limit;
};

/* One decoded request.
 * Ownership: owns frame (one reference); ref, request, id and text borrow
 * from it, so they live until proto_request_free. A frame decoded without
 * jansson (proto_parse_fast) has frame NULL; then ref, when set, is its own
 * reference, and a send's id and text borrow from own (one allocation, each
 * string NUL-terminated); an ack or seen has ref and own NULL. */
struct proto_request {
    json_t *frame;
    json_t *ref;         /* NULL when absent */
    char *own;           /* a fast-decoded send's id and text; else NULL */
    const char *request; /* the type, for error events: static once known */
    enum proto_req_type type;
    duet_id chat_id; /* all but ping */
    int64_t seq;     /* ack, seen (>= 0), delete (>= 1) */
    int kind;        /* ack: enum duet_pending_kind order (message, delivered, seen, deleted) */
    const char *id;  /* send: the client's message id */
    size_t id_len;
    const char *text; /* send: 1..max_chars characters */
    size_t text_len;
    struct proto_history history; /* history */
    int visible;                  /* visibility */
    /* send with media (issue 15): the validated media object; its strings
     * borrow from frame. */
    int has_media;
    struct media_meta media;
    /* issue 17 (c-msg) */
    const char *emoji; /* react: NULL or "" removes */
    int64_t reply_to;  /* send: 0 = none */
    int has_forward;   /* send: forward {chat_id, seq} instead of text */
    duet_id fwd_chat;
    int64_t fwd_seq;
};

/* Why a frame was refused: err and code as client_send_error takes them
 * (code NULL: derived from err). */
struct proto_req_error {
    int err;
    const char *code;
    char message[96];
};

/* Decodes and validates a frame. 0, or -1 with *e filled; either way
 * out->request and out->ref name what to answer (request may be NULL) and
 * the caller calls proto_request_free(out). max_chars bounds a send's text. */
int proto_parse_request(const char *data, size_t len, int64_t max_chars, struct proto_request *out,
                        struct proto_req_error *e);
void proto_request_free(struct proto_request *r);
/* The two decoders proto_parse_request runs: the fast one (proto_fast.c)
 * for plain `ack` and `seen` frames (issue 18, round 4) and plain `send`
 * frames (round 8) (1: decoded, frame NULL, free with proto_request_free;
 * 0: not one it reads, or out of memory: nothing set), then the full one
 * (jansson). Exposed for the fuzzer, which checks that they agree. */
int proto_parse_fast(const char *data, size_t len, int64_t max_chars, struct proto_request *out);
int proto_parse_json(const char *data, size_t len, int64_t max_chars, struct proto_request *out,
                     struct proto_req_error *e);

/* Checks history parameters; 0, or -1 with *bad a message. */
int proto_history_check(const struct proto_history_in *in, struct proto_history *out,
                        const char **bad);

#endif
