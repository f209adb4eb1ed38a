// Optional C++ twin of demos/struct-client.ts: sends the seed's `struct CTestData` as raw memory, as the seed document's C++ side does.
//
// Build and run against the struct server (Linux or macOS; needs g++ or clang++):
//   npm run demo -- struct-server --port 8000          # in one terminal
//   g++ -O2 -Wall -o /tmp/struct-sender demos/struct-sender.cpp
//   /tmp/struct-sender 8000 A 300 hello               # port, a, b, c (all optional)
// The server logs `char a : A`, `int b : 300`, `char c : hello`. The padding bytes are whatever the
// compiler leaves there (they are not cleared on purpose: the server must not care).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

struct CTestData {
  char a;
  int b;
  char c[15];
};

static_assert(sizeof(CTestData) == 24, "CTestData is 24 bytes on x86-64 and arm64");

int main(int argc, char** argv) {
  const int port = argc > 1 ? std::atoi(argv[1]) : 8000;
  CTestData data;  // not zeroed: padding holds garbage, as in most C programs
  data.a = argc > 2 ? argv[2][0] : 'A';
  data.b = argc > 3 ? std::atoi(argv[3]) : 300;
  std::memset(data.c, 0, sizeof data.c);
  std::strncpy(data.c, argc > 4 ? argv[4] : "hello", sizeof data.c);

  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return std::perror("socket"), 1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) < 0) return std::perror("connect"), 1;

  // The whole struct, padding included, in host byte order: what the struct server decodes.
  const char* bytes = reinterpret_cast<const char*>(&data);
  size_t sent = 0;
  while (sent < sizeof data) {
    const ssize_t n = send(fd, bytes + sent, sizeof data - sent, 0);
    if (n <= 0) return std::perror("send"), 1;
    sent += static_cast<size_t>(n);
  }
  std::printf("sent %zu bytes: a=%c b=%d c=%s\n", sent, data.a, data.b, data.c);
  shutdown(fd, SHUT_WR);
  char drain[64];
  while (recv(fd, drain, sizeof drain, 0) > 0) {
  }
  close(fd);
  return 0;
}
