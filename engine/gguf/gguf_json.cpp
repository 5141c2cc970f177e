#include "engine/gguf/gguf_json.h"

namespace scout::gguf {

nlohmann::json value_json(const Value& v) {
  switch (v.type) {
    case ValueType::STRING: return v.s;
    case ValueType::BOOL: return v.i != 0;
    case ValueType::FLOAT32: case ValueType::FLOAT64: return v.f;
    case ValueType::UINT64: return v.u;
    case ValueType::ARRAY: {
      auto a = nlohmann::json::array();
      for (const auto& it : v.items) a.push_back(value_json(it));
      return a;
    }
    default: return v.i;
  }
}

nlohmann::json metadata_json(const File& f, size_t max_array_items) {
  auto md = nlohmann::json::object();
  for (const auto& kv : f.metadata()) {
    if (kv.value.type == ValueType::ARRAY && kv.value.items.size() > max_array_items)
      md[kv.key] = {{"array_of", std::string(value_type_name(kv.value.elem))}, {"count", kv.value.items.size()}};
    else
      md[kv.key] = value_json(kv.value);
  }
  return md;
}

}  // namespace scout::gguf
