/* static.h - serves the web client's files from a folder. */
#ifndef DUET_STATIC_H
#define DUET_STATIC_H

#include "net.h"

/* Answers a GET or HEAD for req->path from files under root ("/" serves
 * index.html). Never leaves root (no "..", no symlinks out of it). 404 with a
 * JSON error when there is no such file, 405 for other methods. */
void static_serve(net_conn *c, const net_request *req, const char *root);

#endif
