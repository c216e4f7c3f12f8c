// Reader for the reference file written by torch_reference.py (host-only test support).
#pragma once

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace edgelstm::test {

using Record = std::vector<double>;
using ReferenceCase = std::map<std::string, Record>;

// Parses `case <name>` headers and `<name> <count> <values...>` records. Throws with the file and
// line number on malformed input.
inline std::map<std::string, ReferenceCase> read_reference_file(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw std::runtime_error(path + ": cannot open (was the generator run?)");
  std::map<std::string, ReferenceCase> cases;
  ReferenceCase* current = nullptr;
  std::string line;
  for (int number = 1; std::getline(file, line); ++number) {
    std::istringstream in(line);
    std::string name;
    in >> name;
    if (name == "case") {
      std::string case_name;
      in >> case_name;
      current = &cases[case_name];
      continue;
    }
    std::size_t count = 0;
    if (current == nullptr || !(in >> count)) {
      throw std::runtime_error(path + ":" + std::to_string(number) + ": expected '<name> <count> values'");
    }
    Record values(count);
    for (double& v : values) {
      if (!(in >> v)) {
        throw std::runtime_error(path + ":" + std::to_string(number) + ": expected " +
                                 std::to_string(count) + " values for " + name);
      }
    }
    (*current)[name] = std::move(values);
  }
  return cases;
}

inline const Record& field(const ReferenceCase& reference, const std::string& name) {
  const auto found = reference.find(name);
  if (found == reference.end()) throw std::runtime_error("reference record missing: " + name);
  return found->second;
}

}  // namespace edgelstm::test
