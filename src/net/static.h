/* static.h - serves the web client's files from a folder. */
#ifndef DUET_STATIC_H
#define DUET_STATIC_H

#include "net.h"

struct static_file;

/* The in-memory copies of the files served so far (content, ETag, gzip
 * form), each revalidated with one stat() per request. Ownership: the
 * server's owner (struct app), one per loop and used on it only; starts
 * zeroed, static_cache_free at exit. */
struct static_cache {
    struct static_file **files;
    size_t n, cap, bytes;
};

/* Answers a GET or HEAD for req->path from files under root ("/" serves
 * index.html). Never leaves root (no "..", no symlinks out of it). 404 with a
 * JSON error when there is no such file, 405 for other methods. Every answer
 * carries the security headers (CSP and friends); files carry an ETag with
 * "Cache-Control: no-cache" (304 on If-None-Match), and text over 1 KiB is
 * sent gzip'd to clients that accept it. */
void static_serve(struct static_cache *sc, net_conn *c, const net_request *req, const char *root);

/* static_serve with `media_origin` ("https://s3.example.com", or NULL)
 * allowed by the page's Content-Security-Policy in img-src, media-src and
 * connect-src: media served from S3 through presigned redirects (--media
 * s3; the browser follows the redirect to that origin). */
void static_serve_csp(struct static_cache *sc, net_conn *c, const net_request *req,
                      const char *root, const char *media_origin);

#define STATIC_SEC_MAX 2048 /* the security headers with an origin added */

/* Copies the header lines `headers` into out with `origin` appended to the
 * img-src, media-src and connect-src directives of its
 * Content-Security-Policy line (each added as "'self' <origin>" when
 * absent). The origin must be "http(s)://host[:port]" with nothing else.
 * Length, or -EINVAL (a bad origin, no CSP line), -ENOSPC. */
int static_csp_add_origin(const char *headers, const char *origin, char *out, size_t cap);

/* Frees the in-memory copies of the files served so far (at exit). */
void static_cache_free(struct static_cache *sc);

#endif
