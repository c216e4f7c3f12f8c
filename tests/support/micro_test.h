// A heap-free test harness with a GoogleTest-like surface, for the core's tests.
//
// The core's tests must also run on microcontrollers under QEMU, where GoogleTest cannot (it needs
// a heap, exceptions and iostream). This harness needs only printf: tests register themselves in a
// static intrusive list, failures are counted, and main() returns the count so a failed check
// fails the process on the host and on the target alike. Host-only tests (PyTorch parity, files)
// use GoogleTest instead.
#pragma once

#include <cmath>
#include <cstdio>
#include <cstring>

namespace edgelstm::test {

struct TestCase {
  const char* suite;
  const char* name;
  void (*body)();
  TestCase* next;
};

struct Registry {
  TestCase* head = nullptr;
  TestCase* tail = nullptr;
  int failed_checks = 0;
};

inline Registry& registry() {
  static Registry instance;
  return instance;
}

struct Registrar {
  Registrar(TestCase* test_case) {
    Registry& r = registry();
    if (r.tail == nullptr) {
      r.head = test_case;
    } else {
      r.tail->next = test_case;
    }
    r.tail = test_case;
  }
};

inline void report_failure(const char* file, int line, const char* message) {
  ++registry().failed_checks;
  std::printf("%s:%d: failure: %s\n", file, line, message);
}

// Runs every registered test whose "suite.name" contains `filter` (null: all). Returns the number
// of failed tests.
inline int run_all_tests(const char* filter) {
  int failed_tests = 0, run = 0;
  for (TestCase* t = registry().head; t != nullptr; t = t->next) {
    char full_name[160];
    std::snprintf(full_name, sizeof full_name, "%s.%s", t->suite, t->name);
    if (filter != nullptr && std::strstr(full_name, filter) == nullptr) continue;
    std::printf("[ RUN      ] %s\n", full_name);
    const int before = registry().failed_checks;
    t->body();
    ++run;
    if (registry().failed_checks != before) {
      ++failed_tests;
      std::printf("[  FAILED  ] %s\n", full_name);
    } else {
      std::printf("[       OK ] %s\n", full_name);
    }
  }
  std::printf("%d tests run, %d failed\n", run, failed_tests);
  if (run == 0) {
    std::printf("no test matched the filter\n");
    return 1;
  }
  return failed_tests;
}

}  // namespace edgelstm::test

#define EDGELSTM_TEST(suite, name)                                                           \
  static void suite##_##name##_body();                                                       \
  static ::edgelstm::test::TestCase suite##_##name##_case{#suite, #name, suite##_##name##_body, \
                                                          nullptr};                          \
  static const ::edgelstm::test::Registrar suite##_##name##_registrar(&suite##_##name##_case); \
  static void suite##_##name##_body()

// A failure message longer than its buffer is cut short on purpose (a long expression's text):
// GCC's -Wformat-truncation, an error under -Werror in some builds, is told so.
#if defined(__GNUC__) && !defined(__clang__)
#define EDGELSTM_TRUNCATION_ALLOWED_BEGIN \
  _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wformat-truncation\"")
#define EDGELSTM_TRUNCATION_ALLOWED_END _Pragma("GCC diagnostic pop")
#else
#define EDGELSTM_TRUNCATION_ALLOWED_BEGIN
#define EDGELSTM_TRUNCATION_ALLOWED_END
#endif

#define EDGELSTM_CHECK_IMPL(condition, on_failure, ...)                          \
  do {                                                                           \
    if (!(condition)) {                                                          \
      char edgelstm_message_[256];                                               \
      EDGELSTM_TRUNCATION_ALLOWED_BEGIN                                          \
      std::snprintf(edgelstm_message_, sizeof edgelstm_message_, __VA_ARGS__);   \
      EDGELSTM_TRUNCATION_ALLOWED_END                                            \
      ::edgelstm::test::report_failure(__FILE__, __LINE__, edgelstm_message_);   \
      on_failure;                                                                \
    }                                                                            \
  } while (false)

#define EXPECT_TRUE(condition) EDGELSTM_CHECK_IMPL((condition), (void)0, "expected %s", #condition)
#define ASSERT_TRUE(condition) EDGELSTM_CHECK_IMPL((condition), return, "expected %s", #condition)
// Integers of any type and signedness, compared as long long.
#define EXPECT_EQ_INT(a, b)                                                                 \
  EDGELSTM_CHECK_IMPL(static_cast<long long>(a) == static_cast<long long>(b), (void)0,      \
                      "%s == %s: %lld vs %lld", #a, #b, static_cast<long long>(a),          \
                      static_cast<long long>(b))
#define ASSERT_EQ_INT(a, b)                                                                 \
  EDGELSTM_CHECK_IMPL(static_cast<long long>(a) == static_cast<long long>(b), return,       \
                      "%s == %s: %lld vs %lld", #a, #b, static_cast<long long>(a),          \
                      static_cast<long long>(b))
#define EXPECT_OK(status)                                                                   \
  EDGELSTM_CHECK_IMPL((status) == ::edgelstm::Status::kOk, (void)0, "%s returned '%s'", #status, \
                      ::edgelstm::status_name(status))
#define ASSERT_OK(status)                                                                   \
  EDGELSTM_CHECK_IMPL((status) == ::edgelstm::Status::kOk, return, "%s returned '%s'", #status, \
                      ::edgelstm::status_name(status))
#define EXPECT_STATUS(status, expected)                                                     \
  EDGELSTM_CHECK_IMPL((status) == (expected), (void)0, "%s returned '%s', expected '%s'",   \
                      #status, ::edgelstm::status_name(status), ::edgelstm::status_name(expected))
#define EXPECT_NEAR(a, b, tolerance)                                                        \
  EDGELSTM_CHECK_IMPL(std::fabs(static_cast<double>(a) - static_cast<double>(b)) <=        \
                          static_cast<double>(tolerance),                                   \
                      (void)0, "|%s - %s| <= %g: %.9g vs %.9g", #a, #b,                     \
                      static_cast<double>(tolerance), static_cast<double>(a),               \
                      static_cast<double>(b))
#define EXPECT_LE(a, b)                                                                     \
  EDGELSTM_CHECK_IMPL((a) <= (b), (void)0, "%s <= %s: %.9g vs %.9g", #a, #b,                \
                      static_cast<double>(a), static_cast<double>(b))
#define EXPECT_LT(a, b)                                                                     \
  EDGELSTM_CHECK_IMPL((a) < (b), (void)0, "%s < %s: %.9g vs %.9g", #a, #b,                  \
                      static_cast<double>(a), static_cast<double>(b))
