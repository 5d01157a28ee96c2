/* reference_server: the smallest honest server for uvframe's wire format, the
 * yardstick scripts/bench.sh holds uvframe-server against.
 *
 * Plain C on Linux epoll. Accepts on 127.0.0.1 (--host to change), reads into
 * one buffer per connection and parses the 4-byte little-endian length frames
 * in place; a partial frame moves to the front of the buffer before the next
 * read, as in uvframe's RingBuffer.
 *   --log FILE   formats every frame's line exactly like uvframe-server's
 *                "[YYYY-mm-dd HH:MM:SS.mmm] [info] [tcp/127.0.0.1:55244] text"
 *                into a per-thread 64 KiB block, one write() per block (and
 *                when a thread goes idle for 200 ms). Escaping follows the
 *                server for ASCII (\n \r \t \\ \xNN); any byte >= 0x80 becomes
 *                \xNN too, since the bench only sends printable ASCII.
 *   --echo       writes each parsed frame back (the echo/latency reference).
 *   --threads T  T threads, each with its own SO_REUSEPORT listener and epoll.
 *   --port 0     lets the OS pick; prints "listening on 127.0.0.1:PORT".
 * On SIGINT/SIGTERM it flushes the log and prints "frames=N bytes=M" (bytes
 * received, headers included), exiting 0.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_BYTES (64 * 1024)
#define LOG_BLOCK_BYTES (64 * 1024)
#define MAX_LINE_BYTES (64 + 64 + 4 * 1024 + 32)
#define MAX_LOGGED_BYTES 1024
#define MAX_FRAME_BYTES (1u << 20)
#define MAX_EVENTS 256

struct options {
  const char* host;
  int port;
  int threads;
  int echo;
  const char* logPath;
};

struct conn {
  int fd;
  unsigned char* buf;
  size_t cap, len;    /* bytes held, from buf[0] */
  unsigned char* out; /* echo bytes not yet written */
  size_t outCap, outLen, outOff;
  char prefix[64]; /* "[tcp/127.0.0.1:55244] " */
  size_t prefixLen;
};

struct worker {
  pthread_t thread;
  int listenFd, epollFd;
  unsigned long long frames, bytes;
  char block[LOG_BLOCK_BYTES];
  size_t blockLen;
  time_t cachedSec;
  char date[32]; /* "[2026-11-25 19:00:00." */
  size_t dateLen;
};

static struct options gOpt = {"127.0.0.1", 9100, 1, 0, NULL};
static volatile sig_atomic_t gStop = 0;
static int gLogFd = -1;
static char gListenerTag; /* epoll data.ptr of the listener */

static void onSignal(int sig) {
  (void)sig;
  gStop = 1;
}

static void die(const char* what) {
  perror(what);
  exit(1);
}

static void writeAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      perror("reference_server: log write");
      return;
    }
    p += w;
    n -= (size_t)w;
  }
}

static void flushLog(struct worker* w) {
  if (w->blockLen > 0) writeAll(gLogFd, w->block, w->blockLen);
  w->blockLen = 0;
}

/* Appends the escaped payload, cut at MAX_LOGGED_BYTES like the server. */
static char* renderPayload(char* o, const unsigned char* p, size_t n) {
  static const char hex[] = "0123456789abcdef";
  size_t shown = n > MAX_LOGGED_BYTES ? MAX_LOGGED_BYTES : n;
  for (size_t i = 0; i < shown; ++i) {
    unsigned char c = p[i];
    if (c >= 0x20 && c < 0x7F && c != '\\') {
      *o++ = (char)c;
    } else if (c == '\n' || c == '\r' || c == '\t' || c == '\\') {
      *o++ = '\\';
      *o++ = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : '\\';
    } else {
      *o++ = '\\';
      *o++ = 'x';
      *o++ = hex[c >> 4];
      *o++ = hex[c & 15];
    }
  }
  if (shown < n) o += sprintf(o, " \xE2\x80\xA6(+%zu bytes)", n - shown);
  return o;
}

static void logFrame(struct worker* w, const struct conn* c, const unsigned char* p, size_t n) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  if (ts.tv_sec != w->cachedSec) {
    struct tm tm;
    localtime_r(&ts.tv_sec, &tm);
    w->dateLen = strftime(w->date, sizeof w->date, "[%Y-%m-%d %H:%M:%S.", &tm);
    w->cachedSec = ts.tv_sec;
  }
  if (w->blockLen + MAX_LINE_BYTES > LOG_BLOCK_BYTES) flushLog(w);
  char* o = w->block + w->blockLen;
  memcpy(o, w->date, w->dateLen);
  o += w->dateLen;
  unsigned ms = (unsigned)(ts.tv_nsec / 1000000);
  *o++ = (char)('0' + ms / 100);
  *o++ = (char)('0' + ms / 10 % 10);
  *o++ = (char)('0' + ms % 10);
  memcpy(o, "] [info] ", 9);
  o += 9;
  memcpy(o, c->prefix, c->prefixLen);
  o += c->prefixLen;
  o = renderPayload(o, p, n);
  *o++ = '\n';
  w->blockLen = (size_t)(o - w->block);
}

static void closeConn(struct worker* w, struct conn* c) {
  epoll_ctl(w->epollFd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  free(c->buf);
  free(c->out);
  free(c);
}

/* Sends pending echo bytes; returns -1 when the connection died. */
static int flushEcho(struct worker* w, struct conn* c) {
  while (c->outOff < c->outLen) {
    ssize_t n = write(c->fd, c->out + c->outOff, c->outLen - c->outOff);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) return -1;
      /* Wait for room, and read nothing more until then (backpressure). */
      struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
      epoll_ctl(w->epollFd, EPOLL_CTL_MOD, c->fd, &ev);
      return 0;
    }
    c->outOff += (size_t)n;
  }
  c->outOff = c->outLen = 0;
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
  epoll_ctl(w->epollFd, EPOLL_CTL_MOD, c->fd, &ev);
  return 0;
}

static void queueEcho(struct conn* c, const unsigned char* p, size_t n) {
  if (c->outLen + n > c->outCap) {
    c->outCap = (c->outLen + n) * 2;
    c->out = realloc(c->out, c->outCap);
    if (c->out == NULL) die("realloc");
  }
  memcpy(c->out + c->outLen, p, n);
  c->outLen += n;
}

/* Parses every complete frame in c->buf; returns -1 on a protocol error. */
static int parseFrames(struct worker* w, struct conn* c) {
  size_t pos = 0;
  while (c->len - pos >= 4) {
    const unsigned char* h = c->buf + pos;
    uint32_t payload =
        (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
    if (payload > MAX_FRAME_BYTES) return -1;
    size_t frame = 4 + (size_t)payload;
    if (c->len - pos < frame) {
      if (frame > c->cap) {
        c->cap = frame;
        c->buf = realloc(c->buf, c->cap);
        if (c->buf == NULL) die("realloc");
      }
      break;
    }
    if (gLogFd >= 0) logFrame(w, c, h + 4, payload);
    ++w->frames;
    pos += frame;
  }
  if (gOpt.echo && pos > 0) queueEcho(c, c->buf, pos);
  if (pos > 0) {
    memmove(c->buf, c->buf + pos, c->len - pos);
    c->len -= pos;
  }
  return 0;
}

static void handleRead(struct worker* w, struct conn* c) {
  size_t room = c->cap - c->len;
  ssize_t n = read(c->fd, c->buf + c->len, room < READ_BYTES ? room : READ_BYTES);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    closeConn(w, c);
    return;
  }
  c->len += (size_t)n;
  w->bytes += (unsigned long long)n;
  if (parseFrames(w, c) < 0 || (c->outLen > 0 && flushEcho(w, c) < 0)) closeConn(w, c);
}

static void acceptAll(struct worker* w) {
  while (1) {
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    int fd = accept4(w->listenFd, (struct sockaddr*)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return; /* EAGAIN, or EMFILE: try again at the next event */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct conn* c = calloc(1, sizeof *c);
    if (c == NULL) die("calloc");
    c->fd = fd;
    c->cap = READ_BYTES;
    c->buf = malloc(c->cap);
    if (c->buf == NULL) die("malloc");
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof ip);
    c->prefixLen = (size_t)snprintf(c->prefix, sizeof c->prefix, "[tcp/%s:%u] ", ip,
                                    (unsigned)ntohs(peer.sin_port));
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(w->epollFd, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
  }
}

static int openListener(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, gOpt.host, &a.sin_addr) != 1) {
    fprintf(stderr, "reference_server: bad --host %s\n", gOpt.host);
    exit(2);
  }
  if (bind(fd, (struct sockaddr*)&a, sizeof a) < 0) die("bind");
  if (listen(fd, SOMAXCONN) < 0) die("listen");
  return fd;
}

static void* runWorker(void* arg) {
  struct worker* w = arg;
  struct epoll_event events[MAX_EVENTS];
  while (!gStop) {
    int n = epoll_wait(w->epollFd, events, MAX_EVENTS, 200);
    if (n == 0 && gLogFd >= 0) flushLog(w); /* idle: lines reach the file */
    for (int i = 0; i < n; ++i) {
      if (events[i].data.ptr == &gListenerTag) {
        acceptAll(w);
        continue;
      }
      struct conn* c = events[i].data.ptr;
      if (events[i].events & EPOLLOUT) {
        if (flushEcho(w, c) < 0) closeConn(w, c);
      } else {
        handleRead(w, c);
      }
    }
  }
  if (gLogFd >= 0) flushLog(w);
  return NULL;
}

static void usage(FILE* f) {
  fprintf(f,
          "usage: uvframe-reference-server [--host IP] [--port P] [--threads T] [--echo]"
          " [--log FILE]\n");
}

static void parseArgs(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    int hasValue = i + 1 < argc;
    if (strcmp(a, "--help") == 0) {
      usage(stdout);
      exit(0);
    } else if (strcmp(a, "--echo") == 0) {
      gOpt.echo = 1;
    } else if (strcmp(a, "--port") == 0 && hasValue) {
      gOpt.port = atoi(argv[++i]);
    } else if (strcmp(a, "--threads") == 0 && hasValue) {
      gOpt.threads = atoi(argv[++i]);
    } else if (strcmp(a, "--host") == 0 && hasValue) {
      gOpt.host = argv[++i];
    } else if (strcmp(a, "--log") == 0 && hasValue) {
      gOpt.logPath = argv[++i];
    } else {
      fprintf(stderr, "uvframe-reference-server: bad argument '%s'\n", a);
      exit(2);
    }
  }
  if (gOpt.threads < 1 || gOpt.threads > 64 || gOpt.port < 0 || gOpt.port > 65535) {
    fprintf(stderr, "uvframe-reference-server: bad --threads or --port\n");
    exit(2);
  }
}

int main(int argc, char** argv) {
  parseArgs(argc, argv);
  struct sigaction sa = {.sa_handler = onSignal};
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  if (gOpt.logPath != NULL) {
    gLogFd = open(gOpt.logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (gLogFd < 0) die("open --log");
  }
  struct worker* workers = calloc((size_t)gOpt.threads, sizeof *workers);
  if (workers == NULL) die("calloc");
  int port = gOpt.port;
  for (int t = 0; t < gOpt.threads; ++t) {
    struct worker* w = &workers[t];
    w->listenFd = openListener(port);
    if (port == 0) {
      /* The first listener picked the port; the others share it. */
      struct sockaddr_in a;
      socklen_t len = sizeof a;
      getsockname(w->listenFd, (struct sockaddr*)&a, &len);
      port = ntohs(a.sin_port);
    }
    w->epollFd = epoll_create1(EPOLL_CLOEXEC);
    w->cachedSec = -1;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &gListenerTag};
    if (epoll_ctl(w->epollFd, EPOLL_CTL_ADD, w->listenFd, &ev) < 0) die("epoll_ctl");
  }
  printf("listening on %s:%d\n", gOpt.host, port);
  fflush(stdout);
  for (int t = 0; t < gOpt.threads; ++t) {
    if (pthread_create(&workers[t].thread, NULL, runWorker, &workers[t]) != 0) die("thread");
  }
  unsigned long long frames = 0, bytes = 0;
  for (int t = 0; t < gOpt.threads; ++t) {
    pthread_join(workers[t].thread, NULL);
    frames += workers[t].frames;
    bytes += workers[t].bytes;
  }
  printf("frames=%llu bytes=%llu\n", frames, bytes);
  fflush(stdout);
  return 0;
}
