// libFuzzer target: any bytes given to the CSV reader either parse or raise InputError; anything
// else (a crash, another exception, a sanitizer report) is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "host/csv_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const bool regular : {true, false}) {
    try {
      const auto table = edgelstm::host::parse_table(text, "fuzz.csv", "timestamp",
                                                     {{"value", true}, {"label", false}}, regular);
      if (table.numbers[0].size() != table.rows() || table.text[1].size() != table.rows()) __builtin_trap();
    } catch (const edgelstm::host::InputError&) {
    }
  }
  return 0;
}
