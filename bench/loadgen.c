/* Load generator in C (epoll, one thread): bench/loadgen.ts's runs and JSON lines, cheap enough that the server is the bottleneck.
 *
 * Same semantics as loadgen.ts's Pipeline/runLoad: N connections (plus --idle ones opened first and
 * left idle), K messages in flight on each, every received byte compared with the expected pattern,
 * a warm-up, a measured window, then a drain in which every message in flight must come back.
 * The patterns come from files the TypeScript side writes (bench/protocol.ts's makePattern, twice
 * over), so that message i is bytes [(i % count) * size, +size) and any run of up to `count`
 * messages is one contiguous slice. Replies may have another size than requests (--reply-size).
 *
 *   loadgen --port P --size S --count C --send FILE [--expect FILE] [--reply-size R]
 *           --conns N --inflight K --warmup MS --duration MS [--drain-timeout MS]
 *           [--writes each|batch] [--connect-concurrency 256] [--host 127.0.0.1] [--mode NAME] [--idle N]
 *
 * Prints `{"type":"window","phase":"start"|"end"}` at both ends of the measured window, then
 * `{"type":"result","result":{...}}` (loadgen.ts's LoadResult), or `{"type":"error","message":...}`
 * and exits 1. Build: cc -O2 -Wall -Wextra -o loadgen loadgen.c -lm
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* RTT histogram: 1 us buckets up to 1 s, the last bucket catches everything longer (as loadgen.ts). */
#define HIST_SIZE 1000001
/* One read takes whatever the kernel holds for a connection, up to this much. */
#define READ_BUFFER (256 * 1024)
#define MAX_EVENTS 1024

enum phase { WARMUP, MEASURE, DRAIN };
enum conn_state { CONNECTING, OPEN, FINISHED };

struct conn {
  int fd;
  int state;
  int idle;
  int want_out; /* EPOLLOUT registered: output waits for room */
  uint64_t sent; /* messages queued (their bytes handed to the kernel or waiting in `written`..sent*size) */
  uint64_t written; /* bytes handed to the kernel */
  uint64_t done; /* messages whose reply has fully arrived */
  uint64_t received; /* reply bytes received */
  uint64_t measured; /* messages completed in the measured window */
  uint64_t *times; /* send time (ns) of message i at [i % inflight] */
};

static struct {
  const char *host;
  const char *port;
  const char *mode;
  const char *send_file;
  const char *expect_file;
  uint64_t size, reply_size, count;
  long conns, idle, inflight, concurrency;
  double warmup_ms, duration_ms, drain_timeout_ms;
  int each;
} opt;

static unsigned char *send_pattern; /* 2 * count * size bytes */
static unsigned char *expect_pattern; /* 2 * count * reply_size bytes */
static uint64_t send_period, expect_period;
static uint64_t per_write; /* most messages per send() */

static struct conn *conns; /* idle ones first, then the active ones */
static long total_conns;
static int epfd = -1;
static int phase = WARMUP;
static uint64_t measured, verified_bytes;
static long pending; /* active connections not finished yet */
static char failure[512];
static unsigned char read_buffer[READ_BUFFER];

static uint32_t hist_counts[HIST_SIZE];
static uint64_t hist_total;
static double hist_max;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
         ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

/** Writes `s` as a JSON string. */
static void json_string(FILE *out, const char *s) {
  fputc('"', out);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') fprintf(out, "\\%c", c);
    else if (c < 0x20) fprintf(out, "\\u%04x", c);
    else fputc(c, out);
  }
  fputc('"', out);
}

/** Writes `v` as a JSON number, shortest form that reads back the same (as JSON.stringify), null if not finite. */
static void json_number(FILE *out, double v) {
  char buf[64];
  if (!isfinite(v)) {
    fputs("null", out);
    return;
  }
  if (v == floor(v) && fabs(v) < 9007199254740992.0) {
    fprintf(out, "%.0f", v);
    return;
  }
  for (int precision = 1; precision <= 17; precision++) {
    snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (strtod(buf, NULL) == v) break;
  }
  fputs(buf, out);
}

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...) {
  char message[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  fputs("{\"type\":\"error\",\"message\":", stdout);
  json_string(stdout, message);
  fputs("}\n", stdout);
  fflush(stdout);
  exit(1);
}

/** Records the run's first failure; the event loop stops at its next turn. */
static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...) {
  if (failure[0]) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(failure, sizeof failure, fmt, ap);
  va_end(ap);
  if (!failure[0]) strcpy(failure, "failed");
}

static void window_line(const char *which) {
  printf("{\"type\":\"window\",\"phase\":\"%s\"}\n", which);
  fflush(stdout);
}

static void hist_record(double us) {
  uint32_t i = us < HIST_SIZE - 1 ? (uint32_t)us : HIST_SIZE - 1;
  hist_counts[i]++;
  hist_total++;
  if (us > hist_max) hist_max = us;
}

static uint32_t hist_percentile(double p) {
  if (hist_total == 0) return 0;
  uint64_t rank = (uint64_t)ceil((double)hist_total * p);
  uint64_t seen = 0;
  for (uint32_t i = 0; i < HIST_SIZE; i++) {
    seen += hist_counts[i];
    if (seen >= rank) return i;
  }
  return HIST_SIZE - 1;
}

// ---------------------------------------------------------------------------------------------
// Options and patterns.

static uint64_t parse_uint(const char *name, const char *value) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(value, &end, 10);
  if (errno || end == value || *end || value[0] == '-') die("--%s: not a whole number: %s", name, value);
  return (uint64_t)v;
}

static double parse_ms(const char *name, const char *value) {
  char *end;
  double v = strtod(value, &end);
  if (end == value || *end || !(v >= 0)) die("--%s: not a duration in ms: %s", name, value);
  return v;
}

static void parse_options(int argc, char **argv) {
  opt.host = "127.0.0.1";
  opt.mode = "lines";
  opt.concurrency = 256;
  opt.drain_timeout_ms = 15000;
  opt.conns = -1;
  opt.inflight = -1;
  opt.warmup_ms = -1;
  opt.duration_ms = -1;
  for (int i = 1; i < argc; i += 2) {
    const char *key = argv[i];
    if (strncmp(key, "--", 2) != 0) die("expected an option, got %s", key);
    key += 2;
    if (i + 1 >= argc) die("--%s needs a value", key);
    const char *value = argv[i + 1];
    if (!strcmp(key, "host")) opt.host = value;
    else if (!strcmp(key, "port")) opt.port = value;
    else if (!strcmp(key, "mode")) opt.mode = value;
    else if (!strcmp(key, "size")) opt.size = parse_uint(key, value);
    else if (!strcmp(key, "reply-size")) opt.reply_size = parse_uint(key, value);
    else if (!strcmp(key, "count")) opt.count = parse_uint(key, value);
    else if (!strcmp(key, "send")) opt.send_file = value;
    else if (!strcmp(key, "expect")) opt.expect_file = value;
    else if (!strcmp(key, "conns")) opt.conns = (long)parse_uint(key, value);
    else if (!strcmp(key, "idle")) opt.idle = (long)parse_uint(key, value);
    else if (!strcmp(key, "inflight")) opt.inflight = (long)parse_uint(key, value);
    else if (!strcmp(key, "warmup")) opt.warmup_ms = parse_ms(key, value);
    else if (!strcmp(key, "duration")) opt.duration_ms = parse_ms(key, value);
    else if (!strcmp(key, "drain-timeout")) opt.drain_timeout_ms = parse_ms(key, value);
    else if (!strcmp(key, "connect-concurrency")) opt.concurrency = (long)parse_uint(key, value);
    else if (!strcmp(key, "writes")) {
      if (!strcmp(value, "each")) opt.each = 1;
      else if (!strcmp(value, "batch")) opt.each = 0;
      else die("--writes: each or batch, not %s", value);
    } else die("unknown option --%s", key);
  }
  if (!opt.port) die("--port is required");
  if (!opt.size) die("--size is required (and above 0)");
  if (!opt.count) die("--count is required (and above 0)");
  if (!opt.send_file) die("--send is required");
  if (opt.conns < 0 || opt.inflight < 0 || opt.warmup_ms < 0 || opt.duration_ms < 0)
    die("--conns, --inflight, --warmup and --duration are required");
  if (opt.inflight == 0) die("--inflight must be above 0");
  if (opt.concurrency == 0) die("--connect-concurrency must be above 0");
  if (!opt.reply_size) opt.reply_size = opt.size;
  if (!opt.expect_file) opt.expect_file = opt.send_file;
  int bulk = !strcmp(opt.mode, "bulk");
  if (!bulk && (uint64_t)opt.inflight > opt.count * 2) die("inflight too large");
  per_write = bulk || opt.each ? 1 : opt.count;
}

static unsigned char *read_pattern(const char *file, uint64_t expected, const char *what) {
  FILE *f = fopen(file, "rb");
  if (!f) die("cannot open the %s pattern %s: %s", what, file, strerror(errno));
  struct stat st;
  if (fstat(fileno(f), &st) != 0) die("cannot stat %s: %s", file, strerror(errno));
  if ((uint64_t)st.st_size != expected)
    die("the %s pattern %s has %lld bytes, not 2 * count * size = %llu", what, file, (long long)st.st_size,
        (unsigned long long)expected);
  unsigned char *data = malloc(expected ? expected : 1);
  if (!data) die("out of memory");
  if (fread(data, 1, expected, f) != expected) die("cannot read %s", file);
  fclose(f);
  return data;
}

static void raise_fd_limit(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

// ---------------------------------------------------------------------------------------------
// Connections.

static void set_events(struct conn *c, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.ptr = c};
  if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0) fail("epoll_ctl: %s", strerror(errno));
}

/** Hands queued bytes to the kernel (contiguous slices of the doubled pattern) until done or the socket is full. */
static void flush(struct conn *c) {
  uint64_t end = c->sent * opt.size;
  while (c->written < end) {
    uint64_t at = c->written % send_period;
    uint64_t n = end - c->written;
    if (n > 2 * send_period - at) n = 2 * send_period - at;
    ssize_t w = send(c->fd, send_pattern + at, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == EINTR) continue;
      fail("send: %s", strerror(errno));
      return;
    }
    c->written += (uint64_t)w;
  }
  int want = c->written < end;
  if (want != c->want_out) {
    c->want_out = want;
    set_events(c, want ? EPOLLIN | EPOLLOUT : EPOLLIN);
  }
}

/** Queues `count` messages sent at `now`: one send() per `per_write` messages while the socket takes them. */
static void send_messages(struct conn *c, uint64_t count, uint64_t now) {
  const uint64_t inflight = (uint64_t)opt.inflight;
  while (count > 0) {
    uint64_t first = c->sent % opt.count;
    uint64_t n = count < per_write ? count : per_write;
    for (uint64_t i = 0; i < n; i++) c->times[(c->sent + i) % inflight] = now;
    int blocked = c->written < c->sent * opt.size;
    c->sent += n;
    count -= n;
    if (blocked) continue; /* EPOLLOUT is armed: flush() sends it with the rest */
    uint64_t bytes = n * opt.size;
    ssize_t w = send(c->fd, send_pattern + first * opt.size, bytes, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        fail("send: %s", strerror(errno));
        return;
      }
      w = 0;
    }
    c->written += (uint64_t)w;
    if ((uint64_t)w < bytes) flush(c);
  }
}

static void finish(struct conn *c) {
  if (c->state == FINISHED) return;
  c->state = FINISHED;
  shutdown(c->fd, SHUT_WR);
  /* Level-triggered: the server's FIN would report readable forever. */
  epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
  pending--;
}

static void on_readable(struct conn *c) {
  ssize_t r = recv(c->fd, read_buffer, READ_BUFFER, 0);
  if (r < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
    fail("recv after %llu of %llu messages: %s", (unsigned long long)c->done, (unsigned long long)c->sent,
         strerror(errno));
    return;
  }
  if (r == 0) {
    fail("server ended the connection after %llu of %llu messages", (unsigned long long)c->done,
         (unsigned long long)c->sent);
    return;
  }
  const uint64_t length = (uint64_t)r;
  const uint64_t rsize = opt.reply_size;
  if (c->received + length > c->sent * rsize) {
    fail("received %llu bytes, only %llu expected for those sent", (unsigned long long)(c->received + length),
         (unsigned long long)(c->sent * rsize));
    return;
  }
  uint64_t at = c->received % expect_period;
  for (uint64_t i = 0; i < length;) {
    uint64_t n = length - i < expect_period ? length - i : expect_period;
    if (memcmp(read_buffer + i, expect_pattern + at, n) != 0) {
      fail("reply bytes differ from those expected, in %llu..%llu", (unsigned long long)(c->received + i),
           (unsigned long long)(c->received + i + n));
      return;
    }
    i += n;
    at = (at + n) % expect_period;
  }
  c->received += length;
  verified_bytes += length;
  uint64_t completed = c->received / rsize;
  uint64_t fresh = completed - c->done;
  if (fresh == 0) return;
  uint64_t now = now_ns();
  if (phase == MEASURE) {
    const uint64_t inflight = (uint64_t)opt.inflight;
    for (uint64_t i = c->done; i < completed; i++) hist_record((double)(now - c->times[i % inflight]) / 1000.0);
    measured += fresh;
    c->measured += fresh;
  }
  c->done = completed;
  if (phase == DRAIN) {
    if (c->done == c->sent) finish(c);
  } else send_messages(c, fresh, now);
}

static struct addrinfo *resolve(void) {
  struct addrinfo hints = {0}, *ai;
  hints.ai_socktype = SOCK_STREAM;
  int rc = getaddrinfo(opt.host, opt.port, &hints, &ai);
  if (rc != 0) die("cannot resolve %s:%s: %s", opt.host, opt.port, gai_strerror(rc));
  return ai;
}

/** Starts a non-blocking connect; the socket reports writable once it is done. */
static void start_connect(struct conn *c, const struct addrinfo *ai) {
  int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket: %s (connection %ld)", strerror(errno), (long)(c - conns) + 1);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c->fd = fd;
  c->state = CONNECTING;
  if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS)
    die("connect to %s:%s: %s", opt.host, opt.port, strerror(errno));
  struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) die("epoll_ctl: %s", strerror(errno));
}

/** Opens every connection, at most `concurrency` connecting at a time; dies on the first failure. */
static void connect_all(void) {
  struct addrinfo *ai = resolve();
  struct epoll_event events[MAX_EVENTS];
  long started = 0, open = 0, connecting = 0;
  while (open < total_conns) {
    while (connecting < opt.concurrency && started < total_conns) {
      start_connect(&conns[started++], ai);
      connecting++;
    }
    int n = epoll_wait(epfd, events, MAX_EVENTS, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait: %s", strerror(errno));
    }
    for (int i = 0; i < n; i++) {
      struct conn *c = events[i].data.ptr;
      int err = 0;
      socklen_t len = sizeof err;
      if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
      if (err) die("connect to %s:%s: %s", opt.host, opt.port, strerror(err));
      c->state = OPEN;
      connecting--;
      open++;
      struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
      /* Idle connections are watched by nobody (as in loadgen.ts, nothing reads them). */
      if (c->idle) epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
      else if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0) die("epoll_ctl: %s", strerror(errno));
    }
  }
  freeaddrinfo(ai);
}

// ---------------------------------------------------------------------------------------------
// The run.

static int timeout_ms(uint64_t now, uint64_t deadline) {
  if (now >= deadline) return 0;
  uint64_t ms = (deadline - now + 999999) / 1000000;
  return ms > 1000000 ? 1000000 : (int)ms;
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  parse_options(argc, argv);
  raise_fd_limit();
  send_period = opt.count * opt.size;
  expect_period = opt.count * opt.reply_size;
  send_pattern = read_pattern(opt.send_file, 2 * send_period, "send");
  expect_pattern = read_pattern(opt.expect_file, 2 * expect_period, "expect");

  total_conns = opt.idle + opt.conns;
  conns = calloc((size_t)(total_conns ? total_conns : 1), sizeof *conns);
  uint64_t *times = calloc((size_t)(opt.conns ? opt.conns : 1) * (size_t)opt.inflight, sizeof *times);
  if (!conns || !times) die("out of memory");
  for (long i = 0; i < total_conns; i++) {
    conns[i].fd = -1;
    conns[i].idle = i < opt.idle;
    if (!conns[i].idle) conns[i].times = times + (size_t)(i - opt.idle) * (size_t)opt.inflight;
  }
  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) die("epoll_create1: %s", strerror(errno));

  uint64_t connect_start = now_ns();
  connect_all();
  double connect_ms = (double)(now_ns() - connect_start) / 1e6;

  struct conn *active = conns + opt.idle;
  pending = opt.conns;
  uint64_t now = now_ns();
  for (long i = 0; i < opt.conns; i++) send_messages(&active[i], (uint64_t)opt.inflight, now);

  struct epoll_event events[MAX_EVENTS];
  uint64_t deadline = now + (uint64_t)(opt.warmup_ms * 1e6);
  uint64_t t0 = 0;
  double cpu0 = 0, seconds = 0, cpu = 0;
  while (!failure[0]) {
    int n = epoll_wait(epfd, events, MAX_EVENTS, timeout_ms(now, deadline));
    if (n < 0 && errno != EINTR) die("epoll_wait: %s", strerror(errno));
    for (int i = 0; i < n && !failure[0]; i++) {
      struct conn *c = events[i].data.ptr;
      if (c->state == FINISHED) continue;
      if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_readable(c);
      if (!failure[0] && c->state != FINISHED && c->want_out && (events[i].events & (EPOLLOUT | EPOLLERR)))
        flush(c);
    }
    if (failure[0]) break;
    now = now_ns();
    if (phase == WARMUP && now >= deadline) {
      phase = MEASURE;
      t0 = now_ns();
      cpu0 = cpu_seconds();
      window_line("start");
      deadline = t0 + (uint64_t)(opt.duration_ms * 1e6);
    } else if (phase == MEASURE && now >= deadline) {
      seconds = (double)(now_ns() - t0) / 1e9;
      cpu = cpu_seconds() - cpu0;
      phase = DRAIN;
      window_line("end");
      for (long i = 0; i < opt.conns; i++)
        if (active[i].done == active[i].sent) finish(&active[i]);
      deadline = now_ns() + (uint64_t)(opt.drain_timeout_ms * 1e6);
    } else if (phase == DRAIN && now >= deadline) {
      fail("%ld connection(s) still missing replies %.0f ms after the run", pending, opt.drain_timeout_ms);
    }
    if (phase == DRAIN && pending == 0) break;
  }
  for (long i = 0; i < total_conns; i++)
    if (conns[i].fd >= 0) close(conns[i].fd);
  if (failure[0]) die("%s", failure);

  uint64_t per_min = UINT64_MAX, per_max = 0;
  for (long i = 0; i < opt.conns; i++) {
    if (active[i].measured < per_min) per_min = active[i].measured;
    if (active[i].measured > per_max) per_max = active[i].measured;
  }
  FILE *out = stdout;
  fputs("{\"type\":\"result\",\"result\":{\"mode\":", out);
  json_string(out, opt.mode);
  fprintf(out, ",\"size\":%llu,\"conns\":%ld,\"inflight\":%ld,\"idle\":%ld,\"seconds\":", (unsigned long long)opt.size,
          opt.conns, opt.inflight, opt.idle);
  json_number(out, seconds);
  fprintf(out, ",\"messages\":%llu,\"messagesPerSec\":", (unsigned long long)measured);
  json_number(out, seconds > 0 ? (double)measured / seconds : 0);
  fputs(",\"mbPerSec\":", out);
  json_number(out, seconds > 0 ? (double)measured * (double)opt.reply_size / seconds / 1e6 : 0);
  fprintf(out, ",\"p50us\":%u,\"p99us\":%u,\"maxUs\":", hist_percentile(0.5), hist_percentile(0.99));
  json_number(out, round(hist_max));
  fprintf(out, ",\"verifiedBytes\":%llu,\"loadgenCpu\":", (unsigned long long)verified_bytes);
  json_number(out, seconds > 0 ? cpu / seconds : 0);
  fputs(",\"connectMs\":", out);
  json_number(out, round(connect_ms));
  fputs(",\"perConnMin\":", out);
  json_number(out, opt.conns ? (double)per_min : INFINITY);
  fputs(",\"perConnMax\":", out);
  json_number(out, opt.conns ? (double)per_max : -INFINITY);
  fputs("}}\n", out);
  fflush(out);
  return 0;
}
