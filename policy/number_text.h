// Numbers in messages and reports as a person writes them ("1.2", "0.474", "1e-05"), not as
// std::to_string does ("1.200000").
#pragma once

#include <cstdio>
#include <string>

namespace edgelstm::policy {

inline std::string number_text(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

}  // namespace edgelstm::policy
