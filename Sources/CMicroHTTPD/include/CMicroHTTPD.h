// A fixed-shape wrapper around libmicrohttpd, whose start function is variadic
// and does not import into Swift. libmicrohttpd parses every request (headers,
// limits, timeouts); this shim only starts and stops a daemon and hands each
// request's method and path to one callback, which fills in a reply. No logic
// about what is served lives here.
#ifndef MONITOR_CMICROHTTPD_H
#define MONITOR_CMICROHTTPD_H

#include <stddef.h>
#include <stdint.h>

/// A running daemon and what its callback needs; owned by the caller until cmhd_stop.
typedef struct cmhd_server cmhd_server;

/// What the callback answers. `body` is malloc'd by the callback (or NULL for an
/// empty body) and freed by libmicrohttpd once sent; the strings are static.
typedef struct {
    unsigned status;
    const char *content_type;
    char *body;
    size_t length;
    /// Sent as "Allow: <allow>" when not NULL (405 answers).
    const char *allow;
    /// Nonzero: gzip the body when the client accepts it (Prometheus does) and
    /// it is large enough to gain; /metrics for 10,000 nodes shrinks tenfold.
    int compress;
} cmhd_reply;

typedef void (*cmhd_handler)(void *context, const char *method, const char *path, cmhd_reply *reply);

typedef struct {
    /// An IPv4 or IPv6 literal (no brackets).
    const char *host;
    /// 0: any free port (read it back with cmhd_port).
    uint16_t port;
    /// Threads that accept and answer (libmicrohttpd's thread pool).
    unsigned threads;
    /// Open connections at most, all clients together; more are refused at accept.
    unsigned connection_limit;
    /// Per client address.
    unsigned per_ip_limit;
    /// Seconds a connection may stay idle (a slow request included) before it is closed.
    unsigned timeout_sec;
    /// Bytes of memory per connection for the request line and headers: a
    /// larger request is answered 431/414 by libmicrohttpd.
    size_t connection_memory;
} cmhd_options;

/// Starts serving; NULL with *error_number set (errno-style) when it cannot
/// (address in use, bad host, ...).
cmhd_server *cmhd_start(const cmhd_options *options, cmhd_handler handler, void *context, int *error_number);
/// The port bound (useful with port 0); 0 when unknown.
uint16_t cmhd_port(cmhd_server *server);
/// Stops accepting, closes every connection, joins the threads and frees `server`.
void cmhd_stop(cmhd_server *server);

#endif
