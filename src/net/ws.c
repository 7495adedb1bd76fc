/* ws.c - WebSocket (RFC 6455) on a conn: wslay's event API
 * for framing, UTF-8 checks, pings, the output cap and the close handshake
 * (the opening handshake: ws_handshake.c; the pure helpers: ws_pure.c).
 *
 * wslay never touches the socket. Its recv callback drains conn->rbuf and its
 * send callback appends to conn->obuf, which conn.c writes out coalesced.
 * net_ws_send only queues in wslay; wslay_event_send runs from the conn's
 * pump, never from inside wslay_event_recv.
 */
#include "net_int.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

/* ---- wslay callbacks -------------------------------------------------------- */

static void ws_fail(net_conn *c, uint16_t code, const char *why);

enum { FRAME_PASS, FRAME_WAIT, FRAME_FAILED };

/* Looks at the header of the frame that starts at rbuf[roff] before wslay
 * sees a byte of it, and sets in_left to the frame's size. wslay 1.1.1 gets
 * three things wrong that this settles (RFC 6455 conformance, tested by
 * tests/integration/19-ws-conformance):
 *  - it checks a close reason's UTF-8 per read, skipping two bytes of every
 *    chunk, so a valid reason split across TCP reads was failed with 1007: a
 *    control frame (at most 139 bytes) is handed over only when complete, so
 *    wslay always sees its payload as one chunk;
 *  - it treats a close payload of 1 byte as "no status code", where the RFC
 *    makes it a protocol error: 1002 here;
 *  - it queues the close answer ahead of replies to messages that arrived
 *    before the close (control frames go first): the close is held back
 *    until those replies are out (net__ws_input).
 * It also fails a data frame longer than the message limit at its header,
 * not at its first payload byte. */
static int ws_frame_begin(net_conn *c)
{
    struct net__ws *ws = &c->u.ws;
    const uint8_t *p = (const uint8_t *)c->rbuf + c->roff;
    size_t avail = c->rlen - c->roff;
    if (avail < 2)
        return FRAME_WAIT;
    unsigned opcode = p[0] & 0x0f, len7 = p[1] & 0x7f;
    size_t hlen = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((p[1] & 0x80) ? 4 : 0);
    if (avail < hlen)
        return FRAME_WAIT;
    uint64_t plen = len7;
    if (len7 == 126)
        plen = (uint64_t)p[2] << 8 | p[3];
    else if (len7 == 127)
        for (int i = 0; i < 8; i++)
            plen = plen << 8 | p[2 + i];
    if (plen >> 63 != 0) { /* wslay refuses it at the header (1002) */
        ws->in_left = hlen;
        return FRAME_PASS;
    }
    int control = (opcode & 0x8) != 0;
    if (control && plen <= 125) {
        if (avail < hlen + plen)
            return FRAME_WAIT;
        if (opcode == WSLAY_CONNECTION_CLOSE && plen == 1) {
            ws_fail(c, WSLAY_CODE_PROTOCOL_ERROR, "close payload of 1 byte");
            return FRAME_FAILED;
        }
        if (opcode == WSLAY_CONNECTION_CLOSE && wslay_event_get_queued_msg_count(ws->ctx) > 0) {
            ws->close_held = 1;
            return FRAME_WAIT;
        }
    } else if (!control && plen > c->srv->opts.max_ws_msg_bytes) {
        ws_fail(c, WSLAY_CODE_MESSAGE_TOO_BIG, "message too big");
        return FRAME_FAILED;
    }
    ws->in_left = hlen + plen;
    return FRAME_PASS;
}

/* Hands wslay the bytes of at most one frame per call (see ws_frame_begin). */
static ssize_t ws_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *ud)
{
    net_conn *c = ud;
    struct net__ws *ws = &c->u.ws;
    (void)flags;
    size_t avail = c->rlen - c->roff;
    /* Paused: stop at the frame boundary; the rest waits in rbuf. */
    if (avail > 0 && ws->in_left == 0 &&
        ((ws->paused && !ws->closing) || ws_frame_begin(c) != FRAME_PASS))
        avail = 0;
    if (avail == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    if (len > avail)
        len = avail;
    if (len > ws->in_left)
        len = (size_t)ws->in_left;
    memcpy(buf, c->rbuf + c->roff, len);
    c->roff += len;
    ws->in_left -= len;
    ws->fed += len;
    return (ssize_t)len;
}

static ssize_t ws_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *ud)
{
    (void)flags;
    if (net__out_append(ud, data, len) < 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return (ssize_t)len;
}

/* Fails the connection: a close frame with code, and no more input. */
static void ws_fail(net_conn *c, uint16_t code, const char *why)
{
    struct net__ws *ws = &c->u.ws;
    ws->failed = 1;
    /* WSLAY_ERR_NO_MORE_MSG just means a close is already queued. */
    (void)wslay_event_queue_close(ws->ctx, code, (const uint8_t *)why, strlen(why));
    wslay_event_shutdown_read(ws->ctx);
    net__conn_mark(c);
}

static void on_frame_start(wslay_event_context_ptr ctx,
                           const struct wslay_event_on_frame_recv_start_arg *arg, void *ud)
{
    net_conn *c = ud;
    struct net__ws *ws = &c->u.ws;
    (void)ctx;
    /* The frame's size on the wire: clients mask every frame (wslay refuses
     * others), and lengths use the shortest form. Were a client to use a
     * longer one, the count would be off and the connection never parks. */
    uint64_t n = arg->payload_length;
    ws->frame_len = 2 + (n < 126 ? 0 : n < 65536 ? 2 : 8) + 4 + n;
    if (arg->opcode == WSLAY_TEXT_FRAME || arg->opcode == WSLAY_BINARY_FRAME ||
        arg->opcode == WSLAY_CONTINUATION_FRAME)
        ws->fragmented = !arg->fin;
    if (ws->failed)
        return;
    if (arg->opcode == WSLAY_TEXT_FRAME) {
        ws->in_text = 1;
        ws->utf8 = NET__UTF8_ACCEPT;
    } else if (arg->opcode == WSLAY_BINARY_FRAME) {
        ws->in_text = 0;
        ws_fail(c, WSLAY_CODE_UNSUPPORTED_DATA, "binary messages are not supported");
    }
    ws->frame_text =
        arg->opcode == WSLAY_TEXT_FRAME || (arg->opcode == WSLAY_CONTINUATION_FRAME && ws->in_text);
    ws->frame_fin = arg->fin;
}

/* wslay 1.1 checks UTF-8 too; checking here keeps on_ws_text's promise
 * whatever wslay version is linked. */
static void on_frame_chunk(wslay_event_context_ptr ctx,
                           const struct wslay_event_on_frame_recv_chunk_arg *arg, void *ud)
{
    net_conn *c = ud;
    struct net__ws *ws = &c->u.ws;
    (void)ctx;
    if (ws->failed || !ws->frame_text)
        return;
    ws->utf8 = net__utf8_feed(ws->utf8, arg->data, arg->data_length);
    if (ws->utf8 == NET__UTF8_REJECT)
        ws_fail(c, WSLAY_CODE_INVALID_FRAME_PAYLOAD_DATA, "invalid UTF-8");
}

static void on_frame_end(wslay_event_context_ptr ctx, void *ud)
{
    net_conn *c = ud;
    struct net__ws *ws = &c->u.ws;
    (void)ctx;
    ws->framed += ws->frame_len;
    if (!ws->failed && ws->frame_text && ws->frame_fin && ws->utf8 != NET__UTF8_ACCEPT)
        ws_fail(c, WSLAY_CODE_INVALID_FRAME_PAYLOAD_DATA, "invalid UTF-8");
}

static void on_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                   void *ud)
{
    net_conn *c = ud;
    struct net__ws *ws = &c->u.ws;
    if (arg->opcode == WSLAY_PONG) {
        if (net__ws_pong_matches(ws->ping_id, arg->msg, arg->msg_length))
            ws->awaiting_pong = 0;
        return;
    }
    /* wslay has queued the answer to a ping: a peer that pings and never
     * reads would grow the output without bound, the app's cap aside. */
    if (arg->opcode == WSLAY_PING && !ws->failed &&
        net__out_pending(c) + wslay_event_get_queued_msg_length(ctx) >
            c->srv->opts.max_ws_queue_bytes) {
        ws_fail(c, WSLAY_CODE_POLICY_VIOLATION, "output queue full");
        return;
    }
    /* Once closing, the app hears nothing more; wslay answers pings itself. */
    if (arg->opcode != WSLAY_TEXT_FRAME || ws->failed || ws->closing || c->closed)
        return;
    ws->in_text = 0;
    net_server *s = c->srv;
    if (s->opts.app_cb.on_ws_text != NULL)
        s->opts.app_cb.on_ws_text(s->opts.app, c, arg->msg ? (const char *)arg->msg : "",
                                  arg->msg_length);
}

static const struct wslay_event_callbacks ws_callbacks = {
    .recv_callback = ws_recv,
    .send_callback = ws_send,
    .on_frame_recv_start_callback = on_frame_start,
    .on_frame_recv_chunk_callback = on_frame_chunk,
    .on_frame_recv_end_callback = on_frame_end,
    .on_msg_recv_callback = on_msg,
};

/* ---- parking ------------------------------------------------------------------ */

/* Makes the wslay context of a parked connection again. */
static int ws_unpark(net_conn *c)
{
    struct net__ws *ws = &c->u.ws;
    if (ws->ctx != NULL)
        return 0;
    if (wslay_event_context_server_init(&ws->ctx, &ws_callbacks, c) != 0) {
        ws->ctx = NULL;
        return -ENOMEM;
    }
    wslay_event_config_set_max_recv_msg_length(ws->ctx, c->srv->opts.max_ws_msg_bytes);
    return 0;
}

/* Frees the context when it holds nothing: every byte wslay took was part
 * of a whole frame (so its input buffer is empty and it waits for a frame
 * header), no message is half received, nothing is queued to send, and no
 * close is under way. */
static int ws_park(net_conn *c)
{
    struct net__ws *ws = &c->u.ws;
    if (ws->ctx == NULL || c->closed || ws->closing || ws->failed || ws->fragmented ||
        ws->close_held || ws->in_left != 0 || ws->fed != ws->framed || c->roff != c->rlen ||
        wslay_event_want_write(ws->ctx) || !wslay_event_get_read_enabled(ws->ctx) ||
        wslay_event_get_close_received(ws->ctx) || wslay_event_get_close_sent(ws->ctx))
        return 0;
    wslay_event_context_free(ws->ctx);
    ws->ctx = NULL;
    c->srv->n_parked_new++;
    return 1;
}

/* ---- driving wslay ------------------------------------------------------------ */

/* Moves wslay's queue into obuf and follows the close handshake. */
static void ws_output(net_conn *c)
{
    struct net__ws *ws = &c->u.ws;
    if (wslay_event_want_write(ws->ctx) && wslay_event_send(ws->ctx) < 0) {
        net__conn_drop(c);
        return;
    }
    if (!wslay_event_get_close_sent(ws->ctx))
        return;
    if (!ws->closing) { /* answering the peer's close, or failing */
        ws->closing = 1;
        net__timer_set(c, NET__T_CLOSE, NET__CLOSE_MS);
    }
    /* Read is off once the peer's close arrived (or we failed): done. */
    if (!wslay_event_get_read_enabled(ws->ctx))
        net__conn_finish(c);
}

/* wslay gave up on the input (e.g. an oversized or fragmented control
 * frame). Tell the peer why with a close frame (RFC 6455 7.1.7) written
 * directly, since wslay will send nothing more, then close. */
static void ws_abort(net_conn *c, int err)
{
    static const unsigned char close_1002[] = {0x88, 0x02, 0x03, 0xEA};
    /* wslay reports its own protocol errors as callback failures too. */
    if (err == WSLAY_ERR_NOMEM || net__out_append(c, close_1002, sizeof(close_1002)) < 0) {
        net__conn_drop(c);
        return;
    }
    c->roff = c->rlen;
    net__conn_finish(c);
}

/* The answers to our pings keep a connection parked: whole pongs at the
 * front of the input (final, masked, no RSV bits, at most 125 bytes, as the
 * RFC requires; anything else goes to wslay) are consumed here. Their
 * payload means nothing to us. */
static void ws_parked_pongs(net_conn *c)
{
    while (c->rlen - c->roff >= 2) {
        const uint8_t *p = (const uint8_t *)c->rbuf + c->roff;
        size_t len = p[1] & 0x7fu;
        if (p[0] != (0x80 | WSLAY_PONG) || !(p[1] & 0x80) || len > 125 ||
            c->rlen - c->roff < 2 + 4 + len)
            return;
        if (net__ws_pong_matches_masked(c->u.ws.ping_id, p + 2, p + 6, len))
            c->u.ws.awaiting_pong = 0;
        c->roff += 2 + 4 + len;
    }
}

void net__ws_input(net_conn *c)
{
    struct net__ws *ws = &c->u.ws;
    ws->busy = 1;
    if (ws->ctx == NULL) {
        ws_parked_pongs(c);
        if (c->roff == c->rlen)
            return; /* parked, and nothing (but pongs) came */
        if (ws_unpark(c) < 0) {
            net__conn_drop(c);
            return;
        }
    }
    /* A second pass reads a peer's close that waited for our replies to
     * what came before it; they are in obuf after the first pass. */
    for (int pass = 0; pass < 2; pass++) {
        ws->close_held = 0;
        if (c->roff < c->rlen && wslay_event_get_read_enabled(ws->ctx)) {
            int r = wslay_event_recv(ws->ctx);
            if (c->closed)
                return;
            if (r < 0) {
                ws_abort(c, r);
                return;
            }
        }
        /* After a close or an error wslay reads nothing more: drop the rest. */
        if (!wslay_event_get_read_enabled(ws->ctx))
            c->roff = c->rlen;
        ws_output(c);
        if (c->closed || !ws->close_held)
            return;
    }
}

void net__ws_sweep(net_conn *c)
{
    if (c->u.ws.busy) {
        c->u.ws.busy = 0;
        return;
    }
    (void)ws_park(c);
}

int net__ws_wants_read(const net_conn *c)
{
    /* Closing, the peer's close is read whatever the app asked. */
    if (c->u.ws.paused && !c->u.ws.closing)
        return 0;
    /* a parked connection waits for its next frame */
    return c->u.ws.ctx == NULL || wslay_event_get_read_enabled(c->u.ws.ctx);
}

/* Queues a ping whose payload is a new id (net__ws_pong_matches). */
static int ws_ping(net_conn *c)
{
    struct net__ws *ws = &c->u.ws;
    uint8_t frame[NET__WS_PING_LEN];
    net__ws_ping_frame(frame, ++ws->ping_id);
    if (ws->ctx == NULL) {
        /* parked: nothing queued in wslay, so the ping can go straight out
         * (and ws_parked_pongs takes the answer) */
        if (net__out_append(c, frame, sizeof(frame)) < 0)
            return -ENOMEM;
        ws->awaiting_pong = 1;
        return 0;
    }
    struct wslay_event_msg ping = {WSLAY_PING, frame + 2, sizeof(frame) - 2};
    if (wslay_event_queue_msg(ws->ctx, &ping) == 0) {
        ws->awaiting_pong = 1;
        net__conn_mark(c);
    }
    return 0;
}

void net__ws_timeout(net_conn *c)
{
    struct net__ws *ws = &c->u.ws;
    /* A peer that does not read holds our output (and what the app keeps
     * for it) forever, pongs or not: output that did not move for two
     * intervals in a row closes the connection. */
    if (net__out_pending(c) > 0 && !c->wrote) {
        if (++ws->stall_ticks >= 2) {
            net__conn_drop(c);
            return;
        }
    } else {
        ws->stall_ticks = 0;
    }
    c->wrote = 0;
    if (ws->awaiting_pong && !ws->paused) { /* no pong since the last ping: the peer is gone */
        net__conn_drop(c);
        return;
    }
    /* While paused the pong waits unread in the socket: the output's
     * progress (above) tells whether the peer is there. */
    if (!ws->awaiting_pong && ws_ping(c) < 0) {
        net__conn_drop(c);
        return;
    }
    net__timer_set(c, NET__T_PING, c->srv->opts.ws_ping_ms);
}

void net__ws_begin_close(net_conn *c, uint16_t code, const char *reason)
{
    if (c->closed || !c->is_ws)
        return;
    struct net__ws *ws = &c->u.ws;
    if (ws->closing || ws->failed)
        return;
    /* A close reason is at most 123 bytes; cut on a UTF-8 boundary. */
    size_t len = reason ? strlen(reason) : 0;
    if (len > 123) {
        len = 123;
        while (len > 0 && ((uint8_t)reason[len] & 0xC0) == 0x80)
            len--;
    }
    if (ws_unpark(c) < 0) {
        net__conn_drop(c);
        return;
    }
    if (wslay_event_queue_close(ws->ctx, code, (const uint8_t *)reason, len) != 0)
        return;
    ws->closing = 1;
    net__timer_set(c, NET__T_CLOSE, NET__CLOSE_MS);
    net__conn_mark(c);
}

void net__ws_free(net_conn *c)
{
    if (c->u.ws.ctx != NULL)
        wslay_event_context_free(c->u.ws.ctx);
    c->u.ws.ctx = NULL;
}

/* ---- public API ------------------------------------------------------------------ */

/* A parked connection has nothing queued in wslay (ws_park), so a message
 * can go straight into obuf, after what is already there, in the frame wslay
 * would make (one unmasked frame with FIN): sending to a quiet connection
 * (the hello and backlog of a new session, a message to a user who is not
 * typing) needs no wslay context. */
static int ws_send_parked(net_conn *c, const char *data, size_t len)
{
    uint8_t hdr[10];
    size_t hlen = net__ws_frame_header(hdr, WSLAY_TEXT_FRAME, len);
    /* reserve both first: never a header without its payload */
    int r = net__out_reserve(c, hlen + len);
    if (r < 0)
        return r;
    if ((r = net__out_append(c, hdr, hlen)) < 0 || (r = net__out_append(c, data, len)) < 0)
        return r; /* not reached: the room is reserved */
    return 0;
}

int net_ws_send(net_conn *c, const char *data, size_t len)
{
    if (c->closed || !c->is_ws)
        return -EPIPE;
    struct net__ws *ws = &c->u.ws;
    if (ws->closing || ws->failed)
        return -EPIPE;
    size_t queued = net__out_pending(c);
    if (ws->ctx != NULL)
        queued += wslay_event_get_queued_msg_length(ws->ctx);
    size_t cap = c->srv->opts.max_ws_queue_bytes;
    if (len > cap || queued > cap - len) {
        if (ws_unpark(c) < 0) { /* the close frame goes through wslay */
            net__conn_drop(c);
            return -ENOMEM;
        }
        ws_fail(c, WSLAY_CODE_POLICY_VIOLATION, "output queue full");
        return -ENOBUFS;
    }
    if (ws->ctx == NULL)
        return ws_send_parked(c, data, len);
    struct wslay_event_msg msg = {WSLAY_TEXT_FRAME, (const uint8_t *)data, len};
    int r = wslay_event_queue_msg(ws->ctx, &msg);
    if (r == WSLAY_ERR_NOMEM)
        return -ENOMEM;
    if (r != 0)
        return -EPIPE;
    net__conn_mark(c);
    return 0;
}

size_t net_ws_queued(net_conn *c)
{
    if (c->closed || !c->is_ws)
        return 0;
    size_t n = net__out_pending(c);
    if (c->u.ws.ctx != NULL)
        n += wslay_event_get_queued_msg_length(c->u.ws.ctx);
    return n;
}

void net_ws_want_drain(net_conn *c)
{
    if (c->closed || !c->is_ws)
        return;
    c->u.ws.want_drain = 1;
    net__conn_mark(c); /* pump checks it, even if nothing is queued now */
}

/* Called by pump after output moved on: pays an owed on_ws_drain. */
void net__ws_drained(net_conn *c)
{
    struct net__ws *ws = &c->u.ws;
    /* The write in flight may still be going out: the next slice is made
     * meanwhile, so the socket never waits for the application. */
    if (!ws->want_drain || ws->closing || c->olen > 0 ||
        (ws->ctx != NULL && wslay_event_get_queued_msg_length(ws->ctx) > 0))
        return;
    ws->want_drain = 0;
    if (c->srv->opts.app_cb.on_ws_drain != NULL)
        c->srv->opts.app_cb.on_ws_drain(c->srv->opts.app, c);
}

void net_ws_pause(net_conn *c, int paused)
{
    if (c->closed || !c->is_ws || c->u.ws.paused == (unsigned)(paused != 0))
        return;
    c->u.ws.paused = paused != 0;
    /* Resuming: the pump reads what waits in rbuf, then the socket. */
    net__conn_mark(c);
}

void net_ws_close(net_conn *c, uint16_t code, const char *reason)
{
    net__ws_begin_close(c, code, reason);
}
