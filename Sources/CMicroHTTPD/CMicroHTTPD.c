#include "CMicroHTTPD.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include <zlib.h>

// Bodies smaller than this go out as they are: gzip would gain too little.
#define CMHD_COMPRESS_MIN 4096

// gzip (level 1: most of the gain for a fraction of the CPU of higher levels)
// of `body`; on success replaces it (freeing the old one) and returns 1.
static int cmhd_gzip(char **body, size_t *length) {
    z_stream stream;
    memset(&stream, 0, sizeof stream);
    if (deflateInit2(&stream, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return 0;
    uLong bound = deflateBound(&stream, (uLong)*length);
    char *out = malloc(bound);
    if (out == NULL) {
        deflateEnd(&stream);
        return 0;
    }
    stream.next_in = (Bytef *)*body;
    stream.avail_in = (uInt)*length;
    stream.next_out = (Bytef *)out;
    stream.avail_out = (uInt)bound;
    int done = deflate(&stream, Z_FINISH) == Z_STREAM_END;
    size_t written = stream.total_out;
    deflateEnd(&stream);
    if (!done) {
        free(out);
        return 0;
    }
    free(*body);
    *body = out;
    *length = written;
    return 1;
}

static int cmhd_accepts_gzip(struct MHD_Connection *connection) {
    const char *accepted = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
    return accepted != NULL && strstr(accepted, "gzip") != NULL;
}

struct cmhd_server {
    struct MHD_Daemon *daemon;
    cmhd_handler handler;
    void *context;
};

// One call per request: libmicrohttpd has already read and checked the request
// line and headers. A body (from a non-GET) is not read: the answer is queued at
// once and libmicrohttpd closes the connection after it.
static enum MHD_Result cmhd_access(void *cls, struct MHD_Connection *connection, const char *url,
                                   const char *method, const char *version, const char *upload_data,
                                   size_t *upload_data_size, void **request_context) {
    (void)version; (void)upload_data; (void)upload_data_size; (void)request_context;
    struct cmhd_server *target = cls;
    cmhd_reply reply = { 500, "text/plain; charset=utf-8", NULL, 0, NULL, 0 };
    target->handler(target->context, method, url, &reply);
    int gzipped = reply.compress && reply.body && reply.length >= CMHD_COMPRESS_MIN && cmhd_accepts_gzip(connection)
        && cmhd_gzip(&reply.body, &reply.length);
    struct MHD_Response *response = MHD_create_response_from_buffer(
        reply.length, reply.body ? reply.body : (void *)"", reply.body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (response == NULL) {
        free(reply.body);
        return MHD_NO;
    }
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, reply.content_type);
    MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (gzipped) MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    if (reply.compress) MHD_add_response_header(response, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_ENCODING);
    if (reply.allow) MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, reply.allow);
    enum MHD_Result queued = MHD_queue_response(connection, reply.status, response);
    MHD_destroy_response(response);
    return queued;
}

cmhd_server *cmhd_start(const cmhd_options *options, cmhd_handler handler, void *context, int *error_number) {
    struct sockaddr_storage address;
    memset(&address, 0, sizeof address);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&address;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&address;
    if (inet_pton(AF_INET, options->host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(options->port);
    } else if (inet_pton(AF_INET6, options->host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(options->port);
        flags |= MHD_USE_IPv6;
    } else {
        *error_number = EINVAL;
        return NULL;
    }
    struct cmhd_server *target = malloc(sizeof *target);
    if (target == NULL) {
        *error_number = ENOMEM;
        return NULL;
    }
    target->handler = handler;
    target->context = context;
    errno = 0;
    target->daemon = MHD_start_daemon(
        flags, options->port, NULL, NULL, cmhd_access, target,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&address,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)options->threads,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)options->connection_limit,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)options->per_ip_limit,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)options->timeout_sec,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)options->connection_memory,
        MHD_OPTION_END);
    if (target->daemon == NULL) {
        *error_number = errno ? errno : EADDRINUSE;
        free(target);
        return NULL;
    }
    return target;
}

uint16_t cmhd_port(cmhd_server *server) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(server->daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : 0;
}

void cmhd_stop(cmhd_server *server) {
    MHD_stop_daemon(server->daemon);
    free(server);
}
