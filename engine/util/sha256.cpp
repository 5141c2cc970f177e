#include "engine/util/sha256.h"

#include <openssl/evp.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "engine/util/error.h"

namespace scout {
namespace {
struct MdCtx {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  MdCtx() { EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr); }
  ~MdCtx() { EVP_MD_CTX_free(ctx); }
  void update(const void* p, size_t n) { EVP_DigestUpdate(ctx, p, n); }
  std::string hex() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx, md, &len);
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned int k = 0; k < len; ++k) {
      out += digits[md[k] >> 4];
      out += digits[md[k] & 15];
    }
    return out;
  }
};
}  // namespace

std::string sha256_hex(const void* data, size_t size) {
  MdCtx md;
  md.update(data, size);
  return md.hex();
}

std::string sha256_file_hex(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) throw Error(path + ": cannot open: " + std::strerror(errno));
  MdCtx md;
  std::vector<char> buf(1 << 20);
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f.get())) > 0) md.update(buf.data(), n);
  if (std::ferror(f.get())) throw Error(path + ": read failed");
  return md.hex();
}
}  // namespace scout
