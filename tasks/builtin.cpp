#include "tasks/builtin.h"

#include "tasks/common/extractors.h"
#include "tasks/common/scorers.h"
#include "tasks/loaders.h"

namespace scout::tasks {

harness::Components builtin_components() {
  harness::Components c;
  register_extractors(c);
  register_scorers(c);
  register_mmlu_pro(c);
  register_gpqa(c);
  register_bbh(c);
  register_musr(c);
  register_competition_math(c);
  register_ifeval(c);
  return c;
}

void add_builtin_protocols(harness::ProtocolRegistry& registry) {
  for (const auto& [path, text] : embedded_protocol_files()) registry.add_json_text(text, path);
}

}  // namespace scout::tasks
