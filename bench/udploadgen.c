// The udp workload's load generator, and a trivially fast echo to measure it against (recvmmsg/sendmmsg).
//
//   udploadgen load --port P --window N --size S --warmup MS --duration MS [--host H] [--buffer B] [--stall-ms T]
//     Keeps N datagrams of S bytes in flight to H:P over one connected socket, for warm-up + duration.
//     Prints JSON lines: {"type":"window","phase":"start"|"end"} around the measured window, then
//     {"type":"result","result":{...}}, or {"type":"error","message":...} and exits 1.
//   udploadgen echo [--port P] [--host H] [--buffer B]
//     Echoes every datagram to its sender, 64 at a time; prints "listening PORT"; runs until killed.
//
// A datagram is [uint32 sequence number][the pattern]. Loopback keeps one sender's datagrams in order, so
// an echo whose number skips some declares those lost at once; when nothing comes back for --stall-ms
// (200 ms, longer than a busy server's pauses), every datagram in flight is declared lost and the window
// refilled. Late echoes of datagrams declared lost are counted apart; a reply of the wrong size or with a
// changed pattern fails the run.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAX_SIZE 65507
/* Send times, by sequence number modulo RING: more than any window. */
#define RING 65536
/* Round-trip histogram: one bucket per µs up to HIST_US, the rest in the last. */
#define HIST_US 200000

static void fail(const char *what) {
  printf("{\"type\":\"error\",\"message\":\"%s: %s\"}\n", what, strerror(errno));
  fflush(stdout);
  exit(1);
}

static void failText(const char *message) {
  printf("{\"type\":\"error\",\"message\":\"%s\"}\n", message);
  fflush(stdout);
  exit(1);
}

static int64_t nowUs(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t cpuUs(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

struct args {
  const char *mode;
  const char *host;
  int port;
  int window;
  int size;
  int warmupMs;
  int durationMs;
  int buffer;
  int stallMs;
};

static struct args parse(int argc, char **argv) {
  struct args a = {argc > 1 ? argv[1] : "", "127.0.0.1", 0, 32, 64, 500, 1000, 4 << 20, 200};
  for (int i = 2; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    if (!strcmp(k, "--host")) a.host = v;
    else if (!strcmp(k, "--port")) a.port = atoi(v);
    else if (!strcmp(k, "--window")) a.window = atoi(v);
    else if (!strcmp(k, "--size")) a.size = atoi(v);
    else if (!strcmp(k, "--warmup")) a.warmupMs = atoi(v);
    else if (!strcmp(k, "--duration")) a.durationMs = atoi(v);
    else if (!strcmp(k, "--buffer")) a.buffer = atoi(v);
    else if (!strcmp(k, "--stall-ms")) a.stallMs = atoi(v);
    else {
      fprintf(stderr, "unknown flag %s\n", k);
      exit(2);
    }
  }
  return a;
}

static int udpSocket(const struct args *a, struct sockaddr_in *addr) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  if (fd < 0) fail("socket");
  // Asked for; the kernel caps both at net.core.rmem_max / wmem_max.
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &a->buffer, sizeof a->buffer);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &a->buffer, sizeof a->buffer);
  memset(addr, 0, sizeof *addr);
  addr->sin_family = AF_INET;
  addr->sin_port = htons((uint16_t)a->port);
  if (inet_pton(AF_INET, a->host, &addr->sin_addr) != 1) failText("--host must be an IPv4 address");
  return fd;
}

static _Noreturn void echo(const struct args *a) {
  struct sockaddr_in addr;
  int fd = udpSocket(a, &addr);
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) fail("bind");
  socklen_t len = sizeof addr;
  getsockname(fd, (struct sockaddr *)&addr, &len);
  printf("listening %d\n", ntohs(addr.sin_port));
  fflush(stdout);
  static char bufs[BATCH][MAX_SIZE];
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  struct sockaddr_in from[BATCH];
  struct pollfd p = {fd, POLLIN, 0};
  for (;;) {
    for (int i = 0; i < BATCH; i++) {
      iov[i] = (struct iovec){bufs[i], MAX_SIZE};
      msgs[i].msg_hdr = (struct msghdr){&from[i], sizeof from[i], &iov[i], 1, NULL, 0, 0};
    }
    int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) fail("recvmmsg");
      poll(&p, 1, -1);
      continue;
    }
    for (int i = 0; i < n; i++) iov[i].iov_len = msgs[i].msg_len;
    // A full send buffer drops the rest, as a busy server would.
    for (int sent = 0; sent < n;) {
      int m = sendmmsg(fd, msgs + sent, (unsigned)(n - sent), 0);
      if (m <= 0) break;
      sent += m;
    }
  }
}

static int load(const struct args *a) {
  if (a->size < 4 || a->size > MAX_SIZE) failText("--size must be in [4, 65507]");
  if (a->window < 1 || a->window > RING / 2) failText("--window must be in [1, 32768]");
  struct sockaddr_in addr;
  int fd = udpSocket(a, &addr);
  struct sockaddr_in local = {.sin_family = AF_INET};
  local.sin_addr = addr.sin_addr;
  if (bind(fd, (struct sockaddr *)&local, sizeof local) < 0) fail("bind");
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) fail("connect");

  // The pattern: bytes 4.. of every datagram; 0..3 carry the sequence number.
  unsigned char *pattern = malloc((size_t)a->size);
  for (int i = 0; i < a->size; i++) pattern[i] = (unsigned char)('a' + (i * 7) % 26);
  static unsigned char out[BATCH][MAX_SIZE], in[BATCH][MAX_SIZE];
  struct mmsghdr smsgs[BATCH], rmsgs[BATCH];
  struct iovec siov[BATCH], riov[BATCH];
  for (int i = 0; i < BATCH; i++) {
    memcpy(out[i], pattern, (size_t)a->size);
    siov[i] = (struct iovec){out[i], (size_t)a->size};
    smsgs[i].msg_hdr = (struct msghdr){NULL, 0, &siov[i], 1, NULL, 0, 0};
  }
  int64_t *sentAt = calloc(RING, sizeof(int64_t));
  uint32_t *hist = calloc(HIST_US + 1, sizeof(uint32_t));
  if (!sentAt || !hist) failText("out of memory");

  uint32_t nextSeq = 0, expected = 0;
  int64_t inflight = 0;
  uint64_t sent = 0, echoes = 0, lost = 0, late = 0, stalls = 0, wrong = 0;
  uint64_t mSent = 0, mEchoes = 0, mLost = 0, mLate = 0, mStalls = 0;
  int measuring = 0;
  int64_t start = nowUs();
  int64_t windowStart = start + (int64_t)a->warmupMs * 1000;
  int64_t end = windowStart + (int64_t)a->durationMs * 1000;
  int64_t lastProgress = start, cpuStart = 0, cpuEnd = 0, measuredUs = 0;
  struct pollfd p = {fd, POLLIN, 0};

  for (;;) {
    int64_t now = nowUs();
    if (!measuring && now >= windowStart) {
      measuring = 1;
      mSent = sent, mEchoes = echoes, mLost = lost, mLate = late, mStalls = stalls;
      memset(hist, 0, (HIST_US + 1) * sizeof(uint32_t));
      cpuStart = cpuUs();
      windowStart = now;
      printf("{\"type\":\"window\",\"phase\":\"start\"}\n");
      fflush(stdout);
    }
    if (now >= end) {
      cpuEnd = cpuUs();
      measuredUs = now - windowStart;
      printf("{\"type\":\"window\",\"phase\":\"end\"}\n");
      fflush(stdout);
      break;
    }
    // Fill the window.
    while (inflight < a->window) {
      int n = (int)(a->window - inflight < BATCH ? a->window - inflight : BATCH);
      int64_t t = nowUs();
      for (int i = 0; i < n; i++) {
        uint32_t seq = nextSeq + (uint32_t)i;
        memcpy(out[i], &seq, 4);
        sentAt[seq % RING] = t;
      }
      int m = sendmmsg(fd, smsgs, (unsigned)n, 0);
      if (m < 0) {
        if (errno == ECONNREFUSED) failText("the server refused datagrams (ECONNREFUSED): is it listening?");
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS || errno == EINTR) break;
        fail("sendmmsg");
      }
      nextSeq += (uint32_t)m;
      inflight += m;
      sent += (uint64_t)m;
      if (m < n) break;
    }
    for (int i = 0; i < BATCH; i++) {
      riov[i] = (struct iovec){in[i], MAX_SIZE};
      rmsgs[i].msg_hdr = (struct msghdr){NULL, 0, &riov[i], 1, NULL, 0, 0};
    }
    int n = recvmmsg(fd, rmsgs, BATCH, MSG_DONTWAIT, NULL);
    if (n < 0) {
      if (errno == ECONNREFUSED) failText("the server refused datagrams (ECONNREFUSED): is it listening?");
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) fail("recvmmsg");
      now = nowUs();
      if (inflight > 0 && now - lastProgress >= (int64_t)a->stallMs * 1000) {
        // Nothing came back for a while: what is in flight is gone.
        lost += (uint64_t)inflight;
        inflight = 0;
        expected = nextSeq;
        stalls++;
        lastProgress = now;
        continue;
      }
      int64_t wait = (measuring ? end : windowStart) - now;
      int waitMs = (int)(wait / 1000) + 1;
      poll(&p, 1, waitMs < a->stallMs ? waitMs : a->stallMs);
      continue;
    }
    int64_t t = nowUs();
    lastProgress = t;
    for (int i = 0; i < n; i++) {
      unsigned len = rmsgs[i].msg_len;
      if ((int)len != a->size || memcmp(in[i] + 4, pattern + 4, (size_t)a->size - 4) != 0) {
        wrong++;
        continue;
      }
      uint32_t seq;
      memcpy(&seq, in[i], 4);
      if ((int32_t)(seq - expected) < 0) {
        late++;
        continue;
      }
      if ((int32_t)(seq - nextSeq) >= 0) {
        wrong++;
        continue;
      }
      uint32_t skipped = seq - expected;
      lost += skipped;
      inflight -= (int64_t)skipped + 1;
      expected = seq + 1;
      echoes++;
      int64_t rtt = t - sentAt[seq % RING];
      hist[rtt < 0 ? 0 : rtt > HIST_US ? HIST_US : rtt]++;
    }
    if (wrong > 0) failText("a reply differed from the datagram sent (size or bytes)");
  }

  uint64_t count = echoes - mEchoes;
  double seconds = (double)measuredUs / 1e6;
  uint64_t p50 = 0, p99 = 0, seen = 0;
  int have50 = 0;
  for (int us = 0; us <= HIST_US && count > 0; us++) {
    seen += hist[us];
    if (!have50 && seen * 2 >= count) p50 = (uint64_t)us, have50 = 1;
    if (seen * 100 >= count * 99) {
      p99 = (uint64_t)us;
      break;
    }
  }
  printf(
      "{\"type\":\"result\",\"result\":{\"datagrams\":%llu,\"seconds\":%.6f,\"perSecond\":%.1f,\"sent\":%llu,"
      "\"lost\":%llu,\"late\":%llu,\"stalls\":%llu,\"p50Us\":%llu,\"p99Us\":%llu,\"loadgenCpu\":%.3f,"
      "\"window\":%d,\"size\":%d}}\n",
      (unsigned long long)count, seconds, seconds > 0 ? (double)count / seconds : 0.0,
      (unsigned long long)(sent - mSent), (unsigned long long)(lost - mLost), (unsigned long long)(late - mLate),
      (unsigned long long)(stalls - mStalls), (unsigned long long)p50, (unsigned long long)p99,
      measuredUs > 0 ? (double)(cpuEnd - cpuStart) / (double)measuredUs : 0.0, a->window, a->size);
  fflush(stdout);
  return 0;
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  struct args a = parse(argc, argv);
  if (!strcmp(a.mode, "load")) return load(&a);
  if (!strcmp(a.mode, "echo")) echo(&a);
  fprintf(stderr, "usage: udploadgen load --port P --window N --size S --warmup MS --duration MS | echo [--port P]\n");
  return 2;
}
