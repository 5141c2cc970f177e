// GGUF reader and writer. Files are built byte by byte here, straight from the GGUF v3 spec
// (not with our Writer), so the reader is checked against an independent encoding; each
// corrupted variant must be refused with a FormatError that names the file and the item.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>

#include "common/test_paths.h"
#include "engine/gguf/gguf.h"

namespace scout::gguf {
namespace {

class Bytes {
 public:
  template <typename T>
  Bytes& put(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    b.insert(b.end(), p, p + sizeof v);
    return *this;
  }
  Bytes& str(const std::string& s) {
    put<uint64_t>(s.size());
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  Bytes& pad(size_t alignment) {
    while (b.size() % alignment) b.push_back(0);
    return *this;
  }
  std::vector<uint8_t> b;
};

// The parts of a small valid file, each replaceable by a test to corrupt one item.
struct Spec {
  uint32_t magic = 0x46554747;
  uint32_t version = 3;
  std::optional<uint64_t> n_tensors_override, n_kv_override;
  std::function<void(Bytes&)> kvs = [](Bytes& o) {
    o.str("general.architecture").put<uint32_t>(8).str("llama");
    o.str("test.u8").put<uint32_t>(0).put<uint8_t>(200);
    o.str("test.i8").put<uint32_t>(1).put<int8_t>(-5);
    o.str("test.u16").put<uint32_t>(2).put<uint16_t>(60000);
    o.str("test.i16").put<uint32_t>(3).put<int16_t>(-30000);
    o.str("test.u32").put<uint32_t>(4).put<uint32_t>(4000000000u);
    o.str("test.i32").put<uint32_t>(5).put<int32_t>(-2000000000);
    o.str("test.f32").put<uint32_t>(6).put<float>(1.5f);
    o.str("test.bool").put<uint32_t>(7).put<uint8_t>(1);
    o.str("test.u64").put<uint32_t>(10).put<uint64_t>(std::numeric_limits<uint64_t>::max());
    o.str("test.i64").put<uint32_t>(11).put<int64_t>(std::numeric_limits<int64_t>::min());
    o.str("test.f64").put<uint32_t>(12).put<double>(-2.25);
    o.str("test.strings").put<uint32_t>(9).put<uint32_t>(8).put<uint64_t>(2).str("a").str("");
    // An array of two arrays of i32: [[1, 2], [3]].
    o.str("test.nested").put<uint32_t>(9).put<uint32_t>(9).put<uint64_t>(2);
    o.put<uint32_t>(5).put<uint64_t>(2).put<int32_t>(1).put<int32_t>(2);
    o.put<uint32_t>(5).put<uint64_t>(1).put<int32_t>(3);
  };
  uint64_t n_kv = 14;
  struct Tensor {
    std::string name;
    std::vector<uint64_t> dims;
    uint32_t type;
    uint64_t offset;
  };
  std::vector<Tensor> tensors = {{"a.weight", {4, 2}, 0, 0}, {"b.weight", {32, 3}, 8, 32}};
  size_t data_bytes = 32 + 3 * 34;
  size_t truncate_to = 0;  // 0 = keep whole
  bool pad = true;
};

std::vector<uint8_t> build(const Spec& s) {
  Bytes o;
  o.put<uint32_t>(s.magic).put<uint32_t>(s.version);
  o.put<uint64_t>(s.n_tensors_override.value_or(s.tensors.size()));
  o.put<uint64_t>(s.n_kv_override.value_or(s.n_kv));
  s.kvs(o);
  for (const auto& t : s.tensors) {
    o.str(t.name).put<uint32_t>(uint32_t(t.dims.size()));
    for (uint64_t d : t.dims) o.put<uint64_t>(d);
    o.put<uint32_t>(t.type).put<uint64_t>(t.offset);
  }
  if (s.pad) o.pad(32);
  for (size_t k = 0; k < s.data_bytes; ++k) o.b.push_back(uint8_t(k * 7));
  if (s.truncate_to) o.b.resize(s.truncate_to);
  return o.b;
}

std::unique_ptr<File> parse(const std::vector<uint8_t>& bytes) {
  return File::parse(bytes.data(), bytes.size(), "test.gguf");
}

TEST(GgufReader, ReadsEveryValueTypeAndTensorLayout) {
  const auto bytes = build(Spec{});
  auto f = parse(bytes);
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->architecture(), "llama");
  EXPECT_EQ(f->get("test.u8").as_int(), 200);
  EXPECT_EQ(f->get("test.i8").as_int(), -5);
  EXPECT_EQ(f->get("test.u16").as_int(), 60000);
  EXPECT_EQ(f->get("test.i16").as_int(), -30000);
  EXPECT_EQ(f->get("test.u32").as_int(), 4000000000ll);
  EXPECT_EQ(f->get("test.i32").as_int(), -2000000000);
  EXPECT_FLOAT_EQ(float(f->get("test.f32").as_float()), 1.5f);
  EXPECT_TRUE(f->get("test.bool").as_bool());
  EXPECT_EQ(f->get("test.u64").u, std::numeric_limits<uint64_t>::max());
  EXPECT_THROW(f->get("test.u64").as_int(), Error);  // beyond int64: refused, not wrapped
  EXPECT_EQ(f->get("test.i64").as_int(), std::numeric_limits<int64_t>::min());
  EXPECT_DOUBLE_EQ(f->get("test.f64").as_float(), -2.25);
  EXPECT_EQ(f->get("test.strings").as_strings(), (std::vector<std::string>{"a", ""}));
  const Value& nested = f->get("test.nested");
  ASSERT_EQ(nested.items.size(), 2u);
  EXPECT_EQ(nested.items[0].as_ints(), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(nested.items[1].as_ints(), (std::vector<int64_t>{3}));
  EXPECT_THROW(f->get("test.u8").as_string(), Error);
  EXPECT_THROW(f->get_int("general.architecture"), FormatError);
  EXPECT_THROW(f->get("missing.key"), FormatError);

  ASSERT_EQ(f->tensors().size(), 2u);
  const TensorInfo* a = f->tensor("a.weight");
  const TensorInfo* b = f->tensor("b.weight");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->n_elements, 8);
  EXPECT_EQ(a->n_bytes, 32u);
  EXPECT_EQ(b->type, quant::GgmlType::Q8_0);
  EXPECT_EQ(b->n_bytes, 3u * 34);
  EXPECT_EQ(b->n_rows(), 3);
  EXPECT_EQ(f->data_offset() % 32, 0u);
  EXPECT_EQ(a->data, bytes.data() + f->data_offset());
  EXPECT_EQ(b->data[0], uint8_t(32 * 7));
}

// One corrupted variant: how to make it, and a fragment its error message must contain.
struct Corruption {
  const char* name;
  std::function<void(Spec&)> mutate;
  const char* expect;
};

std::vector<Corruption> corruptions() {
  using T = Spec::Tensor;
  return {
      {"empty file", [](Spec& s) { s.truncate_to = 1; s.magic = 0; }, "magic"},
      {"truncated header", [](Spec& s) { s.truncate_to = 10; }, "tensor count"},
      {"bad magic", [](Spec& s) { s.magic = 0x46554746; }, "bad magic"},
      {"version 1", [](Spec& s) { s.version = 1; }, "unsupported GGUF version 1"},
      {"version 4", [](Spec& s) { s.version = 4; }, "unsupported GGUF version 4"},
      {"huge metadata count", [](Spec& s) { s.n_kv_override = uint64_t(1) << 60; }, "metadata count"},
      {"huge tensor count", [](Spec& s) { s.n_tensors_override = uint64_t(1) << 62; }, "tensor count"},
      {"more keys than present", [](Spec& s) { s.n_kv_override = 40; }, "metadata"},
      {"key length past end", [](Spec& s) { s.kvs = [](Bytes& o) { o.put<uint64_t>(uint64_t(1) << 40); }; s.n_kv = 1; }, "key of length"},
      {"string value too long", [](Spec& s) { s.kvs = [](Bytes& o) { o.str("k").put<uint32_t>(8).put<uint64_t>(~uint64_t(0)); }; s.n_kv = 1; }, "metadata 'k'"},
      {"unknown value type", [](Spec& s) { s.kvs = [](Bytes& o) { o.str("k").put<uint32_t>(99).put<uint32_t>(0); }; s.n_kv = 1; }, "unknown value type 99"},
      {"huge array count", [](Spec& s) { s.kvs = [](Bytes& o) { o.str("k").put<uint32_t>(9).put<uint32_t>(4).put<uint64_t>(uint64_t(1) << 61); }; s.n_kv = 1; }, "cannot fit"},
      {"array count times size overflows", [](Spec& s) { s.kvs = [](Bytes& o) { o.str("k").put<uint32_t>(9).put<uint32_t>(10).put<uint64_t>(~uint64_t(0) / 4); }; s.n_kv = 1; }, "cannot fit"},
      {"unknown array element type", [](Spec& s) { s.kvs = [](Bytes& o) { o.str("k").put<uint32_t>(9).put<uint32_t>(13).put<uint64_t>(1); }; s.n_kv = 1; }, "unknown array element type 13"},
      {"arrays nested too deep", [](Spec& s) {
         s.kvs = [](Bytes& o) {
           o.str("k").put<uint32_t>(9);
           for (int d = 0; d < 20; ++d) o.put<uint32_t>(9).put<uint64_t>(1);
           o.put<uint32_t>(4).put<uint64_t>(0);
         };
         s.n_kv = 1; }, "nested deeper"},
      {"bool byte 7", [](Spec& s) { s.kvs = [](Bytes& o) { o.str("k").put<uint32_t>(7).put<uint8_t>(7); }; s.n_kv = 1; }, "bool byte is 7"},
      {"duplicate key", [](Spec& s) { s.kvs = [](Bytes& o) { o.str("k").put<uint32_t>(4).put<uint32_t>(1).str("k").put<uint32_t>(4).put<uint32_t>(2); }; s.n_kv = 2; }, "'k' appears twice"},
      {"empty key", [](Spec& s) { s.kvs = [](Bytes& o) { o.str("").put<uint32_t>(4).put<uint32_t>(1); }; s.n_kv = 1; }, "empty key"},
      {"alignment not a power of two", [](Spec& s) { s.kvs = [](Bytes& o) { o.str("general.alignment").put<uint32_t>(4).put<uint32_t>(48); }; s.n_kv = 1; }, "not a power of two"},
      {"alignment of the wrong type", [](Spec& s) { s.kvs = [](Bytes& o) { o.str("general.alignment").put<uint32_t>(8).str("32"); }; s.n_kv = 1; }, "general.alignment must be u32"},
      {"tensor rank 0", [](Spec& s) { s.tensors[0].dims = {}; }, "rank 0"},
      {"tensor rank 5", [](Spec& s) { s.tensors[0].dims = {1, 1, 1, 1, 1}; }, "rank 5"},
      {"dimensions overflow", [](Spec& s) { s.tensors[0].dims = {uint64_t(1) << 40, uint64_t(1) << 40}; }, "dimensions overflow"},
      {"dimension beyond int64", [](Spec& s) { s.tensors[0].dims = {~uint64_t(0)}; }, "dimensions overflow"},
      {"unknown tensor type", [](Spec& s) { s.tensors[0].type = 99; }, "unknown tensor type 99"},
      {"removed tensor type 4", [](Spec& s) { s.tensors[0].type = 4; }, "unknown tensor type 4"},
      {"row not a multiple of the block", [](Spec& s) { s.tensors[1].dims = {33, 3}; }, "not a multiple of the q8_0 block size"},
      {"unaligned offset", [](Spec& s) { s.tensors[1].offset = 40; }, "not aligned"},
      {"offset past the end", [](Spec& s) { s.tensors[1].offset = uint64_t(1) << 50; }, "past the end"},
      {"data truncated", [](Spec& s) { s.truncate_to = build(Spec{}).size() - 5; }, "'b.weight' data"},
      {"overlapping tensors", [](Spec& s) { s.tensors[1] = T{"b.weight", {32, 1}, 8, 0}; }, "overlap"},
      {"duplicate tensor name", [](Spec& s) { s.tensors[1].name = "a.weight"; }, "'a.weight' appears twice"},
      {"empty tensor name", [](Spec& s) { s.tensors[1].name = ""; }, "empty name"},
      {"tensor info truncated", [](Spec& s) {
         Spec no_tensors;
         no_tensors.tensors.clear();
         no_tensors.data_bytes = 0;
         no_tensors.pad = false;
         s.truncate_to = build(no_tensors).size() + 10;  // inside the first tensor info
       }, "tensor"},
  };
}

TEST(GgufReader, RefusesEveryCorruptedVariantWithAClearMessage) {
  const auto all = corruptions();
  ASSERT_GE(all.size(), 20u);
  for (const auto& c : all) {
    Spec s;
    c.mutate(s);
    const auto bytes = build(s);
    try {
      parse(bytes);
      ADD_FAILURE() << c.name << ": accepted";
    } catch (const FormatError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("test.gguf: "), std::string::npos) << c.name << ": " << msg;
      EXPECT_NE(msg.find(c.expect), std::string::npos) << c.name << ": message was: " << msg;
    }
  }
}

TEST(GgufReader, EveryTruncationOfAValidFileIsRefused) {
  const auto bytes = build(Spec{});
  for (size_t n = 0; n + 1 < bytes.size(); ++n) {
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + long(n));
    EXPECT_THROW(parse(cut), FormatError) << "prefix of " << n << " bytes";
  }
}

TEST(GgufReader, OpenNamesTheFileOnErrors) {
  const auto dir = test::scratch_dir("gguf_open");
  EXPECT_THROW(File::open((dir / "missing.gguf").string()), Error);
  const auto path = (dir / "bad.gguf").string();
  std::ofstream(path) << "not a gguf file at all";
  try {
    File::open(path);
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
  }
}

TEST(GgufWriter, RoundTripsMetadataAndTensors) {
  const auto dir = test::scratch_dir("gguf_writer");
  const auto path = (dir / "w.gguf").string();
  Writer w;
  w.set_alignment(64);
  w.set("general.architecture", Value::of_string("llama"));
  w.set("x.u32", Value::of_u32(7));
  w.set("x.i32", Value::of_i32(-7));
  w.set("x.u64", Value::of_u64(1ull << 40));
  w.set("x.f32", Value::of_f32(0.25f));
  w.set("x.bool", Value::of_bool(false));
  w.set("x.strings", Value::of_strings({"é", "日本", ""}));
  w.set("x.floats", Value::of_f32s({1.0f, -2.5f}));
  w.set("x.nested", Value::of_array(ValueType::ARRAY, {Value::of_i32s({1, 2}), Value::of_i32s({})}));
  w.set("x.u32", Value::of_u32(8));  // replaces, keeps position
  std::vector<uint8_t> q8(2 * 34, 0x5a);
  w.add_tensor_bytes("q", quant::GgmlType::Q8_0, {64, 1}, q8);
  w.add_tensor("f", quant::GgmlType::F32, {3}, [](std::span<uint8_t> out) {
    const float v[3] = {1, 2, 3};
    std::memcpy(out.data(), v, sizeof v);
  });
  w.write(path);
  EXPECT_FALSE(std::filesystem::exists(path + ".partial"));

  auto f = File::open(path);
  EXPECT_EQ(f->alignment(), 64u);
  ASSERT_EQ(f->metadata().size(), 10u);
  EXPECT_EQ(f->metadata()[2].key, "x.u32");
  EXPECT_EQ(f->get_int("x.u32"), 8);
  EXPECT_EQ(f->get_int("x.i32"), -7);
  EXPECT_EQ(f->get_int("x.u64"), 1ll << 40);
  EXPECT_EQ(f->get_float("x.f32"), 0.25);
  EXPECT_FALSE(f->get("x.bool").as_bool());
  EXPECT_EQ(f->get("x.strings").as_strings(), (std::vector<std::string>{"é", "日本", ""}));
  EXPECT_EQ(f->get("x.floats").as_floats(), (std::vector<float>{1.0f, -2.5f}));
  EXPECT_EQ(f->get("x.nested").items.at(0).as_ints(), (std::vector<int64_t>{1, 2}));
  EXPECT_TRUE(f->get("x.nested").items.at(1).items.empty());
  const TensorInfo* q = f->tensor("q");
  ASSERT_TRUE(q);
  EXPECT_EQ(std::vector<uint8_t>(q->data, q->data + q->n_bytes), q8);
  EXPECT_EQ(q->offset % 64, 0u);
  const TensorInfo* ft = f->tensor("f");
  ASSERT_TRUE(ft);
  EXPECT_EQ(ft->offset % 64, 0u);
  float got[3];
  std::memcpy(got, ft->data, sizeof got);
  EXPECT_EQ(got[2], 3.0f);
}

TEST(GgufWriter, FailedWriteLeavesNoFile) {
  const auto dir = test::scratch_dir("gguf_writer_fail");
  const auto path = (dir / "w.gguf").string();
  Writer w;
  w.set("general.architecture", Value::of_string("llama"));
  w.add_tensor("t", quant::GgmlType::F32, {4}, [](std::span<uint8_t>) { throw Error("producer failed"); });
  EXPECT_THROW(w.write(path), Error);
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".partial"));
  EXPECT_THROW(w.add_tensor("t", quant::GgmlType::F32, {4}, nullptr), Error);          // duplicate
  EXPECT_THROW(w.add_tensor("u", quant::GgmlType::Q8_0, {33}, nullptr), Error);        // not a block multiple
  EXPECT_THROW(w.add_tensor("v", quant::GgmlType::F32, {1, 1, 1, 1, 1}, nullptr), Error);  // rank 5
}

TEST(GgufReader, ReadsTheRealSmolLM2File) {
  const auto path = test::smollm2_path();
  if (path.empty()) GTEST_SKIP() << "SmolLM2 not fetched (scripts/setup.sh)";
  auto f = File::open(path.string());
  EXPECT_EQ(f->architecture(), "llama");
  EXPECT_EQ(f->tensors().size(), 272u);
  EXPECT_EQ(f->get_int("llama.block_count"), 30);
  EXPECT_EQ(f->get("tokenizer.ggml.tokens").items.size(), 49152u);
  EXPECT_EQ(f->get("tokenizer.ggml.merges").items.size(), 48900u);
  EXPECT_EQ(f->tensor("token_embd.weight")->type, quant::GgmlType::Q8_0);
  EXPECT_EQ(f->tensor("blk.0.attn_q.weight")->type, quant::GgmlType::Q4_1);
  const TensorInfo& last = *std::max_element(f->tensors().begin(), f->tensors().end(),
      [](const TensorInfo& a, const TensorInfo& b) { return a.offset < b.offset; });
  EXPECT_LE(f->data_offset() + last.offset + last.n_bytes, f->file_size());
}

}  // namespace
}  // namespace scout::gguf
