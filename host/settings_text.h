// The "key=value;key=value" settings strings model files store (feature settings, split spans,
// Holt-Winters parameters, the early-stopping record), read in one way.
#pragma once

#include <initializer_list>
#include <map>
#include <string>

namespace edgelstm::host {

// The values of `text` by key: every `required` key exactly once, any of `optional` at most once,
// nothing else. Throws InputError "<what>: ..." quoting (at most 120 characters of) the text.
std::map<std::string, std::string> parse_settings(const std::string& text, const std::string& what,
                                                  std::initializer_list<const char*> required,
                                                  std::initializer_list<const char*> optional = {});

}  // namespace edgelstm::host
