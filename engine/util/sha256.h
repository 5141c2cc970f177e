#pragma once
// SHA-256 (OpenSSL's libcrypto) as lowercase hex: model identity in the store, tensor checks.
#include <cstddef>
#include <cstdint>
#include <string>

namespace scout {
std::string sha256_hex(const void* data, size_t size);
std::string sha256_file_hex(const std::string& path);  // streams the file; throws Error
}  // namespace scout
