/* static_ver.h - the web folder's version, for content-versioned URLs.
 *
 * index.html names its scripts and stylesheet under "v/@V@/…"; static.c
 * replaces @V@ with the folder's version and serves "/v/<version>/x" as
 * "/x" with "Cache-Control: immutable". Any change to any file changes the
 * version, so a reload costs one request for index.html and nothing else. */
#ifndef DUET_STATIC_VER_H
#define DUET_STATIC_VER_H

#include <stddef.h>

#define STATIC_VER_LEN   16 /* hex digits */
#define STATIC_VER_TOKEN "@V@"

/* The version of the files under root (names, sizes, mtimes, inodes; not
 * their content: one stat per file). 0, or a negative errno. */
int static_version(const char *root, char out[STATIC_VER_LEN + 1]);

/* A copy of data with every STATIC_VER_TOKEN replaced by ver; the caller
 * frees *out. 0, or -ENOMEM. */
int static_ver_subst(const char *data, size_t len, const char *ver, char **out, size_t *out_len);

#endif
