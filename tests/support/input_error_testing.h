// The host tests' view of a refusal: the message of the InputError an action throws.
#pragma once

#include <string>

#include "host/input_error.h"

namespace edgelstm::test {

// The InputError message of `action`, or "" when it throws none.
template <typename Action>
std::string error_of(Action&& action) {
  try {
    action();
  } catch (const host::InputError& error) {
    return error.what();
  }
  return "";
}

}  // namespace edgelstm::test
