#pragma once
// The published Llama 4 Scout numbers that scout-eval sets out to reproduce, each with the
// provenance traced for it (which source and protocol most likely produced it).
#include <string_view>
#include <vector>

namespace scout::reports {

struct CardRow {
  std::string_view benchmark;
  double card_value;
  std::string_view protocol;    // scout-eval protocol name that reproduces it
  std::string_view provenance;  // where the number most likely comes from, and how it was made
  std::string_view task;        // scout-eval task id, "" while not implemented
};

const std::vector<CardRow>& scout_card();

}  // namespace scout::reports
