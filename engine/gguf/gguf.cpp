#include "engine/gguf/gguf.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <unordered_set>

namespace scout::gguf {
namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" little-endian
constexpr int kMaxDims = 4;              // GGML_MAX_DIMS
constexpr int kMaxArrayDepth = 8;        // nested arrays deeper than this are rejected
constexpr uint64_t kDefaultAlignment = 32;

// Smallest encoded size of one value of a type: bounds element counts by the bytes left, so
// a forged count can never size an allocation past the file.
uint64_t min_encoded_size(ValueType t) {
  switch (t) {
    case ValueType::UINT8: case ValueType::INT8: case ValueType::BOOL: return 1;
    case ValueType::UINT16: case ValueType::INT16: return 2;
    case ValueType::UINT32: case ValueType::INT32: case ValueType::FLOAT32: return 4;
    case ValueType::UINT64: case ValueType::INT64: case ValueType::FLOAT64: return 8;
    case ValueType::STRING: return 8;   // length prefix
    case ValueType::ARRAY: return 12;   // element type + count
  }
  return 1;
}

bool valid_value_type(uint32_t t) { return t <= static_cast<uint32_t>(ValueType::FLOAT64); }

bool mul_overflows(uint64_t a, uint64_t b, uint64_t* out) {
  return __builtin_mul_overflow(a, b, out);
}

uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

// Bounds-checked little-endian cursor over the file; every failure names the item.
class Cursor {
 public:
  Cursor(const uint8_t* data, size_t size, const std::string& name)
      : data_(data), size_(size), name_(name) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw FormatError(name_ + ": " + what + " (at byte " + std::to_string(pos_) + ")");
  }
  uint64_t pos() const { return pos_; }
  uint64_t left() const { return size_ - pos_; }

  void need(uint64_t n, const std::string& what) const {
    if (n > left())
      fail(what + ": needs " + std::to_string(n) + " bytes but only " + std::to_string(left()) +
           " remain (file truncated?)");
  }
  template <typename T>
  T read(const std::string& what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string read_string(const std::string& what) {
    const uint64_t len = read<uint64_t>(what + " length");
    need(len, what + " of length " + std::to_string(len));
    std::string s(reinterpret_cast<const char*>(data_ + pos_), len);
    pos_ += len;
    return s;
  }

 private:
  const uint8_t* data_;
  uint64_t size_;
  uint64_t pos_ = 0;
  const std::string& name_;
};

Value read_value(Cursor& c, ValueType type, const std::string& what, int depth);

Value read_array(Cursor& c, const std::string& what, int depth) {
  if (depth >= kMaxArrayDepth) c.fail(what + ": arrays nested deeper than " + std::to_string(kMaxArrayDepth));
  const uint32_t elem = c.read<uint32_t>(what + " element type");
  if (!valid_value_type(elem)) c.fail(what + ": unknown array element type " + std::to_string(elem));
  const uint64_t count = c.read<uint64_t>(what + " element count");
  const auto etype = static_cast<ValueType>(elem);
  uint64_t min_bytes = 0;
  if (mul_overflows(count, min_encoded_size(etype), &min_bytes) || min_bytes > c.left())
    c.fail(what + ": array of " + std::to_string(count) + " " +
           std::string(value_type_name(etype)) + " elements cannot fit in the " +
           std::to_string(c.left()) + " bytes left");
  Value v;
  v.type = ValueType::ARRAY;
  v.elem = etype;
  v.items.reserve(count);
  for (uint64_t i = 0; i < count; ++i)
    v.items.push_back(read_value(c, etype, what + "[" + std::to_string(i) + "]", depth + 1));
  return v;
}

Value read_value(Cursor& c, ValueType type, const std::string& what, int depth) {
  Value v;
  v.type = type;
  switch (type) {
    case ValueType::UINT8: v.u = c.read<uint8_t>(what); v.i = int64_t(v.u); break;
    case ValueType::INT8: v.i = c.read<int8_t>(what); v.u = uint64_t(v.i); break;
    case ValueType::UINT16: v.u = c.read<uint16_t>(what); v.i = int64_t(v.u); break;
    case ValueType::INT16: v.i = c.read<int16_t>(what); v.u = uint64_t(v.i); break;
    case ValueType::UINT32: v.u = c.read<uint32_t>(what); v.i = int64_t(v.u); break;
    case ValueType::INT32: v.i = c.read<int32_t>(what); v.u = uint64_t(v.i); break;
    case ValueType::UINT64: v.u = c.read<uint64_t>(what); v.i = int64_t(v.u); break;
    case ValueType::INT64: v.i = c.read<int64_t>(what); v.u = uint64_t(v.i); break;
    case ValueType::FLOAT32: v.f = c.read<float>(what); break;
    case ValueType::FLOAT64: v.f = c.read<double>(what); break;
    case ValueType::BOOL: {
      const uint8_t b = c.read<uint8_t>(what);
      if (b > 1) c.fail(what + ": bool byte is " + std::to_string(b) + ", not 0 or 1");
      v.i = b; v.u = b;
      break;
    }
    case ValueType::STRING: v.s = c.read_string(what); break;
    case ValueType::ARRAY: return read_array(c, what, depth);
  }
  return v;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Value

std::string_view value_type_name(ValueType t) {
  switch (t) {
    case ValueType::UINT8: return "u8";
    case ValueType::INT8: return "i8";
    case ValueType::UINT16: return "u16";
    case ValueType::INT16: return "i16";
    case ValueType::UINT32: return "u32";
    case ValueType::INT32: return "i32";
    case ValueType::FLOAT32: return "f32";
    case ValueType::BOOL: return "bool";
    case ValueType::STRING: return "string";
    case ValueType::ARRAY: return "array";
    case ValueType::UINT64: return "u64";
    case ValueType::INT64: return "i64";
    case ValueType::FLOAT64: return "f64";
  }
  return "?";
}

bool Value::is_integer() const {
  switch (type) {
    case ValueType::UINT8: case ValueType::INT8: case ValueType::UINT16: case ValueType::INT16:
    case ValueType::UINT32: case ValueType::INT32: case ValueType::UINT64: case ValueType::INT64:
      return true;
    default: return false;
  }
}

static Error type_error(const Value& v, const char* wanted) {
  return Error(std::string("metadata value is ") + std::string(value_type_name(v.type)) +
               ", expected " + wanted);
}

int64_t Value::as_int() const {
  if (type == ValueType::UINT64 && u > uint64_t(std::numeric_limits<int64_t>::max()))
    throw Error("metadata value " + std::to_string(u) + " does not fit in int64");
  if (is_integer() || type == ValueType::BOOL) return i;
  throw type_error(*this, "an integer");
}

double Value::as_float() const {
  if (is_float()) return f;
  if (type == ValueType::UINT64) return double(u);
  if (is_integer()) return double(i);
  throw type_error(*this, "a number");
}

bool Value::as_bool() const {
  if (type == ValueType::BOOL) return i != 0;
  throw type_error(*this, "a bool");
}

const std::string& Value::as_string() const {
  if (type == ValueType::STRING) return s;
  throw type_error(*this, "a string");
}

std::vector<std::string> Value::as_strings() const {
  if (type != ValueType::ARRAY || elem != ValueType::STRING) throw type_error(*this, "an array of strings");
  std::vector<std::string> out;
  out.reserve(items.size());
  for (const auto& it : items) out.push_back(it.s);
  return out;
}

std::vector<int64_t> Value::as_ints() const {
  if (type != ValueType::ARRAY) throw type_error(*this, "an array of integers");
  std::vector<int64_t> out;
  out.reserve(items.size());
  for (const auto& it : items) out.push_back(it.as_int());
  return out;
}

std::vector<float> Value::as_floats() const {
  if (type != ValueType::ARRAY) throw type_error(*this, "an array of numbers");
  std::vector<float> out;
  out.reserve(items.size());
  for (const auto& it : items) out.push_back(float(it.as_float()));
  return out;
}

Value Value::of_u32(uint32_t v) { Value x; x.type = ValueType::UINT32; x.u = v; x.i = v; return x; }
Value Value::of_i32(int32_t v) { Value x; x.type = ValueType::INT32; x.i = v; x.u = uint64_t(int64_t(v)); return x; }
Value Value::of_u64(uint64_t v) { Value x; x.type = ValueType::UINT64; x.u = v; x.i = int64_t(v); return x; }
Value Value::of_f32(float v) { Value x; x.type = ValueType::FLOAT32; x.f = v; return x; }
Value Value::of_bool(bool v) { Value x; x.type = ValueType::BOOL; x.i = v; x.u = v; return x; }
Value Value::of_string(std::string v) { Value x; x.type = ValueType::STRING; x.s = std::move(v); return x; }

Value Value::of_array(ValueType elem, std::vector<Value> items) {
  Value x;
  x.type = ValueType::ARRAY;
  x.elem = elem;
  x.items = std::move(items);
  return x;
}

Value Value::of_strings(const std::vector<std::string>& v) {
  std::vector<Value> items;
  items.reserve(v.size());
  for (const auto& s : v) items.push_back(of_string(s));
  return of_array(ValueType::STRING, std::move(items));
}

Value Value::of_i32s(const std::vector<int32_t>& v) {
  std::vector<Value> items;
  items.reserve(v.size());
  for (int32_t x : v) items.push_back(of_i32(x));
  return of_array(ValueType::INT32, std::move(items));
}

Value Value::of_f32s(const std::vector<float>& v) {
  std::vector<Value> items;
  items.reserve(v.size());
  for (float x : v) items.push_back(of_f32(x));
  return of_array(ValueType::FLOAT32, std::move(items));
}

std::string Value::summary(size_t max_items) const {
  switch (type) {
    case ValueType::STRING: {
      std::string out = "\"";
      for (size_t k = 0; k < s.size() && k < 120; ++k) {
        const char ch = s[k];
        if (ch == '\n') out += "\\n";
        else if (ch == '"') out += "\\\"";
        else out += ch;
      }
      if (s.size() > 120) out += "…(" + std::to_string(s.size()) + " bytes)";
      return out + "\"";
    }
    case ValueType::BOOL: return i ? "true" : "false";
    case ValueType::FLOAT32: case ValueType::FLOAT64: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.9g", f);
      return buf;
    }
    case ValueType::UINT64: return std::to_string(u);
    case ValueType::ARRAY: {
      std::string out = "[" + std::string(value_type_name(elem)) + " x " + std::to_string(items.size()) + "]";
      if (items.empty()) return out;
      out += " ";
      for (size_t k = 0; k < items.size() && k < max_items; ++k)
        out += (k ? ", " : "") + items[k].summary(max_items);
      if (items.size() > max_items) out += ", …";
      return out;
    }
    default: return std::to_string(i);
  }
}

std::string TensorInfo::shape_string() const {
  std::string out = "[";
  for (size_t k = 0; k < dims.size(); ++k) out += (k ? ", " : "") + std::to_string(dims[k]);
  return out + "]";
}

// ---------------------------------------------------------------------------------------------
// File

File::~File() {
  if (mapping_) munmap(mapping_, size_);
}

std::unique_ptr<File> File::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(path + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(path + ": not a regular file");
  }
  std::unique_ptr<File> f(new File());
  f->path_ = path;
  f->size_ = size_t(st.st_size);
  if (f->size_ > 0) {
    void* m = mmap(nullptr, f->size_, PROT_READ, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
      ::close(fd);
      throw Error(path + ": cannot map: " + std::strerror(errno));
    }
    f->mapping_ = m;
    f->base_ = static_cast<const uint8_t*>(m);
  }
  ::close(fd);
  f->parse_all();
  return f;
}

std::unique_ptr<File> File::parse(const uint8_t* data, size_t size, std::string name) {
  std::unique_ptr<File> f(new File());
  f->path_ = std::move(name);
  f->base_ = data;
  f->size_ = size;
  f->parse_all();
  return f;
}

void File::parse_all() {
  Cursor c(base_, size_, path_);
  const uint32_t magic = c.read<uint32_t>("magic");
  if (magic != kMagic) c.fail("bad magic: not a GGUF file");
  version_ = c.read<uint32_t>("version");
  if (version_ != 2 && version_ != 3)
    c.fail("unsupported GGUF version " + std::to_string(version_) + " (2 and 3 are read)");
  const uint64_t n_tensors = c.read<uint64_t>("tensor count");
  const uint64_t n_kv = c.read<uint64_t>("metadata count");
  // Each key-value needs >= 8 (key length) + 4 (type) + 1 bytes; each tensor info >= 8 + 4 + 4 + 8.
  if (n_kv > c.left() / 13) c.fail("metadata count " + std::to_string(n_kv) + " cannot fit in the file");
  if (n_tensors > c.left() / 24) c.fail("tensor count " + std::to_string(n_tensors) + " cannot fit in the file");

  std::unordered_set<std::string> keys;
  kv_.reserve(n_kv);
  for (uint64_t k = 0; k < n_kv; ++k) {
    const std::string item = "metadata #" + std::to_string(k);
    std::string key = c.read_string(item + " key");
    if (key.empty()) c.fail(item + ": empty key");
    if (!keys.insert(key).second) c.fail("metadata key '" + key + "' appears twice");
    const uint32_t type = c.read<uint32_t>("metadata '" + key + "' type");
    if (!valid_value_type(type)) c.fail("metadata '" + key + "': unknown value type " + std::to_string(type));
    Value v = read_value(c, static_cast<ValueType>(type), "metadata '" + key + "'", 0);
    kv_.push_back({std::move(key), std::move(v)});
  }

  alignment_ = kDefaultAlignment;
  if (const Value* a = find("general.alignment")) {
    if (a->type != ValueType::UINT32) c.fail("general.alignment must be u32");
    if (a->u == 0 || (a->u & (a->u - 1)) != 0) c.fail("general.alignment " + std::to_string(a->u) + " is not a power of two");
    alignment_ = a->u;
  }

  std::unordered_set<std::string> names;
  tensors_.reserve(n_tensors);
  for (uint64_t k = 0; k < n_tensors; ++k) {
    TensorInfo t;
    t.name = c.read_string("tensor #" + std::to_string(k) + " name");
    const std::string item = "tensor '" + t.name + "'";
    if (t.name.empty()) c.fail("tensor #" + std::to_string(k) + ": empty name");
    if (!names.insert(t.name).second) c.fail(item + " appears twice");
    const uint32_t n_dims = c.read<uint32_t>(item + " rank");
    if (n_dims == 0 || n_dims > kMaxDims) c.fail(item + ": rank " + std::to_string(n_dims) + " (1 to 4 allowed)");
    uint64_t n_el = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const uint64_t dim = c.read<uint64_t>(item + " dim " + std::to_string(d));
      if (dim > uint64_t(std::numeric_limits<int64_t>::max()) || mul_overflows(n_el, dim, &n_el) ||
          n_el > uint64_t(std::numeric_limits<int64_t>::max()))
        c.fail(item + ": dimensions overflow");
      t.dims.push_back(int64_t(dim));
    }
    t.n_elements = int64_t(n_el);
    const uint32_t type = c.read<uint32_t>(item + " type");
    const quant::TypeTraits* tr = quant::find_type(type);
    if (!tr) c.fail(item + ": unknown tensor type " + std::to_string(type));
    t.type = tr->type;
    if (t.dims[0] % tr->block_size != 0)
      c.fail(item + ": row length " + std::to_string(t.dims[0]) + " is not a multiple of the " +
             std::string(tr->name) + " block size " + std::to_string(tr->block_size));
    if (mul_overflows(n_el / uint64_t(tr->block_size), uint64_t(tr->type_size), &t.n_bytes))
      c.fail(item + ": byte size overflows");
    t.offset = c.read<uint64_t>(item + " offset");
    if (t.offset % alignment_ != 0)
      c.fail(item + ": offset " + std::to_string(t.offset) + " not aligned to " + std::to_string(alignment_));
    tensors_.push_back(std::move(t));
  }

  data_offset_ = align_up(c.pos(), alignment_);
  if (n_tensors > 0 && data_offset_ > size_) c.fail("data section starts past the end of the file");
  const uint64_t data_size = size_ - std::min<uint64_t>(data_offset_, size_);

  // Every tensor inside the data section, none overlapping another.
  std::vector<const TensorInfo*> by_offset;
  for (auto& t : tensors_) {
    if (t.offset > data_size || t.n_bytes > data_size - t.offset)
      throw FormatError(path_ + ": tensor '" + t.name + "' data [" + std::to_string(t.offset) + ", +" +
                        std::to_string(t.n_bytes) + ") lies past the end of the file (data section is " +
                        std::to_string(data_size) + " bytes)");
    t.data = base_ + data_offset_ + t.offset;
    by_offset.push_back(&t);
  }
  std::sort(by_offset.begin(), by_offset.end(),
            [](const TensorInfo* a, const TensorInfo* b) { return a->offset < b->offset; });
  for (size_t k = 1; k < by_offset.size(); ++k) {
    const TensorInfo& prev = *by_offset[k - 1];
    if (prev.offset + prev.n_bytes > by_offset[k]->offset)
      throw FormatError(path_ + ": tensors '" + prev.name + "' and '" + by_offset[k]->name + "' overlap");
  }
}

const Value* File::find(std::string_view key) const {
  for (const auto& kv : kv_)
    if (kv.key == key) return &kv.value;
  return nullptr;
}

const Value& File::get(std::string_view key) const {
  const Value* v = find(key);
  if (!v) throw FormatError(path_ + ": metadata " + std::string(key) + " is missing");
  return *v;
}

template <typename F>
static auto with_key(const std::string& path, std::string_view key, F&& f) {
  try {
    return f();
  } catch (const FormatError&) {
    throw;
  } catch (const Error& e) {
    throw FormatError(path + ": metadata " + std::string(key) + ": " + e.what());
  }
}

int64_t File::get_int(std::string_view key) const {
  return with_key(path_, key, [&] { return get(key).as_int(); });
}
double File::get_float(std::string_view key) const {
  return with_key(path_, key, [&] { return get(key).as_float(); });
}
std::string File::get_string(std::string_view key) const {
  return with_key(path_, key, [&] { return get(key).as_string(); });
}
int64_t File::get_int_or(std::string_view key, int64_t fallback) const {
  return find(key) ? get_int(key) : fallback;
}
double File::get_float_or(std::string_view key, double fallback) const {
  return find(key) ? get_float(key) : fallback;
}

std::string File::architecture() const {
  const Value* v = find("general.architecture");
  return v && v->type == ValueType::STRING ? v->s : std::string();
}

const TensorInfo* File::tensor(std::string_view name) const {
  for (const auto& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Writer

void Writer::set(std::string key, Value v) {
  for (auto& kv : kv_)
    if (kv.key == key) {
      kv.value = std::move(v);
      return;
    }
  kv_.push_back({std::move(key), std::move(v)});
}

void Writer::set_alignment(uint32_t a) {
  if (a == 0 || (a & (a - 1)) != 0) throw Error("GGUF alignment must be a power of two");
  alignment_ = a;
  set("general.alignment", Value::of_u32(a));
}

void Writer::add_tensor(std::string name, quant::GgmlType type, std::vector<int64_t> dims, Producer p) {
  if (dims.empty() || dims.size() > kMaxDims) throw Error("tensor " + name + ": rank must be 1 to 4");
  for (const auto& t : tensors_)
    if (t.name == name) throw Error("tensor " + name + " added twice");
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d <= 0) throw Error("tensor " + name + ": dimensions must be positive");
    n *= d;
  }
  const auto row = quant::row_bytes(type, dims[0]);
  if (!row) throw Error("tensor " + name + ": row length not a multiple of the block size");
  const uint64_t bytes = *row * uint64_t(n / dims[0]);
  tensors_.push_back({std::move(name), type, std::move(dims), bytes, std::move(p)});
}

void Writer::add_tensor_bytes(std::string name, quant::GgmlType type, std::vector<int64_t> dims,
                              std::span<const uint8_t> bytes) {
  const std::string label = name;
  add_tensor(std::move(name), type, std::move(dims), [bytes, label](std::span<uint8_t> out) {
    if (out.size() != bytes.size()) throw Error("tensor " + label + ": byte size does not match its shape");
    std::memcpy(out.data(), bytes.data(), bytes.size());
  });
}

uint64_t Writer::tensor_bytes(size_t i) const { return tensors_.at(i).n_bytes; }

namespace {

class OutFile {
 public:
  explicit OutFile(const std::string& path) : path_(path) {
    f_ = std::fopen(path.c_str(), "wb");
    if (!f_) throw Error(path + ": cannot create: " + std::strerror(errno));
  }
  ~OutFile() {
    if (f_) std::fclose(f_);
  }
  void bytes(const void* p, size_t n) {
    if (n && std::fwrite(p, 1, n, f_) != n) throw Error(path_ + ": write failed: " + std::strerror(errno));
    pos_ += n;
  }
  template <typename T>
  void put(T v) { bytes(&v, sizeof v); }
  void str(const std::string& s) {
    put<uint64_t>(s.size());
    bytes(s.data(), s.size());
  }
  void pad_to(uint64_t alignment) {
    static const uint8_t zeros[256] = {};
    uint64_t pad = align_up(pos_, alignment) - pos_;
    while (pad) {
      const uint64_t n = std::min<uint64_t>(pad, sizeof zeros);
      bytes(zeros, n);
      pad -= n;
    }
  }
  void close() {
    if (std::fflush(f_) != 0 || fsync(fileno(f_)) != 0 || std::fclose(f_) != 0) {
      f_ = nullptr;
      throw Error(path_ + ": write failed: " + std::strerror(errno));
    }
    f_ = nullptr;
  }

 private:
  std::string path_;
  std::FILE* f_ = nullptr;
  uint64_t pos_ = 0;
};

void write_value(OutFile& out, const Value& v) {
  switch (v.type) {
    case ValueType::UINT8: out.put<uint8_t>(uint8_t(v.u)); break;
    case ValueType::INT8: out.put<int8_t>(int8_t(v.i)); break;
    case ValueType::UINT16: out.put<uint16_t>(uint16_t(v.u)); break;
    case ValueType::INT16: out.put<int16_t>(int16_t(v.i)); break;
    case ValueType::UINT32: out.put<uint32_t>(uint32_t(v.u)); break;
    case ValueType::INT32: out.put<int32_t>(int32_t(v.i)); break;
    case ValueType::UINT64: out.put<uint64_t>(v.u); break;
    case ValueType::INT64: out.put<int64_t>(v.i); break;
    case ValueType::FLOAT32: out.put<float>(float(v.f)); break;
    case ValueType::FLOAT64: out.put<double>(v.f); break;
    case ValueType::BOOL: out.put<uint8_t>(v.i ? 1 : 0); break;
    case ValueType::STRING: out.str(v.s); break;
    case ValueType::ARRAY:
      out.put<uint32_t>(static_cast<uint32_t>(v.elem));
      out.put<uint64_t>(v.items.size());
      for (const auto& it : v.items) {
        if (it.type != v.elem) throw Error("GGUF array holds a value of another type");
        write_value(out, it);
      }
      break;
  }
}

}  // namespace

void Writer::write(const std::string& path, const std::function<void(size_t, size_t)>& progress) const {
  const std::string partial = path + ".partial";
  try {
    OutFile out(partial);
    out.put<uint32_t>(kMagic);
    out.put<uint32_t>(3);
    out.put<uint64_t>(tensors_.size());
    out.put<uint64_t>(kv_.size());
    for (const auto& kv : kv_) {
      out.str(kv.key);
      out.put<uint32_t>(static_cast<uint32_t>(kv.value.type));
      write_value(out, kv.value);
    }
    uint64_t offset = 0;
    for (const auto& t : tensors_) {
      out.str(t.name);
      out.put<uint32_t>(uint32_t(t.dims.size()));
      for (int64_t d : t.dims) out.put<uint64_t>(uint64_t(d));
      out.put<uint32_t>(static_cast<uint32_t>(t.type));
      out.put<uint64_t>(offset);
      offset = align_up(offset + t.n_bytes, alignment_);
    }
    out.pad_to(alignment_);
    std::vector<uint8_t> buf;
    for (size_t k = 0; k < tensors_.size(); ++k) {
      const auto& t = tensors_[k];
      buf.assign(t.n_bytes, 0);
      t.produce(std::span<uint8_t>(buf.data(), buf.size()));
      out.bytes(buf.data(), buf.size());
      out.pad_to(alignment_);
      if (progress) progress(k + 1, tensors_.size());
    }
    out.close();
    std::filesystem::rename(partial, path);
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove(partial, ec);
    throw;
  }
}

}  // namespace scout::gguf
