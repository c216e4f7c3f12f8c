#include "host/settings_text.h"

#include <sstream>

#include "host/csv_reader.h"

namespace edgelstm::host {

std::map<std::string, std::string> parse_settings(const std::string& text, const std::string& what,
                                                  std::initializer_list<const char*> required,
                                                  std::initializer_list<const char*> optional) {
  const auto fail = [&](const std::string& why) {
    throw InputError(what + ": " + why + " in '" + text.substr(0, 120) + "'");
  };
  const auto known = [](std::initializer_list<const char*> keys, const std::string& key) {
    for (const char* k : keys) {
      if (key == k) return true;
    }
    return false;
  };
  std::map<std::string, std::string> values;
  std::istringstream in(text);
  std::string item;
  while (std::getline(in, item, ';')) {
    const std::size_t eq = item.find('=');
    if (eq == std::string::npos) fail("expected key=value, found '" + item.substr(0, 40) + "'");
    const std::string key = item.substr(0, eq);
    if (!known(required, key) && !known(optional, key)) fail("unknown key '" + key.substr(0, 40) + "'");
    if (!values.emplace(key, item.substr(eq + 1)).second) fail("'" + key + "' given twice");
  }
  for (const char* key : required) {
    if (values.count(key) == 0) fail(std::string("missing '") + key + "'");
  }
  return values;
}

}  // namespace edgelstm::host
