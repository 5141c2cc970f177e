#include "harness/store/quant_comparisons.h"

namespace scout::store {

int64_t record_quant_comparison(Store& store, const Model& base, const Model& test, QuantComparison& c) {
  auto tx = store.transaction();  // no comparison row pointing at a half-recorded model
  c.base_model_id = store.upsert_model(base);
  c.test_model_id = store.upsert_model(test);
  c.id = store.insert_quant_comparison(c);
  tx.commit();
  return c.id;
}

nlohmann::json quant_comparison_json(const QuantComparison& c) {
  return {{"id", c.id},
          {"base_model_id", c.base_model_id},
          {"test_model_id", c.test_model_id},
          {"text_source", c.text_source},
          {"ctx", c.ctx},
          {"chunks", c.chunks},
          {"tokens_scored", c.tokens_scored},
          {"ppl_base", c.ppl_base},
          {"ppl_test", c.ppl_test},
          {"kld_mean", c.kld_mean},
          {"kld_stderr", c.kld_stderr ? nlohmann::json(*c.kld_stderr) : nlohmann::json()},
          {"kld_median", c.kld_median},
          {"kld_p90", c.kld_p90},
          {"kld_p99", c.kld_p99},
          {"kld_max", c.kld_max},
          {"same_top_p", c.same_top_p},
          {"delta_p", c.delta_p},
          {"created_at", c.created_at}};
}

}  // namespace scout::store
