/* static.h - serves the web client's files from a folder. */
#ifndef DUET_STATIC_H
#define DUET_STATIC_H

#include "net.h"

/* Answers a GET or HEAD for req->path from files under root ("/" serves
 * index.html). Never leaves root (no "..", no symlinks out of it). 404 with a
 * JSON error when there is no such file, 405 for other methods. Every answer
 * carries the security headers (CSP and friends); files carry an ETag with
 * "Cache-Control: no-cache" (304 on If-None-Match), and text over 1 KiB is
 * sent gzip'd to clients that accept it. */
void static_serve(net_conn *c, const net_request *req, const char *root);

/* Frees the in-memory copies of the files served so far (at exit). */
void static_cache_free(void);

#endif
