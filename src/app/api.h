/* api.h - the HTTP API (api.c routes to the handlers of api_users.c and
 * api_social.c; api_int.h is what they share). */
#ifndef DUET_API_H
#define DUET_API_H

#include "../net/net.h"

/* HTTP entry point (net_app.on_request); app is the struct app. */
void api_on_request(void *app, net_conn *c, net_request *req);

#endif
