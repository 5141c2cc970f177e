#pragma once
// GGUF v2/v3: a validating reader over a memory map and a streaming writer.
//
// The reader checks everything before anything is used: magic, version, counts, string and
// array lengths against the bytes left, nesting depth, alignment, tensor ranks, dimension
// products and byte sizes without overflow, known tensor types, duplicate keys and names,
// tensor data inside the file and not overlapping. A bad file raises gguf::FormatError whose
// message names the file and the offending item; no allocation is sized from unchecked input.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/quant/types.h"
#include "engine/util/error.h"

namespace scout::gguf {

class FormatError : public Error {
 public:
  using Error::Error;
};

enum class ValueType : uint32_t {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
};
std::string_view value_type_name(ValueType t);

// One metadata value. Scalars keep their GGUF type; arrays keep their element type.
struct Value {
  ValueType type = ValueType::UINT32;
  int64_t i = 0;            // signed and unsigned integers up to int64 range, bool
  uint64_t u = 0;           // the raw unsigned value (UINT64 beyond int64 range)
  double f = 0.0;           // FLOAT32 / FLOAT64
  std::string s;            // STRING
  ValueType elem = ValueType::UINT8;  // ARRAY element type
  std::vector<Value> items;           // ARRAY elements

  bool is_integer() const;
  bool is_float() const { return type == ValueType::FLOAT32 || type == ValueType::FLOAT64; }
  // Typed views; each throws scout::Error naming the type when the value is not of it.
  int64_t as_int() const;         // any integer type or bool
  double as_float() const;        // float or integer
  bool as_bool() const;
  const std::string& as_string() const;
  std::vector<std::string> as_strings() const;  // ARRAY of STRING
  std::vector<int64_t> as_ints() const;         // ARRAY of integers
  std::vector<float> as_floats() const;         // ARRAY of numbers

  static Value of_u32(uint32_t v);
  static Value of_i32(int32_t v);
  static Value of_u64(uint64_t v);
  static Value of_f32(float v);
  static Value of_bool(bool v);
  static Value of_string(std::string v);
  static Value of_array(ValueType elem, std::vector<Value> items);
  static Value of_strings(const std::vector<std::string>& v);
  static Value of_i32s(const std::vector<int32_t>& v);
  static Value of_f32s(const std::vector<float>& v);
  // A short human-readable rendering (long arrays elided), for `inspect`.
  std::string summary(size_t max_items = 8) const;
};

struct KeyValue {
  std::string key;
  Value value;
};

struct TensorInfo {
  std::string name;
  std::vector<int64_t> dims;  // ggml order: dims[0] is the row length (fastest varying)
  quant::GgmlType type = quant::GgmlType::F32;
  uint64_t offset = 0;        // relative to the data section
  uint64_t n_bytes = 0;
  int64_t n_elements = 0;
  const uint8_t* data = nullptr;  // inside the mapped file

  int64_t n_rows() const { return dims.empty() ? 0 : n_elements / dims[0]; }
  std::string shape_string() const;  // "[576, 49152]"
};

class File {
 public:
  // Map and validate a file. Throws FormatError (bad content) or Error (cannot open).
  static std::unique_ptr<File> open(const std::string& path);
  // Validate a buffer the caller keeps alive (the fuzzer uses this). `name` labels errors.
  static std::unique_ptr<File> parse(const uint8_t* data, size_t size, std::string name);
  ~File();
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }
  uint64_t file_size() const { return size_; }

  const std::vector<KeyValue>& metadata() const { return kv_; }
  const Value* find(std::string_view key) const;
  // Required lookups: throw FormatError "<file>: metadata <key> ..." when absent or mistyped.
  const Value& get(std::string_view key) const;
  int64_t get_int(std::string_view key) const;
  double get_float(std::string_view key) const;
  std::string get_string(std::string_view key) const;
  int64_t get_int_or(std::string_view key, int64_t fallback) const;
  double get_float_or(std::string_view key, double fallback) const;
  // "general.architecture" or "" when absent.
  std::string architecture() const;

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* tensor(std::string_view name) const;  // nullptr when absent

 private:
  File() = default;
  void parse_all();

  std::string path_;
  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
  void* mapping_ = nullptr;  // owned mmap, when opened from a path
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<KeyValue> kv_;
  std::vector<TensorInfo> tensors_;
};

// Streams a GGUF v3 file: metadata and tensor infos first, then each tensor's bytes produced on
// demand (so multi-gigabyte models never sit in memory whole). Writes to PATH.partial and
// renames on success: a failed write leaves no file behind.
class Writer {
 public:
  using Producer = std::function<void(std::span<uint8_t> out)>;

  void set(std::string key, Value v);  // replaces an existing key, keeps first position
  void set_alignment(uint32_t a);
  // dims in ggml order; the producer fills exactly the tensor's byte size.
  void add_tensor(std::string name, quant::GgmlType type, std::vector<int64_t> dims, Producer p);
  void add_tensor_bytes(std::string name, quant::GgmlType type, std::vector<int64_t> dims,
                        std::span<const uint8_t> bytes);  // copies nothing: bytes must outlive write()
  size_t tensor_count() const { return tensors_.size(); }
  uint64_t tensor_bytes(size_t i) const;

  // Optional progress: called after each tensor with (done, total) tensor counts.
  void write(const std::string& path,
             const std::function<void(size_t, size_t)>& progress = nullptr) const;

 private:
  struct Pending {
    std::string name;
    quant::GgmlType type;
    std::vector<int64_t> dims;
    uint64_t n_bytes;
    Producer produce;
  };
  std::vector<KeyValue> kv_;
  std::vector<Pending> tensors_;
  uint32_t alignment_ = 32;
};

}  // namespace scout::gguf
