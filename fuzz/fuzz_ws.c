/* fuzz_ws.c - WebSocket frames in both directions, through duet's own code:
 * a fixed, valid upgrade request makes net_ws_accept turn a socketless conn
 * (fuzz_conn.h) into a WebSocket with ws.c's wslay server context and
 * callbacks (UTF-8 validation, binary refusal, size limit, close handling);
 * then the input is fed to it as frames from the client.
 *
 * Input: byte 0 picks the read size (0: all at once); the rest is the
 * client's byte stream. Every text message the app receives is echoed back
 * with net_ws_send (the output queue cap is small), and between reads the
 * ping timer fires now and then.
 *
 * Oracles besides the sanitizers:
 *  - on_ws_text only ever sees complete, valid UTF-8 within the size limit;
 *  - everything the server writes after its 101 parses cleanly in a wslay
 *    client context (the other direction), text included, and nothing
 *    follows the server's close frame. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/base/text.h"
#include "fuzz_conn.h"

#define MAX_MSG   1024
#define MAX_QUEUE 4096

static const char handshake[] = "GET /ws HTTP/1.1\r\n"
                                "Host: duet.test\r\n"
                                "Upgrade: websocket\r\n"
                                "Connection: Upgrade\r\n"
                                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                "Sec-WebSocket-Version: 13\r\n"
                                "\r\n";

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_ws: oracle failed: %s\n", what);
        abort();
    }
}

/* ---- the client side: parses what the server sends ---- */

static struct {
    wslay_event_context_ptr ctx;
    int seen_101;
    int got_close;
    char *buf; /* server output not yet parsed */
    size_t off, len;
} cli;

static ssize_t cli_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *ud)
{
    (void)flags;
    (void)ud;
    size_t avail = cli.len - cli.off;
    if (avail == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    if (len > avail)
        len = avail;
    memcpy(buf, cli.buf + cli.off, len);
    cli.off += len;
    return (ssize_t)len;
}

static ssize_t cli_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                        void *ud)
{
    (void)ctx, (void)data, (void)flags, (void)ud;
    return (ssize_t)len; /* the client's own frames go nowhere */
}

static int cli_genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *ud)
{
    (void)ctx, (void)ud;
    memset(buf, 0x5a, len);
    return 0;
}

static void cli_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                    void *ud)
{
    (void)ctx, (void)ud;
    if (arg->opcode == WSLAY_TEXT_FRAME)
        check(text_utf8_valid((const char *)arg->msg, arg->msg_length),
              "server sent a text message that is not UTF-8");
    if (arg->opcode == WSLAY_CONNECTION_CLOSE)
        cli.got_close = 1;
}

static const struct wslay_event_callbacks cli_cb = {
    .recv_callback = cli_recv,
    .send_callback = cli_send,
    .genmask_callback = cli_genmask,
    .on_msg_recv_callback = cli_msg,
};

static void on_output(net_conn *c, const char *data, size_t len)
{
    (void)c;
    if (!cli.seen_101) {
        const char *end = memmem(data, len, "\r\n\r\n", 4);
        check(end != NULL && len >= 12 && memcmp(data, "HTTP/1.1 101", 12) == 0,
              "the handshake was not answered with 101 in one piece");
        cli.seen_101 = 1;
        len -= (size_t)(end + 4 - data);
        data = end + 4;
        if (len == 0)
            return;
    }
    check(!cli.got_close, "the server wrote after its close frame");
    char *nb = realloc(cli.buf, cli.len + len);
    check(nb != NULL, "out of memory");
    cli.buf = nb;
    memcpy(cli.buf + cli.len, data, len);
    cli.len += len;
    check(wslay_event_recv(cli.ctx) == 0, "the server sent a malformed frame");
}

/* ---- the server side ---- */

static void on_request(void *app, net_conn *c, net_request *req)
{
    (void)app, (void)req;
    check(net_ws_accept(c) == 0, "the fixed handshake was refused");
}

static void on_ws_text(void *app, net_conn *c, const char *data, size_t len)
{
    (void)app;
    check(len <= MAX_MSG, "a message over the size limit reached the app");
    check(text_utf8_valid(data, len), "a message that is not UTF-8 reached the app");
    /* -ENOBUFS (the cap: the conn fails with 1008) and -EPIPE are answers. */
    (void)net_ws_send(c, data, len);
}

static net_server *server(void)
{
    static net_server *s;
    if (s != NULL)
        return s;
    struct net_server_opts o = {
        .max_header_bytes = 4096,
        .max_body_bytes = 1024,
        .max_ws_msg_bytes = MAX_MSG,
        .max_ws_queue_bytes = MAX_QUEUE,
        .header_timeout_ms = 10000,
        .idle_timeout_ms = 60000,
        .ws_ping_ms = 30000,
        .app_cb = {.on_request = on_request, .on_ws_text = on_ws_text},
    };
    s = fz_server(&o, on_output);
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    net_server *s = server();
    if (size == 0)
        return 0;
    size_t chunk = data[0] == 0 ? size : data[0];
    data++, size--;
    memset(&cli, 0, sizeof(cli));
    check(wslay_event_context_client_init(&cli.ctx, &cli_cb, NULL) == 0, "client context");
    net_conn *c = fz_conn_open(s);
    fz_conn_feed(c, (const uint8_t *)handshake, sizeof(handshake) - 1);
    check(c->is_ws, "the upgrade did not happen");
    size_t n = 0;
    for (size_t off = 0; off < size && fz_conn_alive(c); off += chunk, n++) {
        fz_conn_feed(c, data + off, size - off < chunk ? size - off : chunk);
        if (n % 4 == 3 && fz_conn_alive(c)) /* the ping timer fires */
            net__ws_timeout(c);
    }
    fz_conn_close(c);
    wslay_event_context_free(cli.ctx);
    free(cli.buf);
    return 0;
}
