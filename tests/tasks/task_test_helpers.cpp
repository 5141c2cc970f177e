#include "task_test_helpers.h"

#include <stdexcept>

namespace scout::tasks::testing {

const Catalog& catalog() {
  static const Catalog c;
  return c;
}

harness::EvalTask make_task(const std::string& task, const std::string& protocol, harness::TaskSettings s) {
  static harness::DataDir data(scout::test::datasets_dir());
  const auto& p = protocol.empty() ? catalog().protocols.default_for(task) : catalog().protocols.get(task, protocol);
  return harness::EvalTask(p, catalog().components, data, s);
}

store::Sample score_output(const harness::EvalTask& t, const harness::Doc& doc, int64_t repeat, const std::string& output) {
  return t.score_generation(doc, t.prepare(doc, repeat), output, "prompt");
}

store::Sample score_pick(const harness::EvalTask& t, const harness::Doc& doc, size_t pick) {
  const auto ps = t.prepare(doc, 0);
  // -1 per character for the pick, -100 per character for the others: both the sums and
  // the per-character values favour the pick.
  std::vector<double> lp;
  for (size_t i = 0; i < ps.continuations.size(); ++i)
    lp.push_back((i == pick ? -1.0 : -100.0) * double(ps.continuations[i].size()));
  const std::vector<char> greedy(lp.size(), 0);
  return t.score_loglikelihood(doc, ps, lp, greedy, "prompt");
}

const store::Metric& metric(const std::vector<store::Metric>& ms, const std::string& task, const std::string& name) {
  for (const auto& m : ms)
    if (m.task == task && m.name == name) return m;
  throw std::runtime_error("no metric " + task + " / " + name);
}

}  // namespace scout::tasks::testing
