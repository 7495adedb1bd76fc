/* ws_requests.h - the WebSocket requests run (ws_requests.c): each frame is
 * decoded (proto_req.h), becomes one store request, and its completion
 * answers the sender and fans events out through the hub. */
#ifndef DUET_WS_REQUESTS_H
#define DUET_WS_REQUESTS_H

#include "client.h"

/* Runs one text frame of cl's WebSocket. */
void ws_requests_on_text(struct client *cl, const char *data, size_t len);

#endif
