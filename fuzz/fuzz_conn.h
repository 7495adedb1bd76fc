/* fuzz_conn.h - drives the real HTTP/WebSocket code of src/net on a
 * connection that has no socket, for the libFuzzer targets.
 *
 * A fake server and conn are set up the way server.c's on_connection does;
 * the input is placed in conn->rbuf and net__http_input / net__ws_input are
 * called the way server.c's pump does. Output is handed to a hook and then
 * discarded (as if written), so no uv_write ever runs. Closing goes through
 * net__conn_drop and the loop runs the close callbacks, so the real freeing
 * code runs too. */
#ifndef DUET_FUZZ_CONN_H
#define DUET_FUZZ_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "../src/net/net_int.h"

/* Called with every chunk of output the conn produced. */
typedef void (*fz_output_fn)(net_conn *c, const char *data, size_t len);

/* The fake server (created once per process); opts.app_cb and limits must be
 * filled by the caller. Aborts on failure. */
net_server *fz_server(const struct net_server_opts *opts, fz_output_fn out);
/* A new conn in the state of a freshly accepted one. */
net_conn *fz_conn_open(net_server *s);
/* Appends len bytes to the conn's input and processes as much as it can. */
void fz_conn_feed(net_conn *c, const uint8_t *data, size_t len);
/* Whether the conn still reads (not closed, not finishing). */
int fz_conn_alive(const net_conn *c);
/* Closes the conn and runs the loop until its memory is freed. */
void fz_conn_close(net_conn *c);

#endif
