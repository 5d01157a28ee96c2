/* blaster: a trivial C load blaster for uvframe's wire format, to find what
 * uvframe-loadgen itself costs. scripts/bench.sh runs both against the plain
 * reference server and compares their frames/s.
 *
 * Opens --connections non-blocking TCP connections to --host:--port (default
 * 127.0.0.1), waits until they are all established (or 15 s have passed),
 * then for --duration seconds writes one pre-built 64 KiB-ish buffer of whole
 * frames (4-byte little-endian length + --size bytes of printable ASCII) per
 * writable event, level-triggered epoll, one write() per event so that every
 * connection gets its turn. --threads splits the connections over threads.
 * Prints one line:
 *   blaster: connections=N size=B duration=S frames=F frames_per_s=X mb_per_s=Y
 * (frames = whole frames written; mb_per_s counts headers, 1 MB = 1e6 bytes)
 * and with --json PATH the same as a JSON object.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
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

#define TARGET_BUFFER_BYTES (64 * 1024)
#define MAX_EVENTS 256
#define CONNECT_TIMEOUT_S 15.0

struct options {
  const char* host;
  int port;
  int connections;
  double durationS;
  size_t size;
  int threads;
  const char* jsonPath;
};

struct sock {
  int fd;
  int connected;
  size_t off; /* next byte of the pre-built buffer to send */
  unsigned long long sent;
};

struct blaster {
  pthread_t thread;
  int epollFd;
  struct sock* socks;
  int count;
  int established, failed;
  unsigned long long bytes;
};

static struct options gOpt = {"127.0.0.1", 9100, 100, 5.0, 64, 1, NULL};
static unsigned char* gBuf;
static size_t gBufLen, gFrameBytes;
static volatile sig_atomic_t gStop = 0;
static pthread_barrier_t gConnected;

static double nowS(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char* what) {
  perror(what);
  exit(1);
}

static void onSignal(int sig) {
  (void)sig;
  gStop = 1;
}

/* Whole frames of printable ASCII, about TARGET_BUFFER_BYTES in all. */
static void buildBuffer(void) {
  gFrameBytes = 4 + gOpt.size;
  size_t frames = TARGET_BUFFER_BYTES / gFrameBytes;
  if (frames == 0) frames = 1;
  gBufLen = frames * gFrameBytes;
  gBuf = malloc(gBufLen);
  if (gBuf == NULL) die("malloc");
  for (size_t f = 0; f < frames; ++f) {
    unsigned char* p = gBuf + f * gFrameBytes;
    uint32_t n = (uint32_t)gOpt.size;
    p[0] = (unsigned char)n;
    p[1] = (unsigned char)(n >> 8);
    p[2] = (unsigned char)(n >> 16);
    p[3] = (unsigned char)(n >> 24);
    for (size_t i = 0; i < gOpt.size; ++i)
      p[4 + i] = (unsigned char)('a' + (f + i) % 26);
  }
}

static void startConnects(struct blaster* b) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)gOpt.port)};
  if (inet_pton(AF_INET, gOpt.host, &a.sin_addr) != 1) {
    fprintf(stderr, "blaster: bad --host %s\n", gOpt.host);
    exit(2);
  }
  for (int i = 0; i < b->count; ++i) {
    struct sock* s = &b->socks[i];
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0) die("socket (raise ulimit -n?)");
    int one = 1;
    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(s->fd, (struct sockaddr*)&a, sizeof a) < 0 && errno != EINPROGRESS) {
      ++b->failed;
      close(s->fd);
      s->fd = -1;
      continue;
    }
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = s};
    if (epoll_ctl(b->epollFd, EPOLL_CTL_ADD, s->fd, &ev) < 0) die("epoll_ctl");
  }
}

/* Waits for the connects to finish (each becomes writable). */
static void awaitConnects(struct blaster* b) {
  struct epoll_event events[MAX_EVENTS];
  double deadline = nowS() + CONNECT_TIMEOUT_S;
  while (b->established + b->failed < b->count && nowS() < deadline && !gStop) {
    int n = epoll_wait(b->epollFd, events, MAX_EVENTS, 100);
    for (int i = 0; i < n; ++i) {
      struct sock* s = events[i].data.ptr;
      if (s->connected) continue;
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        ++b->failed;
        epoll_ctl(b->epollFd, EPOLL_CTL_DEL, s->fd, NULL);
        close(s->fd);
        s->fd = -1;
      } else {
        s->connected = 1;
        ++b->established;
      }
    }
  }
}

static void blast(struct blaster* b, double until) {
  struct epoll_event events[MAX_EVENTS];
  while (!gStop && nowS() < until) {
    int n = epoll_wait(b->epollFd, events, MAX_EVENTS, 50);
    for (int i = 0; i < n; ++i) {
      struct sock* s = events[i].data.ptr;
      if (!s->connected || s->fd < 0) continue;
      ssize_t w = write(s->fd, gBuf + s->off, gBufLen - s->off);
      if (w < 0) {
        if (errno == EAGAIN || errno == EINTR) continue;
        epoll_ctl(b->epollFd, EPOLL_CTL_DEL, s->fd, NULL);
        close(s->fd);
        s->fd = -1;
        continue;
      }
      s->off = (s->off + (size_t)w) % gBufLen;
      s->sent += (unsigned long long)w;
      b->bytes += (unsigned long long)w;
    }
  }
}

static double gStart, gEnd;

static void* runBlaster(void* arg) {
  struct blaster* b = arg;
  startConnects(b);
  awaitConnects(b);
  /* Every thread starts blasting at the same moment. */
  if (pthread_barrier_wait(&gConnected) == PTHREAD_BARRIER_SERIAL_THREAD) {
    gStart = nowS();
    gEnd = gStart + gOpt.durationS;
  }
  pthread_barrier_wait(&gConnected);
  blast(b, gEnd);
  return NULL;
}

static void parseArgs(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    int hasValue = i + 1 < argc;
    if (strcmp(a, "--help") == 0) {
      printf(
          "usage: uvframe-blaster [--host IP] [--port P] [--connections N] [--duration S]"
          " [--size B] [--threads T] [--json PATH]\n");
      exit(0);
    } else if (strcmp(a, "--host") == 0 && hasValue) {
      gOpt.host = argv[++i];
    } else if (strcmp(a, "--port") == 0 && hasValue) {
      gOpt.port = atoi(argv[++i]);
    } else if (strcmp(a, "--connections") == 0 && hasValue) {
      gOpt.connections = atoi(argv[++i]);
    } else if (strcmp(a, "--duration") == 0 && hasValue) {
      gOpt.durationS = atof(argv[++i]);
    } else if (strcmp(a, "--size") == 0 && hasValue) {
      gOpt.size = (size_t)strtoul(argv[++i], NULL, 10);
    } else if (strcmp(a, "--threads") == 0 && hasValue) {
      gOpt.threads = atoi(argv[++i]);
    } else if (strcmp(a, "--json") == 0 && hasValue) {
      gOpt.jsonPath = argv[++i];
    } else {
      fprintf(stderr, "uvframe-blaster: bad argument '%s'\n", a);
      exit(2);
    }
  }
  if (gOpt.connections < 1 || gOpt.threads < 1 || gOpt.threads > gOpt.connections ||
      gOpt.durationS <= 0 || gOpt.durationS > 3600 || gOpt.size > (1u << 20) || gOpt.port < 1 ||
      gOpt.port > 65535) {
    fprintf(stderr,
            "uvframe-blaster: bad --connections, --threads, --duration, --size or --port\n");
    exit(2);
  }
}

int main(int argc, char** argv) {
  parseArgs(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa = {.sa_handler = onSignal};
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  buildBuffer();
  struct blaster* bs = calloc((size_t)gOpt.threads, sizeof *bs);
  if (bs == NULL) die("calloc");
  pthread_barrier_init(&gConnected, NULL, (unsigned)gOpt.threads);
  for (int t = 0; t < gOpt.threads; ++t) {
    struct blaster* b = &bs[t];
    b->count = gOpt.connections / gOpt.threads + (t < gOpt.connections % gOpt.threads);
    b->socks = calloc((size_t)b->count, sizeof *b->socks);
    b->epollFd = epoll_create1(EPOLL_CLOEXEC);
    if (b->socks == NULL || b->epollFd < 0) die("setup");
    if (pthread_create(&b->thread, NULL, runBlaster, b) != 0) die("thread");
  }
  unsigned long long frames = 0, bytes = 0;
  int established = 0, failed = 0;
  for (int t = 0; t < gOpt.threads; ++t) {
    struct blaster* b = &bs[t];
    pthread_join(b->thread, NULL);
    established += b->established;
    failed += b->failed;
    for (int i = 0; i < b->count; ++i)
      frames += b->socks[i].sent / gFrameBytes;
    bytes += b->bytes;
  }
  /* A run cut short by a signal counts only the time it ran. */
  double elapsed = (gStop ? nowS() : gEnd) - gStart;
  double fps = (double)frames / elapsed, mbps = (double)bytes / elapsed / 1e6;
  printf(
      "blaster: connections=%d failed=%d size=%zu duration=%.2f frames=%llu"
      " frames_per_s=%.0f mb_per_s=%.1f\n",
      established, failed, gOpt.size, elapsed, frames, fps, mbps);
  if (gOpt.jsonPath != NULL) {
    FILE* f = fopen(gOpt.jsonPath, "w");
    if (f == NULL) die("fopen --json");
    fprintf(f,
            "{\"connections\": {\"opened\": %d, \"failed\": %d}, \"frames\": {\"sent\": %llu},"
            " \"bytes\": {\"sent\": %llu}, \"duration_s\": %.3f, \"frames_per_s\": %.1f,"
            " \"mb_per_s\": %.3f, \"options\": {\"size\": %zu, \"threads\": %d}}\n",
            established, failed, frames, bytes, elapsed, fps, mbps, gOpt.size, gOpt.threads);
    fclose(f);
  }
  return failed > 0 && established == 0 ? 1 : 0;
}
