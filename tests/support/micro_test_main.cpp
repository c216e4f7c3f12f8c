// Entry point of the core test binary, on the host and on targets. argv[1], if given, filters
// tests by substring of "Suite.Name".
#include "micro_test.h"

int main(int argc, char** argv) {
  const int failed = edgelstm::test::run_all_tests(argc > 1 ? argv[1] : nullptr);
  return failed == 0 ? 0 : 1;
}
